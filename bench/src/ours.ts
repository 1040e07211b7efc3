import { MemoryStore, type SessionStore } from '@agent-sessions/core';
import { loadHistory } from '@agent-sessions/core/adapter';
import { PostgresStore } from '@agent-sessions/postgres';
import { MongoStore, NEVER, type HeaderDoc, type RunDoc } from '@agent-sessions/mongodb';
import { RedisStore } from '@agent-sessions/redis';
import { MongoClient } from 'mongodb';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { AGENT_ID, lengthTag, parallel, type Backend, type Contender, type ContenderFactory } from './contender.js';
import { sharedPglite } from './pglite.js';
import { turnCodec, turnItems, TURN_FORMAT, WINDOW_RUNS } from './turn.js';

/**
 * Our stores, used through the public API only: a turn is `loadHistory(store, ref, codec,
 * { lastRuns: 10 })` then `store.appendRun(...)`, exactly what `withSessionStorage` does
 * around an agent run.
 *
 * Long sessions are filled by a bulk path at the driver level that writes exactly the records
 * the store's appends would (a header at version = last seq = N, and runs 1..N), then checked
 * through the public API (`getSession` and the window) before anything is timed. A store
 * without a bulk path here is filled with appends through the API.
 */

function ref(key: string) {
  return { agentId: AGENT_ID, sessionId: key };
}

/** How a long session is filled: a driver-level bulk writer, or appends through the API, `width` at a time. */
type Fill = { bulk: (key: string, runs: number) => Promise<void> } | { width: number };

function storeContender(
  base: { id: string; label: string; backend: Backend },
  stores: SessionStore | ((key: string) => SessionStore),
  fill: Fill,
  close: () => Promise<void>,
): Contender {
  const storeFor = typeof stores === 'function' ? stores : () => stores;
  const load = (key: string) => loadHistory(storeFor(key), ref(key), turnCodec, { lastRuns: WINDOW_RUNS });
  return {
    ...base,
    role: 'ours',
    async populate(key, runs) {
      if ('bulk' in fill) await fill.bulk(key, runs);
      else {
        // Appends to one session may run concurrently: the store allocates seqs atomically.
        const store = storeFor(key);
        await parallel(runs, fill.width, (i) =>
          store.appendRun({ ...ref(key), format: TURN_FORMAT, items: turnItems(i + 1) }).then(() => {}),
        );
      }
      await verify(storeFor(key), key, runs);
    },
    async turn(key, n) {
      const t0 = performance.now();
      await load(key);
      const read = performance.now() - t0;
      await storeFor(key).appendRun({ ...ref(key), format: TURN_FORMAT, items: turnItems(n) });
      return read;
    },
    load,
    close,
  };
}

/** Fails unless the session reads back through the API as if `runs` appends had made it. */
async function verify(store: SessionStore, key: string, runs: number): Promise<void> {
  const session = await store.getSession(ref(key));
  const window = await loadHistory(store, ref(key), turnCodec, { lastRuns: WINDOW_RUNS });
  const seqs = window.runs.map((r) => r.seq);
  const expected = Array.from({ length: Math.min(runs, WINDOW_RUNS) }, (_, i) => runs - Math.min(runs, WINDOW_RUNS) + 1 + i);
  if (
    !session ||
    session.lastSeq !== runs ||
    session.version !== runs ||
    JSON.stringify(seqs) !== JSON.stringify(expected) ||
    window.items.length !== expected.length * 4
  ) {
    throw new Error(
      `${store.name}: session ${key} does not read back as ${runs} appended runs (lastSeq ${session?.lastSeq}, version ${session?.version}, window seqs ${seqs.join(',')}, ${window.items.length} items)`,
    );
  }
}

function runId(seq: number): string {
  return `run_${seq.toString(36)}_${Math.random().toString(36).slice(2, 12)}`;
}

// ---- memory ----

export const memoryOurs: ContenderFactory = {
  id: 'memory',
  label: 'MemoryStore',
  backend: 'memory',
  role: 'ours',
  async create() {
    const store = new MemoryStore();
    return storeContender(this, store, { width: 1 }, () => store.close());
  },
};

// ---- Postgres and PGlite: PostgresStore over an injected client ----

/**
 * Counts calls of the named methods on the client itself. The store gets the driver's own
 * object, not a wrapper: it recognises pg's Pool (to use named prepared statements) and PGlite
 * by their properties, and a wrapper would hide them.
 */
function countCalls<T extends object>(client: T, methods: (keyof T & string)[]): () => number {
  let calls = 0;
  const target = client as Record<string, unknown>;
  for (const m of methods) {
    const original = (target[m] as (...args: unknown[]) => unknown).bind(client);
    target[m] = (...args: unknown[]) => {
      calls++;
      return original(...args);
    };
  }
  return () => calls;
}

const PG_SCHEMA = 'bench';
const PG_SESSIONS = `"${PG_SCHEMA}"."agent_sessions_sessions"`;
const PG_RUNS = `"${PG_SCHEMA}"."agent_sessions_runs"`;

/** Writes the header and run rows appends would, in a few statements (see migrations.ts of @agent-sessions/postgres). */
function pgBulk(query: (t: string, p: unknown[]) => Promise<{ rows: unknown[] }>) {
  return async (key: string, runs: number) => {
    const now = Date.now();
    const { rows } = await query(
      `INSERT INTO ${PG_SESSIONS} (agent_id, session_id, user_id, created_at, updated_at, expires_at, ttl_ms, metadata, state, summary, version, last_seq)
       VALUES ($1, $2, NULL, $3, $3, NULL, NULL, '{}', '{}', NULL, $4, $4) RETURNING id`,
      [AGENT_ID, key, now, runs],
    );
    const pk = (rows[0] as { id: string | number }).id;
    for (let start = 1; start <= runs; start += 2000) {
      const seqs: number[] = [];
      const ids: string[] = [];
      const items: string[] = [];
      for (let seq = start; seq < Math.min(runs + 1, start + 2000); seq++) {
        seqs.push(seq);
        ids.push(runId(seq));
        items.push(JSON.stringify(turnItems(seq)));
      }
      await query(
        `INSERT INTO ${PG_RUNS} (session_pk, seq, run_id, created_at, status, format, items, usage, metadata)
         SELECT $1::bigint, s, r, $2::bigint, 'completed', $3::text, i::jsonb, NULL, NULL
         FROM unnest($4::bigint[], $5::text[], $6::text[]) AS u(s, r, i)`,
        [pk, now, TURN_FORMAT, seqs, ids, items],
      );
    }
  };
}

export const postgresOurs: ContenderFactory = {
  id: 'postgres',
  label: 'PostgresStore (pg.Pool)',
  backend: 'postgres',
  role: 'ours',
  async create(url) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pool.on('error', () => {});
    const raw = pool.query.bind(pool) as (t: string, p: unknown[]) => Promise<{ rows: unknown[] }>;
    const commands = countCalls(pool, ['query']);
    const store = new PostgresStore({ client: pool, schema: PG_SCHEMA });
    await store.getSession(ref('warm-up')); // runs the migrations
    const c = storeContender(this, store, { bulk: pgBulk(raw) }, async () => {
      await store.close();
      await pool.end();
    });
    return Object.assign(c, { commands });
  },
};

export const pgliteOurs: ContenderFactory = {
  id: 'pglite',
  label: 'PostgresStore (PGlite, in memory)',
  backend: 'pglite',
  role: 'ours',
  async create() {
    const db = await sharedPglite();
    const raw = db.query.bind(db);
    // One count for the instance the floor shares: round trips are counted one contender at a time.
    const commands = countCalls(db, ['query', 'exec']);
    const store = new PostgresStore({ client: db, schema: PG_SCHEMA });
    await store.getSession(ref('warm-up'));
    const c = storeContender(this, store, { bulk: pgBulk(async (t, p) => ({ rows: (await raw(t, p)).rows })) }, () => store.close());
    return Object.assign(c, { commands });
  },
};

// ---- Redis: RedisStore over an ioredis client ----

export const redisOurs: ContenderFactory = {
  id: 'redis',
  label: 'RedisStore (ioredis)',
  backend: 'redis',
  role: 'ours',
  async create(url) {
    const client = new Redis(url!, { maxRetriesPerRequest: 1 });
    client.on('error', () => {});
    // Count every command the client sends (a pipeline's commands each count once).
    let commands = 0;
    const send = client.sendCommand.bind(client);
    client.sendCommand = ((...args: Parameters<typeof send>) => {
      commands++;
      return send(...args);
    }) as typeof client.sendCommand;
    const store = new RedisStore({ client, prefix: 'bench:' });
    // Each append is one atomic script, so many may be in flight on one session.
    const c = storeContender(this, store, { width: 64 }, async () => {
      await store.close();
      client.disconnect();
    });
    return Object.assign(c, { commands: () => commands });
  },
};

// ---- MongoDB: MongoSessionStore over a MongoClient ----

/** One database per session length (see lengthTag). */
const mongoDb = (key: string) => `bench_as_${lengthTag(key)}`;

/** Writes the header and run documents appends would (see documents.ts of @agent-sessions/mongodb). */
function mongoBulk(client: MongoClient, suffix = '') {
  return async (key: string, count: number) => {
    const db = client.db(mongoDb(key) + suffix);
    const sessions = db.collection<HeaderDoc>('agent_sessions');
    const runs = db.collection<RunDoc>('agent_session_runs');
    const now = Date.now();
    const gen = randomBytes(9).toString('base64url');
    for (let start = 1; start <= count; start += 1000) {
      const batch: RunDoc[] = [];
      for (let seq = start; seq < Math.min(count + 1, start + 1000); seq++) {
        const items = turnItems(seq).map((i) => JSON.stringify(i));
        batch.push({
          agentId: AGENT_ID,
          sessionId: key,
          gen,
          runId: runId(seq),
          seq,
          base: seq - 1, // the header version the append of this run read
          createdAt: now,
          status: 'completed',
          format: TURN_FORMAT,
          items,
          n: items.length,
          usage: null,
          metadata: null,
          expiresAt: NEVER,
        });
      }
      await runs.insertMany(batch, { ordered: false });
    }
    await sessions.insertOne({
      _id: JSON.stringify([AGENT_ID, key]),
      agentId: AGENT_ID,
      sessionId: key,
      userId: null,
      gen,
      createdAt: now,
      updatedAt: now,
      expiresAt: null,
      ttlMs: null,
      runsExpireAt: NEVER,
      metadata: '{}',
      state: '{}',
      summary: null,
      version: count,
      lastSeq: count,
      pop: null,
    });
  };
}

/**
 * MongoStore over a MongoClient that counts commands. `atomicUpdates: true` forces the lock-free
 * compare-and-set path (what a real mongod gets from the probe) in databases of its own; on
 * FerretDB, which lacks atomic conditional updates, that is safe here because one writer drives
 * each session. FerretDB scans whole collections, so a long session's read takes longer than the
 * default call bound: the stores get a long one.
 */
function mongoFactory(id: string, label: string, atomicUpdates: true | undefined): ContenderFactory {
  const suffix = atomicUpdates ? '_cas' : '';
  return {
    id,
    label,
    backend: 'mongodb',
    role: 'ours',
    async create(url) {
      const client = new MongoClient(url!, { monitorCommands: true });
      await client.connect();
      let commands = 0;
      client.on('commandStarted', () => commands++);
      const stores = new Map<string, MongoStore>();
      const storeFor = (key: string) => {
        const database = mongoDb(key) + suffix;
        let s = stores.get(database);
        if (!s) stores.set(database, (s = new MongoStore({ client, database, atomicUpdates, timeoutMs: 300_000 })));
        return s;
      };
      const probe = storeFor('probe-lx-0');
      await probe.setup();
      const c = storeContender(this, storeFor, { bulk: mongoBulk(client, suffix) }, async () => {
        for (const s of stores.values()) await s.close();
        await client.close();
      });
      const { atomicUpdates: atomic, ttlIndex } = probe.serverFeatures;
      const notes = atomicUpdates
        ? 'atomic conditional updates forced: the path a real mongod takes'
        : `server features found by the store: atomic conditional updates ${atomic ? 'yes' : 'no (each write to a session takes a lock document)'}, TTL indexes ${ttlIndex ? 'yes' : 'no'}`;
      return Object.assign(c, { commands: () => commands, notes });
    },
  };
}

export const mongoOurs = mongoFactory('mongodb', 'MongoStore (mongodb driver)', undefined);
/** Measured for its round trips per turn only. */
export const mongoCasOurs = mongoFactory('mongodb-cas', 'MongoStore, lock-free path (atomicUpdates forced)', true);

// The first entry per backend is the one timed; later ones (mongodb-cas) are counted for round trips.
export const OURS: ContenderFactory[] = [memoryOurs, pgliteOurs, postgresOurs, redisOurs, mongoOurs, mongoCasOurs];
