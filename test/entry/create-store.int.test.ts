import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { MemoryStore, createStore, type SessionStore } from '@agent-sessions/core';
import { PostgresStore } from '@agent-sessions/postgres';
import { RedisStore } from '@agent-sessions/redis';
import { MongoSessionStore } from '@agent-sessions/mongodb';

async function roundTrip(store: SessionStore): Promise<void> {
  const ref = { agentId: 'create-store', sessionId: `s-${Math.random().toString(36).slice(2)}` };
  try {
    await store.appendRun({ ...ref, format: 'plain', items: ['hello'] });
    const runs = await store.listRuns({ ...ref, limit: 5 });
    expect(runs.map((r) => r.items)).toEqual([['hello']]);
  } finally {
    await store.close();
  }
}

describe('createStore(url) picks the store from the scheme', () => {
  const pgUrl = () => inject('postgresUrl');
  const cases: [string, () => string, Function][] = [
    ['memory://', () => 'memory://', MemoryStore],
    ['postgres://', pgUrl, PostgresStore],
    ['postgresql://', () => pgUrl().replace(/^postgres:/, 'postgresql:'), PostgresStore],
    ['pglite://<dir>', () => `pglite://${mkdtempSync(join(tmpdir(), 'pglite-'))}`, PostgresStore],
    ['pglite:// (in memory)', () => 'pglite://', PostgresStore],
    ['redis://', () => inject('redisUrl'), RedisStore],
    ['mongodb://', () => inject('mongodbUrl'), MongoSessionStore],
  ];

  it.each(cases)('%s', async (_scheme, url, type) => {
    const store = await createStore(url());
    expect(store).toBeInstanceOf(type);
    await roundTrip(store);
  }, 60_000);

  it('passes the options on to the store', async () => {
    const store = await createStore(inject('redisUrl'), { prefix: 'opts-test:', ttl: '1h' });
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.session.ttlMs).toBe(3_600_000);
    await store.close();
  });
});

describe('createStore without the store package installed', () => {
  it('fails with an error naming the package and driver to install', async () => {
    // An application directory holding only the published core package (its built dist).
    const app = mkdtempSync(join(tmpdir(), 'as-app-'));
    writeFileSync(join(app, 'package.json'), '{"type":"module"}');
    mkdirSync(join(app, 'node_modules', '@agent-sessions'), { recursive: true });
    symlinkSync(fileURLToPath(new URL('../../packages/core', import.meta.url)), join(app, 'node_modules', '@agent-sessions', 'core'));
    const script = `
      import { createStore } from '@agent-sessions/core';
      for (const url of ['redis://localhost:6379', 'postgres://localhost/db', 'pglite://./data', 'mongodb+srv://cluster.example/db']) {
        try { await createStore(url); console.log('created?!'); }
        catch (e) { console.log(e.code + ' ' + e.message); }
      }`;
    // A clean environment: nothing of the test runner's own loader options reaches the child.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' };
    const res = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: app, env, timeout: 30_000 });
    expect(res.stderr).toBe('');
    expect(res.stdout.trim().split('\n')).toEqual([
      'not_implemented [agent-sessions] redis:// URLs need @agent-sessions/redis: npm install @agent-sessions/redis ioredis',
      'not_implemented [agent-sessions] postgres:// URLs need @agent-sessions/postgres: npm install @agent-sessions/postgres pg',
      'not_implemented [agent-sessions] pglite:// URLs need @agent-sessions/postgres: npm install @agent-sessions/postgres @electric-sql/pglite',
      'not_implemented [agent-sessions] mongodb+srv:// URLs need @agent-sessions/mongodb: npm install @agent-sessions/mongodb mongodb',
    ]);
  }, 60_000);
});
