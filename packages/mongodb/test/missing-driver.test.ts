import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

// An application that installed @agent-sessions/core and this package but not the `mongodb`
// driver: a child process in a directory whose node_modules holds core (linked) and a copy of
// this package's build, and no `mongodb` anywhere it can resolve from.
const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const coreDir = resolve(pkgDir, '../core');
const app = mkdtempSync(join(tmpdir(), 'as-no-mongodb-'));
afterAll(() => rmSync(app, { recursive: true, force: true }));

function prepare(): void {
  for (const dir of [pkgDir, coreDir]) {
    if (!existsSync(join(dir, 'dist', 'index.js'))) execFileSync('pnpm', ['exec', 'tsup'], { cwd: dir, stdio: 'ignore' });
  }
  const scope = join(app, 'node_modules', '@agent-sessions');
  mkdirSync(join(scope, 'mongodb'), { recursive: true });
  symlinkSync(coreDir, join(scope, 'core'), 'dir');
  // A copy, not a link: a link would resolve `mongodb` from this repository's node_modules.
  cpSync(join(pkgDir, 'package.json'), join(scope, 'mongodb', 'package.json'));
  cpSync(join(pkgDir, 'dist'), join(scope, 'mongodb', 'dist'), { recursive: true });
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
}

function run(script: string): { code: string; name: string; message: string } {
  writeFileSync(join(app, 'main.mjs'), script);
  const out = execFileSync(process.execPath, ['main.mjs'], { cwd: app, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });
  return JSON.parse(out.trim().split('\n').pop() as string) as { code: string; name: string; message: string };
}

describe('without the mongodb driver installed', () => {
  prepare();

  it('the driver really is unresolvable from the application', () => {
    const res = run(`try { await import('mongodb'); console.log(JSON.stringify({ code: 'found', name: '', message: '' })); }
      catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message })); }`);
    expect(res.code).toBe('ERR_MODULE_NOT_FOUND');
  });

  it('createStore("mongodb://…") fails with a NotImplementedError naming the packages to install', () => {
    const res = run(`import { createStore, isAgentSessionsError } from '@agent-sessions/core';
      try { await createStore('mongodb://127.0.0.1:1/app'); console.log(JSON.stringify({ code: 'created' })); }
      catch (e) { console.log(JSON.stringify({ code: isAgentSessionsError(e) ? e.code : 'raw:' + e.code, name: e.name, message: e.message })); }`);
    expect(res.code).toBe('not_implemented');
    expect(res.name).toBe('NotImplementedError');
    expect(res.message).toContain('npm install @agent-sessions/mongodb mongodb');
  });
});
