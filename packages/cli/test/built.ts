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
 * Builds the packages the bin loads whose dist is missing or older than their sources (`npm
 * test` builds everything first, so this usually does nothing).
 */
export function ensureBuilt(packages = ['core', 'postgres', 'redis', 'mongodb', 'cli']): void {
  for (const name of packages) {
    const dir = join(root, 'packages', name);
    const out = join(dir, 'dist', name === 'cli' ? 'cli.js' : 'index.js');
    if (existsSync(out) && statSync(out).mtimeMs >= newest(join(dir, 'src'))) continue;
    const res = spawnSync('pnpm', ['--filter', `./packages/${name}`, 'run', 'build'], { cwd: root, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`building packages/${name} failed:\n${res.stdout}\n${res.stderr}`);
  }
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
    env: { ...process.env, AGENT_SESSIONS_URL: '', ...opts.env },
    timeout: 60_000,
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}
