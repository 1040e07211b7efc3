// Shared by the README's commands: find or install pnpm, install the workspace, build it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const PNPM_VERSION = '10';

export function log(msg) {
  process.stdout.write(`\x1b[1m[agent-sessions]\x1b[0m ${msg}\n`);
}

/** Runs a command with inherited output; exits the process on failure unless `allowFail`. */
export function run(cmd, args, { allowFail = false, env, cwd = root, quiet = false } = {}) {
  const res = spawnSync(cmd, args, {
    cwd,
    stdio: quiet ? 'pipe' : 'inherit',
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  if (res.status !== 0 && !allowFail) {
    if (quiet) process.stderr.write(`${res.stdout ?? ''}${res.stderr ?? ''}`);
    log(`failed: ${cmd} ${args.join(' ')} (exit ${res.status ?? res.signal})`);
    process.exit(res.status || 1);
  }
  return res;
}

export function has(cmd, args = ['--version']) {
  const res = spawnSync(cmd, args, { stdio: 'pipe', encoding: 'utf8' });
  return res.status === 0;
}

/** pnpm on PATH, installed with npm if missing (corepack's signature check is not relied on). */
export function ensurePnpm() {
  if (has('pnpm')) return 'pnpm';
  log(`installing pnpm@${PNPM_VERSION} with npm`);
  const res = run('npm', ['install', '--global', `pnpm@${PNPM_VERSION}`], { allowFail: true });
  if (res.status === 0 && has('pnpm')) return 'pnpm';
  log('npm could not install pnpm globally; trying a user prefix');
  const prefix = join(root, '.tmp', 'pnpm');
  run('npm', ['install', '--prefix', prefix, `pnpm@${PNPM_VERSION}`]);
  const bin = join(prefix, 'node_modules', '.bin', 'pnpm');
  if (!existsSync(bin)) {
    log(`pnpm is missing: install it with 'npm i -g pnpm@${PNPM_VERSION}' and run this command again`);
    process.exit(1);
  }
  return bin;
}

/** Installs the workspace's dependencies (frozen lockfile on CI) and builds every package. */
export function installAndBuild(pnpm) {
  const frozen = existsSync(join(root, 'pnpm-lock.yaml')) ? ['--frozen-lockfile'] : [];
  log('installing dependencies');
  run(pnpm, ['install', ...frozen, '--reporter=append-only'], { quiet: true });
  log('building packages');
  run(pnpm, ['run', 'build'], { quiet: true });
}
