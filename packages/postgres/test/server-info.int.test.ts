import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore } from '@agent-sessions/core';
import { PostgresStore, createStoreFromUrl } from '@agent-sessions/postgres';
import { postgresUrl } from './helpers.js';
import { capturingProvider, type Captured } from '../../../test/support/spans.js';

// Issue 18 for this store: the server its spans name (server.address, server.port,
// db.namespace) is the pool it opened, never credentials; createStoreFromUrl passes the common
// options (logger, telemetry, encryption) on.


const lite = new PGlite();
afterAll(async () => {
  await lite.close();
});

describe('PostgresStore serverInfo and common options from a URL', () => {
  it('a span names the host, port and database|schema of the URL; no user name or password anywhere', async () => {
    const spans: Captured[] = [];
    const store = PostgresStore.fromConnectionString('postgres://alice:s3cret-pw@db1.invalid:6543/appdb?sslmode=disable', {
      schema: 'agents',
      telemetry: { tracerProvider: capturingProvider(spans) },
      timeoutMs: 1500,
      pool: { connectionTimeoutMillis: 500 },
    });
    await expect(store.getSession({ agentId: 'a', sessionId: 's' })).rejects.toMatchObject({ code: 'unavailable' });
    await store.close();
    const span = spans.find((s) => s.name.startsWith('getSession'));
    expect(span?.attributes).toMatchObject({ 'server.address': 'db1.invalid', 'server.port': 6543, 'db.namespace': 'appdb|agents' });
    const all = JSON.stringify(spans);
    expect(all).not.toContain('alice');
    expect(all).not.toContain('s3cret');
  });

  it('the opened pool on the harness server is named as pg connected to it', async () => {
    const spans: Captured[] = [];
    const url = new URL(postgresUrl());
    const store = createStoreFromUrl(postgresUrl(), { telemetry: { tracerProvider: capturingProvider(spans) } });
    await store.getSession({ agentId: 'a', sessionId: 's' });
    await store.getSession({ agentId: 'a', sessionId: 's' });
    await store.close();
    const last = spans.filter((s) => s.name.startsWith('getSession')).at(-1);
    expect(last?.attributes['server.port']).toBe(Number(url.port || 5432));
    expect(String(last?.attributes['server.address'])).toBe(url.searchParams.get('host') ?? url.hostname);
    expect(String(last?.attributes['db.namespace'])).toMatch(/\|public$/);
    if (url.password) expect(JSON.stringify(spans)).not.toContain(url.password);
  });

  it('createStore / createStoreFromUrl pass logger, telemetry and encryption on (pglite:// and postgres://)', async () => {
    const key = Buffer.alloc(32, 7);
    const logged: string[] = [];
    const logger = { debug: (_f: unknown, m: string) => logged.push(m), info: (_f: unknown, m: string) => logged.push(m), warn: (_f: unknown, m: string) => logged.push(m), error: (_f: unknown, m: string) => logged.push(m) };
    for (const url of ['pglite://', postgresUrl()]) {
      const spans: Captured[] = [];
      const schema = `si_${Math.random().toString(36).slice(2, 8)}`;
      const store = await createStore(url, { schema, encryption: key, logger, telemetry: { tracerProvider: capturingProvider(spans) } });
      const r = { agentId: 'a', sessionId: 's' };
      await store.appendRun({ ...r, format: 'plain', items: ['top secret'] });
      expect((await store.listRuns({ ...r, limit: 1 }))[0]?.items).toEqual(['top secret']);
      expect(spans.some((s) => s.name.startsWith('appendRun'))).toBe(true);
      await expect(store.updateSession({ ...r, expectedVersion: 99, state: {} })).rejects.toMatchObject({ code: 'conflict' });
      expect(logged.length).toBeGreaterThan(0);
      // Stored sealed: a store over the same tables without the key reads envelopes, not the text.
      if (url !== 'pglite://') {
        const plain = await createStore(url, { schema });
        const sealed = await plain.listRuns({ ...r, limit: 1 });
        expect(sealed).toHaveLength(1);
        expect(JSON.stringify(sealed)).not.toContain('top secret');
        await plain.close();
      }
      await store.close();
    }
  });

  it('an injected client reports the schema only', async () => {
    const spans: Captured[] = [];
    const store = new PostgresStore({ client: lite, schema: 'inj', telemetry: { tracerProvider: capturingProvider(spans) } });
    await store.getSession({ agentId: 'a', sessionId: 's' });
    const span = spans.find((s) => s.name.startsWith('getSession'));
    expect(span?.attributes['db.namespace']).toBe('inj');
    expect(span?.attributes['server.address']).toBeUndefined();
  });
});
