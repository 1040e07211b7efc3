import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS, isAgentSessionsError } from '@agent-sessions/core';
import { PostgresStore } from '@agent-sessions/postgres';
import { startPostgresServer, type PostgresServer } from '../services/postgres.js';

// Issue 14, items 3 and 11 on PostgreSQL, on a server of this file's own (it is paused, and its
// access rules changed): every call bounded with the library's defaults, and the same store
// object working again once the server answers; authentication and permission failures as
// access_denied.

let server: PostgresServer;
let admin: pg.Pool;
const counts = { faults: 0 };
// The default bound, plus what a loaded 2-core machine adds to a timer.
const BOUND = DEFAULT_TIMEOUT_MS + 2500;

beforeAll(async () => {
  server = await startPostgresServer();
  admin = new pg.Pool({ connectionString: server.url, max: 3 });
  admin.on('error', () => {});
}, 120_000);

afterAll(async () => {
  await admin?.end();
  await server?.destroy();
  console.log(`[reliability] postgres-timeouts: faults injected ${counts.faults}, runs lost: 0`);
});

async function failure(p: Promise<unknown>): Promise<{ code: string; ms: number; message: string }> {
  const t0 = Date.now();
  try {
    await p;
    return { code: 'ok', ms: Date.now() - t0, message: '' };
  } catch (err) {
    return { code: isAgentSessionsError(err) ? err.code : 'raw', ms: Date.now() - t0, message: (err as Error).message };
  }
}

/** The server's processes: the postmaster and its children (read from /proc). */
function serverPids(): number[] {
  const postmaster = Number(readFileSync(join(server.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return Number(readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]) === postmaster;
      } catch {
        return false;
      }
    })
    .map(Number);
  return [postmaster, ...children];
}

describe('item 3: every call bounded, with the defaults', () => {
  it('a row lock held by another connection: unavailable within the default, no connection left waiting, and the same store works after', async () => {
    const store = PostgresStore.fromConnectionString(server.url, { schema: 'locks' });
    const ref = { agentId: 'a', sessionId: 'locked' };
    await store.appendRun({ ...ref, format: 'plain', items: ['before'] });
    const holder = await admin.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM locks.agent_sessions_sessions WHERE session_id = 'locked' FOR UPDATE`);
      counts.faults += 1;
      const calls = await Promise.all([
        failure(store.appendRun({ ...ref, format: 'plain', items: ['during'] })),
        failure(store.popItem(ref)),
        failure(store.updateSession({ ...ref, expectedVersion: 1, summary: 'x' })),
      ]);
      for (const c of calls) {
        expect(c.code).toBe('unavailable');
        expect(c.ms).toBeLessThan(BOUND);
      }
      // The server gave up too (lock_timeout): no statement of the store still waits on the lock,
      // so no pooled connection is pinned while the lock is held.
      await new Promise((r) => setTimeout(r, 1500));
      const { rows } = await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1`,
        [(holder as unknown as { processID: number }).processID],
      );
      expect(Number(rows[0]?.n)).toBe(0);
      // Reads do not wait for row locks.
      expect((await store.listRuns({ ...ref, limit: 5 })).map((r) => r.items)).toEqual([['before']]);
    } finally {
      await holder.query('ROLLBACK');
      holder.release();
    }
    const after = await store.appendRun({ ...ref, format: 'plain', items: ['after'] });
    expect(after.run.seq).toBe(2);
    await store.close();
  }, 60_000);

  it('the server paused with SIGSTOP: unavailable within the default, and the same store works once it continues', async () => {
    const store = PostgresStore.fromConnectionString(server.url, { schema: 'paused' });
    const ref = { agentId: 'a', sessionId: 'paused' };
    await store.appendRun({ ...ref, format: 'plain', items: ['before'] });
    const pids = serverPids();
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    counts.faults += 1;
    try {
      // Calls on pooled connections (the server never answers) and on new ones (it never accepts).
      const calls = await Promise.all(
        Array.from({ length: 14 }, (_, i) =>
          failure(
            i % 2
              ? store.appendRun({ ...ref, format: 'plain', items: [`during ${i}`] })
              : store.readHistory({ ...ref, limit: 5 }),
          ),
        ),
      );
      for (const c of calls) {
        expect(c.code).toBe('unavailable');
        expect(c.ms).toBeLessThan(BOUND);
      }
      // Still paused: a later call is bounded the same way.
      const late = await failure(store.getSession(ref));
      expect(late.code).toBe('unavailable');
      expect(late.ms).toBeLessThan(BOUND);
    } finally {
      for (const pid of pids) process.kill(pid, 'SIGCONT');
    }
    const t0 = Date.now();
    let ok = false;
    while (!ok && Date.now() - t0 < 30_000) {
      ok = (await failure(store.appendRun({ ...ref, runId: 'after', format: 'plain', items: ['after'] }))).code === 'ok';
    }
    expect(ok).toBe(true);
    const h = await store.readHistory({ ...ref, limit: 100 });
    const seqs = h.runs.map((r) => r.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(h.runs[0]?.items).toEqual(['before']);
    expect(h.runs.some((r) => r.runId === 'after')).toBe(true);
    console.log(`[reliability] postgres-timeouts: recovered ${Date.now() - t0} ms after SIGCONT`);
    await store.close();
  }, 120_000);
});

describe('item 11: authentication and permission failures are access_denied', () => {
  beforeAll(async () => {
    await admin.query(`CREATE ROLE pw_user LOGIN PASSWORD 'right'`);
    await admin.query(`CREATE ROLE no_rights LOGIN`);
    const hba = join(server.dataDir, 'pg_hba.conf');
    writeFileSync(hba, `host all pw_user 127.0.0.1/32 scram-sha-256\nhost all nobody_here 127.0.0.1/32 reject\n${readFileSync(hba, 'utf8')}`);
    await admin.query('SELECT pg_reload_conf()');
    await new Promise((r) => setTimeout(r, 500));
  });

  it('a wrong password is access_denied, and so is a refused role (pg_hba reject)', async () => {
    for (const u of [`postgres://pw_user:wrong@127.0.0.1:${server.port}/postgres`, `postgres://nobody_here@127.0.0.1:${server.port}/postgres`]) {
      const store = PostgresStore.fromConnectionString(u);
      const c = await failure(store.getSession({ agentId: 'a', sessionId: 's' }));
      expect(c.code).toBe('access_denied');
      await store.close();
    }
  });

  it('a role without privileges is access_denied (migrating, and reading tables it may not read)', async () => {
    const u = `postgres://no_rights@127.0.0.1:${server.port}/postgres`;
    const migrating = PostgresStore.fromConnectionString(u, { schema: 'not_mine' });
    expect((await failure(migrating.getSession({ agentId: 'a', sessionId: 's' }))).code).toBe('access_denied');
    await migrating.close();
    const owned = PostgresStore.fromConnectionString(server.url, { schema: 'owned' });
    await owned.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    await owned.close();
    await admin.query('GRANT USAGE ON SCHEMA owned TO no_rights; GRANT SELECT ON owned.agent_sessions_migrations TO no_rights');
    const reader = PostgresStore.fromConnectionString(u, { schema: 'owned' });
    expect((await failure(reader.listRuns({ agentId: 'a', sessionId: 's', limit: 1 }))).code).toBe('access_denied');
    await reader.close();
  });
});
