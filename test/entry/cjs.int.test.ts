import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';

// A CommonJS application (require, the packages' CJS builds) gets each store from createStore,
// which loads the store package as ESM. The errors that store throws come from core's ESM build,
// yet the app's `isAgentSessionsError` and `instanceof AgentSessionsError` (CJS build) must hold,
// or the README's retry-on-conflict pattern never matches.
const root = fileURLToPath(new URL('../..', import.meta.url));
const app = join(root, 'test', 'entry', '.generated-cjs');
const run = promisify(execFile);

const script = `
const core = require('@agent-sessions/core');
const { createStore, isAgentSessionsError, AgentSessionsError, NotImplementedError } = core;
(async () => {
  const out = {};
  for (const url of JSON.parse(process.argv[2])) {
    const store = await createStore(url);
    const ref = { agentId: 'cjs', sessionId: 's-' + Math.random().toString(36).slice(2) };
    const res = await store.appendRun({ ...ref, format: 'plain', items: ['hi'] });
    const seen = {};
    try {
      await store.updateSession({ ...ref, expectedVersion: res.session.version + 5, state: {} });
    } catch (e) {
      seen.conflict = { is: isAgentSessionsError(e), isConflict: isAgentSessionsError(e, 'conflict'), instance: e instanceof AgentSessionsError, code: e.code };
    }
    try {
      await store.appendRun({ ...ref, format: 'plain', items: [] });
    } catch (e) {
      seen.invalid = { is: isAgentSessionsError(e), instance: e instanceof AgentSessionsError, code: e.code, notImpl: e instanceof NotImplementedError };
    }
    await store.close();
    out[url.split(':')[0]] = seen;
  }
  try {
    await createStore('memory://', { shema: 'x' });
  } catch (e) {
    out.unknownOption = { is: isAgentSessionsError(e, 'invalid_input') };
  }
  console.log(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

describe('a CommonJS application', () => {
  it('recognises the errors of every store it gets from createStore', async () => {
    rmSync(app, { recursive: true, force: true });
    mkdirSync(app, { recursive: true });
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'cjs-app', private: true, type: 'commonjs' }));
    writeFileSync(join(app, 'app.js'), script);
    const urls = [inject('postgresUrl'), inject('redisUrl'), inject('mongodbUrl'), 'memory://'];
    const { stdout } = await run(process.execPath, [join(app, 'app.js'), JSON.stringify(urls)], { cwd: app, timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').pop() as string) as Record<string, Record<string, Record<string, unknown>>>;
    for (const scheme of ['postgres', 'redis', 'mongodb', 'memory']) {
      expect(out[scheme]?.conflict).toEqual({ is: true, isConflict: true, instance: true, code: 'conflict' });
      expect(out[scheme]?.invalid).toEqual({ is: true, instance: true, code: 'invalid_input', notImpl: false });
    }
    expect(out.unknownOption).toEqual({ is: true });
  }, 90_000);
});
