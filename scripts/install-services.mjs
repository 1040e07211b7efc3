// Makes sure the database servers the tests start are on this machine: PostgreSQL and Redis
// from Debian's packages, and FerretDB (a MongoDB wire-protocol server) built with Go.
// Each is skipped when its URL is given in the environment.
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { has, log, run } from './lib.mjs';

export const FERRETDB_VERSION = 'v1.24.2';
export const TOOLS_DIR = process.env.AGENT_SESSIONS_TOOLS ?? join(homedir(), '.cache', 'agent-sessions', 'bin');

export function postgresBinDir() {
  if (has('initdb')) return undefined;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(base, versions[0], 'bin') : null;
}

function ferretdbPath() {
  const local = join(TOOLS_DIR, 'ferretdb');
  // `--version` also catches a binary built without version.txt, which panics on start.
  if (existsSync(local) && has(local, ['--version'])) return local;
  return has('ferretdb', ['--version']) ? 'ferretdb' : null;
}

// `go install …@v1.24.2` asks the module proxy for FerretDB's version list, which it refuses
// (403); a throwaway module that requires the exact version builds the same binary. The module
// zip lacks build/version/version.txt (it is generated in FerretDB's own builds), without which
// the binary panics on start, so the build uses a copy of the module with that file written.
function buildFerretdb() {
  const dir = join(TOOLS_DIR, '..', 'ferretdb-build');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const env = { GOFLAGS: '-mod=mod' };
  writeFileSync(join(dir, 'go.mod'), `module ferretdbbuild\n\ngo 1.22\n\nrequire github.com/FerretDB/FerretDB ${FERRETDB_VERSION}\n`);
  writeFileSync(join(dir, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "github.com/FerretDB/FerretDB/cmd/ferretdb"\n');
  log(`building FerretDB ${FERRETDB_VERSION} with Go (about a minute, once)`);
  const dl = run('go', ['mod', 'download', '-json', `github.com/FerretDB/FerretDB@${FERRETDB_VERSION}`], { cwd: dir, env, quiet: true });
  const src = join(dir, 'ferretdb-src');
  cpSync(JSON.parse(dl.stdout).Dir, src, { recursive: true });
  chmodRecursive(src);
  writeFileSync(join(src, 'build', 'version', 'version.txt'), `${FERRETDB_VERSION}\n`);
  writeFileSync(join(dir, 'go.mod'), `module ferretdbbuild\n\ngo 1.22\n\nrequire github.com/FerretDB/FerretDB ${FERRETDB_VERSION}\n\nreplace github.com/FerretDB/FerretDB => ./ferretdb-src\n`);
  run('go', ['build', '-o', join(TOOLS_DIR, 'ferretdb'), 'github.com/FerretDB/FerretDB/cmd/ferretdb'], { cwd: dir, env });
}

// The module cache is read-only; the copy must be writable to add version.txt and to be removed.
function chmodRecursive(path) {
  chmodSync(path, 0o755);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) chmodRecursive(p);
    else chmodSync(p, 0o644);
  }
}

export function ensureServices() {
  const apt = [];
  if (!process.env.POSTGRES_URL && postgresBinDir() === null) apt.push('postgresql');
  if ((!process.env.REDIS_URL || !process.env.REDIS_CLUSTER_NODES) && !has('redis-server')) apt.push('redis-server');
  if (apt.length > 0) {
    const root = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!root || !has('apt-get', ['--version'])) {
      log(`the tests need: ${apt.join(', ')}. Install them (on Debian: sudo apt-get install -y ${apt.join(' ')}), or set POSTGRES_URL / REDIS_URL to servers of your own, and run again.`);
      process.exit(1);
    }
    log(`installing ${apt.join(', ')} from Debian's packages`);
    run('apt-get', ['update', '-qq'], { quiet: true });
    run('apt-get', ['install', '-y', '-qq', ...apt], { quiet: true, env: { DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (!process.env.MONGODB_URL && ferretdbPath() === null) {
    if (!has('go', ['version'])) {
      log('the MongoDB tests need a server: set MONGODB_URL, or install Go so FerretDB can be built, and run again.');
      process.exit(1);
    }
    buildFerretdb();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) ensureServices();
