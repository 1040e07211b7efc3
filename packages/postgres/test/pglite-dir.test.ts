import { mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createStore } from '@agent-sessions/core';

it('pglite://<dir> creates missing parent directories', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'pgl-')), 'a', 'b', 'sessions');
  const store = await createStore(`pglite://${dir}`);
  await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
  await store.close();
  expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
}, 60_000);
