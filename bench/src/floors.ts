import { Redis } from 'ioredis';
import { MongoClient, type Collection } from 'mongodb';
import pg from 'pg';
import { AGENT_ID, lengthTag, type Contender, type ContenderFactory } from './contender.js';
import { sharedPglite } from './pglite.js';
import { TURN_FORMAT, turnItems, WINDOW_RUNS } from './turn.js';
import type { JsonValue } from '@agent-sessions/core';

/**
 * The driver floors: the same turn written straight against the driver in the fewest round
 * trips there can be, one read of the latest 10 runs and one write of the new run, on a
 * record of the same shape our stores keep (run id, seq, time, status, format, items, usage,
 * metadata) under the same key. No session header, no idempotency check, no TTL: what is left
 * is what any store must pay.
 */

interface FloorRun {
  runId: string;
  seq: number;
  createdAt: number;
  status: string;
  format: string;
  items: JsonValue[];
  usage: null;
  metadata: null;
}

function newRun(seq: number, n: number): FloorRun {
  return {
    runId: `run_${seq}_${Math.random().toString(36).slice(2, 10)}`,
    seq,
    createdAt: Date.now(),
    status: 'completed',
    format: TURN_FORMAT,
    items: turnItems(n),
    usage: null,
    metadata: null,
  };
}

// ---- SQL (Postgres and PGlite share the statements) ----

const SQL_TABLE = `CREATE TABLE IF NOT EXISTS bench_floor_runs (
  agent_id text NOT NULL,
  session_id text NOT NULL,
  seq bigint NOT NULL,
  run_id text NOT NULL,
  created_at bigint NOT NULL,
  status text NOT NULL,
  format text NOT NULL,
  items jsonb NOT NULL,
  usage jsonb,
  metadata jsonb,
  PRIMARY KEY (agent_id, session_id, seq)
)`;
const SQL_READ = `SELECT run_id, seq, created_at, status, format, items, usage, metadata
  FROM bench_floor_runs WHERE agent_id = $1 AND session_id = $2 ORDER BY seq DESC LIMIT ${WINDOW_RUNS}`;
const SQL_INSERT = `INSERT INTO bench_floor_runs (agent_id, session_id, seq, run_id, created_at, status, format, items, usage, metadata)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`;

type Query = (text: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

/** pg: named statements, parsed and planned once per connection, as the cheapest driver code would. */
const PG_NAMES: Record<string, string> = { [SQL_READ]: 'bench_floor_read', [SQL_INSERT]: 'bench_floor_insert' };

function sqlFloor(id: string, label: string, backend: 'postgres' | 'pglite', run: Query, close: () => Promise<void>): Contender {
  let statements = 0;
  const query: Query = (t, p) => {
    statements++;
    return run(t, p);
  };
  const insertParams = (key: string, r: FloorRun) => [
    AGENT_ID, key, r.seq, r.runId, r.createdAt, r.status, r.format, JSON.stringify(r.items), null, null,
  ];
  return {
    id,
    label,
    backend,
    role: 'floor',
    async populate(key, runs) {
      // Multi-row INSERTs of 500: a bulk path that writes exactly the rows turns would.
      for (let start = 1; start <= runs; start += 500) {
        const rows: unknown[] = [];
        const values: string[] = [];
        for (let seq = start; seq < Math.min(runs + 1, start + 500); seq++) {
          const p = insertParams(key, newRun(seq, seq));
          values.push(`(${p.map((_, j) => `$${rows.length + j + 1}`).join(', ')})`);
          rows.push(...p);
        }
        await query(`INSERT INTO bench_floor_runs (agent_id, session_id, seq, run_id, created_at, status, format, items, usage, metadata) VALUES ${values.join(', ')}`, rows);
      }
      // The floor is the best the driver can do: with fresh statistics (PGlite never runs
      // autovacuum) the planner walks the primary key backwards instead of sorting the session.
      await query('ANALYZE bench_floor_runs');
    },
    async turn(key, n) {
      const t0 = performance.now();
      const { rows } = await query(SQL_READ, [AGENT_ID, key]);
      const window = rows.reverse();
      const read = performance.now() - t0;
      const last = Number(window[window.length - 1]?.seq ?? 0);
      await query(SQL_INSERT, insertParams(key, newRun(last + 1, n)));
      return read;
    },
    commands: () => statements,
    close,
  };
}

export const postgresFloor: ContenderFactory = {
  id: 'postgres/floor',
  label: 'Postgres floor (pg: 1 SELECT + 1 INSERT, prepared)',
  backend: 'postgres',
  role: 'floor',
  async create(url) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pool.on('error', () => {}); // an idle connection cut (the proxy closing) must not crash the run
    await pool.query(SQL_TABLE);
    return sqlFloor(
      this.id,
      this.label,
      'postgres',
      (text, values) => {
        const name = PG_NAMES[text];
        return name ? pool.query({ name, text, values: values ?? [] }) : pool.query(text, values);
      },
      () => pool.end(),
    );
  },
};

export const pgliteFloor: ContenderFactory = {
  id: 'pglite/floor',
  label: 'PGlite floor (1 SELECT + 1 INSERT)',
  backend: 'pglite',
  role: 'floor',
  async create() {
    const db = await sharedPglite();
    await db.exec(SQL_TABLE);
    return sqlFloor(
      this.id,
      this.label,
      'pglite',
      async (t, p) => ({ rows: (await db.query<Record<string, unknown>>(t, p)).rows }),
      async () => {}, // the shared database is closed once, at the end
    );
  },
};

// ---- Redis: one list per session, LRANGE the last 10 + RPUSH ----

export const redisFloor: ContenderFactory = {
  id: 'redis/floor',
  label: 'Redis floor (ioredis: 1 LRANGE + 1 RPUSH)',
  backend: 'redis',
  role: 'floor',
  async create(url) {
    const redis = new Redis(url!, { lazyConnect: true });
    await redis.connect();
    let commands = 0;
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((...args: Parameters<typeof send>) => {
      commands++;
      return send(...args);
    }) as typeof redis.sendCommand;
    const k = (key: string) => `bench-floor:${AGENT_ID}:${key}`;
    return {
      id: this.id,
      label: this.label,
      backend: 'redis',
      role: 'floor',
      async populate(key, runs) {
        for (let start = 1; start <= runs; start += 1000) {
          const batch: string[] = [];
          for (let seq = start; seq < Math.min(runs + 1, start + 1000); seq++) batch.push(JSON.stringify(newRun(seq, seq)));
          await redis.rpush(k(key), ...batch);
        }
      },
      async turn(key, n) {
        const t0 = performance.now();
        const raw = await redis.lrange(k(key), -WINDOW_RUNS, -1);
        const window = raw.map((s) => JSON.parse(s) as FloorRun);
        const read = performance.now() - t0;
        const last = window[window.length - 1]?.seq ?? 0;
        await redis.rpush(k(key), JSON.stringify(newRun(last + 1, n)));
        return read;
      },
      commands: () => commands,
      async close() {
        redis.disconnect();
      },
    };
  },
};

// ---- MongoDB: one document per run, find().sort().limit(10) + insertOne ----

export const mongoFloor: ContenderFactory = {
  id: 'mongodb/floor',
  label: 'MongoDB floor (driver: 1 find + 1 insertOne)',
  backend: 'mongodb',
  role: 'floor',
  async create(url) {
    const client = new MongoClient(url!, { monitorCommands: true });
    await client.connect();
    let commands = 0;
    client.on('commandStarted', () => commands++);
    const collections = new Map<string, Promise<Collection>>();
    const runsFor = (key: string) => {
      const tag = lengthTag(key);
      let c = collections.get(tag);
      if (!c) {
        const col = client.db('bench_floor').collection(`runs_${tag}`);
        c = col.createIndex({ agentId: 1, sessionId: 1, seq: -1 }, { unique: true }).then(() => col);
        collections.set(tag, c);
      }
      return c;
    };
    // Items as one JSON text each, as the store keeps them (keys of user JSON never become field names).
    const doc = (key: string, r: FloorRun) => ({ agentId: AGENT_ID, sessionId: key, ...r, items: r.items.map((i) => JSON.stringify(i)) });
    return {
      id: this.id,
      label: this.label,
      backend: 'mongodb',
      role: 'floor',
      async populate(key, count) {
        const runs = await runsFor(key);
        for (let start = 1; start <= count; start += 1000) {
          const batch = [];
          for (let seq = start; seq < Math.min(count + 1, start + 1000); seq++) batch.push(doc(key, newRun(seq, seq)));
          await runs.insertMany(batch, { ordered: false });
        }
      },
      async turn(key, n) {
        const t0 = performance.now();
        const runs = await runsFor(key);
        const docs = await runs.find({ agentId: AGENT_ID, sessionId: key }).sort({ seq: -1 }).limit(WINDOW_RUNS).toArray();
        const window = docs.reverse().map((d) => ({ seq: Number(d.seq), items: (d.items as string[]).map((i) => JSON.parse(i) as JsonValue) }));
        const read = performance.now() - t0;
        const last = window[window.length - 1]?.seq ?? 0;
        await runs.insertOne(doc(key, newRun(last + 1, n)));
        return read;
      },
      commands: () => commands,
      async close() {
        await client.close();
      },
    };
  },
};

export const FLOORS: ContenderFactory[] = [pgliteFloor, postgresFloor, redisFloor, mongoFloor];
