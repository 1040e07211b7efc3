import { createServer, type Server, type Socket } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAgentSessionsError } from '@agent-sessions/core';
import { DEFAULT_CONNECTION_TIMEOUT_MS, PostgresStore, classifyPgError } from '@agent-sessions/postgres';
import { startPostgresServer, type PostgresServer } from '../../../test/services/postgres.js';
import { randomSchema, testPool } from './helpers.js';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isAgentSessionsError(err)) return err.code;
    throw err;
  }
  return 'ok';
}

// A server of this file's own, so stopping it disturbs no other test file.
describe('a server outage', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgresServer();
  }, 120_000);
  afterAll(async () => {
    await server?.destroy();
  });

  it('fromConnectionString: calls fail with unavailable while the server is down, and the same store works after', async () => {
    const schema = randomSchema('outage');
    const store = PostgresStore.fromConnectionString(server.url, { schema });
    const ref = { agentId: 'a', sessionId: 's' };
    expect((await store.appendRun({ ...ref, format: 'plain', items: ['before'] })).run.seq).toBe(1);
    await server.stop();
    const t0 = Date.now();
    expect(await codeOf(store.appendRun({ ...ref, format: 'plain', items: ['during'] }))).toBe('unavailable');
    expect(await codeOf(store.listRuns({ ...ref, limit: 10 }))).toBe('unavailable');
    expect(await codeOf(store.getSession(ref))).toBe('unavailable');
    expect(Date.now() - t0).toBeLessThan(DEFAULT_CONNECTION_TIMEOUT_MS);
    await server.start();
    expect((await store.appendRun({ ...ref, format: 'plain', items: ['after'] })).run.seq).toBe(2);
    expect((await store.listRuns({ ...ref, limit: 10 })).map((r) => r.items)).toEqual([['before'], ['after']]);
    await store.close();
  }, 60_000);

  it('an injected pg.Pool: the same, with errors classified as unavailable', async () => {
    const schema = randomSchema('outage');
    const pool = testPool(server.url, 4);
    const store = new PostgresStore({ client: pool, schema });
    const ref = { agentId: 'a', sessionId: 's' };
    await store.appendRun({ ...ref, format: 'plain', items: ['before'] });
    await server.restart(); // open pool connections are cut by the fast shutdown
    await store.appendRun({ ...ref, format: 'plain', items: ['after restart'] }).catch((err: unknown) => {
      // A pooled connection that died with the old server may fail the first call; it must say so.
      expect(isAgentSessionsError(err, 'unavailable')).toBe(true);
    });
    await server.stop();
    expect(await codeOf(store.popItem(ref))).toBe('unavailable');
    await server.start();
    const runs = await store.listRuns({ ...ref, limit: 10 });
    expect(runs[0]?.items).toEqual(['before']);
    expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
    await pool.end();
  }, 60_000);

  it('a store first used while the server is down migrates once it is back', async () => {
    const schema = randomSchema('outage');
    await server.stop();
    const store = PostgresStore.fromConnectionString(server.url, { schema });
    const ref = { agentId: 'a', sessionId: 's' };
    expect(await codeOf(store.appendRun({ ...ref, format: 'plain', items: ['x'] }))).toBe('unavailable');
    await server.start();
    expect((await store.appendRun({ ...ref, format: 'plain', items: ['x'] })).run.seq).toBe(1);
    await store.close();
  }, 60_000);
});

describe('a server that accepts connections and never answers', () => {
  let silent: Server;
  let port = 0;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    silent = createServer((s) => {
      sockets.push(s);
      s.on('error', () => {});
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    port = (silent.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
  });

  it('fails fast with unavailable after the connection timeout', async () => {
    const store = PostgresStore.fromConnectionString(`postgres://u@127.0.0.1:${port}/db`, {
      pool: { connectionTimeoutMillis: 300 },
    });
    const t0 = Date.now();
    expect(await codeOf(store.getSession({ agentId: 'a', sessionId: 's' }))).toBe('unavailable');
    expect(Date.now() - t0).toBeLessThan(3000);
    await store.close();
  });

  it(`the default connection timeout is finite (${DEFAULT_CONNECTION_TIMEOUT_MS} ms)`, async () => {
    const store = PostgresStore.fromConnectionString(`postgres://u@127.0.0.1:${port}/db`);
    const t0 = Date.now();
    expect(await codeOf(store.getSession({ agentId: 'a', sessionId: 's' }))).toBe('unavailable');
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(DEFAULT_CONNECTION_TIMEOUT_MS - 100);
    expect(took).toBeLessThan(DEFAULT_CONNECTION_TIMEOUT_MS + 3000);
    await store.close();
  }, 20_000);

  it('a port nobody listens on fails with unavailable at once', async () => {
    const free = createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const closedPort = (free.address() as { port: number }).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const store = PostgresStore.fromConnectionString(`postgres://u@127.0.0.1:${closedPort}/db`);
    expect(await codeOf(store.listRuns({ agentId: 'a', sessionId: 's', limit: 1 }))).toBe('unavailable');
    await store.close();
  });
});

describe('classifyPgError', () => {
  const err = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);
  it.each([
    ['ECONNREFUSED', err({ code: 'ECONNREFUSED' })],
    ['ECONNRESET', err({ code: 'ECONNRESET' })],
    ['ETIMEDOUT', err({ code: 'ETIMEDOUT' })],
    ['57P01 admin shutdown', err({ code: '57P01' })],
    ['57P03 starting up', err({ code: '57P03' })],
    ['08006 connection failure', err({ code: '08006' })],
    ['08001 cannot connect', err({ code: '08001' })],
    ['57014 statement timeout', err({ code: '57014' })],
    ['53300 too many connections', err({ code: '53300' })],
    ['Connection terminated unexpectedly', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['Connection terminated due to connection timeout', new Error('Connection terminated due to connection timeout')],
    ['an AggregateError of refused connections', new AggregateError([err({ code: 'ECONNREFUSED' })], '')],
    ['a cause chain', new Error('wrapped', { cause: err({ code: 'ECONNRESET' }) })],
  ])('%s is unavailable', (_what, e) => {
    expect(classifyPgError(e)).toBe('unavailable');
  });

  it.each([
    ['a syntax error', err({ code: '42601' })],
    ['an undefined table', err({ code: '42P01' })],
    ['a unique violation', err({ code: '23505' })],
    ['a plain error', new Error('boom')],
    ['a string', 'nope'],
  ])('%s is left unclassified (internal)', (_what, e) => {
    expect(classifyPgError(e)).toBeUndefined();
  });

  it('a closed PGlite database is unavailable', async () => {
    const db = new PGlite();
    const store = new PostgresStore({ client: db });
    await store.getSession({ agentId: 'a', sessionId: 's' });
    await db.close();
    expect(await codeOf(store.getSession({ agentId: 'a', sessionId: 's' }))).toBe('unavailable');
  }, 60_000);
});
