import { MongoClient } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MongoStore } from '@agent-sessions/mongodb';
import { capturingProvider, type Captured } from '../../../test/support/spans.js';

// The server a MongoStore names in its spans (server.address, server.port, db.namespace): the
// client's first seed and the database, never credentials. No server is needed: a call to a
// host that does not resolve still makes its span.

const serverInfo = (store: MongoStore) => (store as unknown as { serverInfo(): unknown }).serverInfo();

describe('MongoStore serverInfo', () => {
  it('a span names the first seed host and port and the database; no user name or password anywhere', async () => {
    const spans: Captured[] = [];
    const store = MongoStore.fromConnectionString('mongodb://alice:s3cret-pw@db1.invalid:27018,db2.invalid:27019/appdb?authSource=admin', {
      telemetry: { tracerProvider: capturingProvider(spans) },
      timeoutMs: 500,
      clientOptions: { serverSelectionTimeoutMS: 200 },
    });
    try {
      await expect(store.getSession({ agentId: 'a', sessionId: 's' })).rejects.toMatchObject({ code: 'unavailable' });
    } finally {
      await store.close();
    }
    expect(spans.length).toBeGreaterThan(0);
    expect(spans[0]!.attributes).toMatchObject({ 'server.address': 'db1.invalid', 'server.port': 27018, 'db.namespace': 'appdb' });
    expect(spans[0]!.name).toBe('getSession appdb');
    expect(JSON.stringify(spans)).not.toMatch(/alice|s3cret/);
  });

  it('is computed once; default port 27017; an injected db names its own database; a socket path; an SRV name', async () => {
    const a = MongoStore.fromConnectionString('mongodb://bob:pw@only.invalid/somedb');
    expect(serverInfo(a)).toEqual({ address: 'only.invalid', port: 27017, namespace: 'somedb' });
    expect(serverInfo(a)).toBe(serverInfo(a));
    await a.close();

    const client = new MongoClient('mongodb://h.invalid:27020');
    expect(serverInfo(new MongoStore({ db: client.db('injected') }))).toEqual({ address: 'h.invalid', port: 27020, namespace: 'injected' });
    expect(serverInfo(new MongoStore({ client, database: 'other' }))).toEqual({ address: 'h.invalid', port: 27020, namespace: 'other' });
    await client.close();

    const sock = new MongoClient('mongodb://%2Ftmp%2Fmongodb-27017.sock/db');
    expect(serverInfo(new MongoStore({ client: sock, database: 'db' }))).toEqual({ address: '/tmp/mongodb-27017.sock', namespace: 'db' });
    await sock.close();

    const srv = new MongoClient('mongodb+srv://carol:pw@cluster0.example.invalid/x');
    const info = serverInfo(new MongoStore({ client: srv, database: 'x' }));
    expect(info).toEqual({ address: 'cluster0.example.invalid', namespace: 'x' });
    expect(JSON.stringify(info)).not.toMatch(/carol|pw/);
    await srv.close();
  });
});
