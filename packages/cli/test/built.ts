import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
/** The built bin, as `npx agent-sessions` runs it. */
export const BIN = join(root, 'packages/cli/dist/cli.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds the bin when its dist is missing or older than its sources. The packages it loads
 * (core and the stores) belong to other owners and are built by `npm test` before any test
 * runs; they are only checked here, never rebuilt, so a test never rebuilds someone else's
 * work in progress.
 */
export function ensureBuilt(): void {
  for (const name of ['core', 'postgres', 'redis', 'mongodb']) {
    if (!existsSync(join(root, 'packages', name, 'dist', 'index.js'))) {
      throw new Error(`packages/${name}/dist is missing: run \`pnpm build\` (npm test does) before these tests`);
    }
  }
  const dir = join(root, 'packages', 'cli');
  const out = join(dir, 'dist', 'cli.js');
  if (existsSync(out) && statSync(out).mtimeMs >= newest(join(dir, 'src'))) return;
  const res = spawnSync('pnpm', ['--filter', './packages/cli', 'run', 'build'], { cwd: root, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`building packages/cli failed:\n${res.stdout}\n${res.stderr}`);
}

/**
 * The environment of a shell: `pnpm exec` sets NODE_PATH to its whole store, which would let
 * the bin find packages a user's install would not have.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_PATH: _p, AGENT_SESSIONS_URL: _u, ...env } = process.env;
  return { ...env, ...extra };
}

export interface BinResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built bin in a child process (from `cwd`, default a directory with no node_modules). */
export function bin(args: string[], opts: { input?: string; env?: Record<string, string>; cwd?: string } = {}): BinResult {
  const res = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? '/',
    encoding: 'utf8',
    input: opts.input ?? '',
    env: cleanEnv(opts.env),
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}
