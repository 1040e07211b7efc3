import { mapChatMessagesToStoredMessages, type BaseMessage, type StoredMessage } from '@langchain/core/messages';
import { PostgresChatMessageHistory } from '@langchain/community/stores/message/postgres';
import { emptyCheckpoint, uuid6, type BaseCheckpointSaver, type Checkpoint } from '@langchain/langgraph-checkpoint';
import { MongoDBSaver } from '@langchain/langgraph-checkpoint-mongodb';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { MongoDBChatMessageHistory } from '@langchain/mongodb';
import { RedisChatMessageHistory } from '@langchain/redis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import { createClient } from 'redis';
import { lengthTag, type Contender, type ContenderFactory } from './contender.js';
import { turnMessages } from './turn.js';

/**
 * The peers, used through their public APIs exactly as their docs show. A turn is what each
 * one needs to serve the same agent turn: read the history (a chat history has no window, it
 * reads everything: `getMessages()`), then add the turn's four messages (`addMessages`). For a
 * LangGraph checkpointer it is `getTuple` (the thread's latest state) and one `put` of the
 * next checkpoint with the four messages appended: the least a graph does per turn (a real
 * graph run also writes a checkpoint per step and `putWrites` per task, so this favours them).
 *
 * Populating uses a driver-level bulk path that writes exactly the records the peer writes
 * (the chat histories), or the peer's own `put` (the checkpointers: one checkpoint holding the
 * whole history, where a real thread would also have one older checkpoint per step).
 */

function stored(messages: BaseMessage[]) {
  return mapChatMessagesToStoredMessages(messages);
}

function historyOf(runs: number, offset = 0): BaseMessage[] {
  const out: BaseMessage[] = [];
  for (let i = 0; i < runs; i++) out.push(...turnMessages(offset + i));
  return out;
}


// ---- LangChain chat message histories ----

export const langchainRedisHistory: ContenderFactory = {
  id: 'redis/langchain-history',
  label: '@langchain/redis RedisChatMessageHistory',
  backend: 'redis',
  role: 'peer',
  async create(url) {
    const client = createClient({ url: url! });
    await client.connect();
    return {
      id: this.id,
      label: this.label,
      backend: this.backend,
      role: this.role,
      async populate(key, runs) {
        const k = `bench-lc:${key}`;
        // The history LPUSHes each message (newest at the head); LPUSH of many values does the same.
        for (let start = 0; start < runs; start += 250) {
          const values = stored(historyOf(Math.min(250, runs - start), start)).map((m) => JSON.stringify(m));
          await client.lPush(k, values);
        }
      },
      async turn(key, n) {
        const t0 = performance.now();
        const history = new RedisChatMessageHistory({ sessionId: `bench-lc:${key}`, client });
        await history.getMessages();
        const read = performance.now() - t0;
        await history.addMessages(turnMessages(n));
        return read;
      },
      async close() {
        await client.quit();
      },
    };
  },
};

export const langchainPostgresHistory: ContenderFactory = {
  id: 'postgres/langchain-history',
  label: '@langchain/community PostgresChatMessageHistory',
  backend: 'postgres',
  role: 'peer',
  async create(url) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pool.on('error', () => {}); // an idle connection cut (the proxy closing) must not crash the run
    // The peer creates its table on first use (CREATE TABLE IF NOT EXISTS, which races when
    // several instances start at once: "relation already exists"); here one instance per table
    // does it before any other is made.
    const tables = new Map<string, Promise<void>>();
    const history = async (key: string) => {
      const tableName = `bench_lc_history_${lengthTag(key)}`;
      let ready = tables.get(tableName);
      if (!ready) {
        ready = new PostgresChatMessageHistory({ tableName, sessionId: key, pool }).getMessages().then(() => {});
        tables.set(tableName, ready);
      }
      await ready;
      return { h: new PostgresChatMessageHistory({ tableName, sessionId: key, pool }), tableName };
    };
    return {
      id: this.id,
      label: this.label,
      backend: this.backend,
      role: this.role,
      async populate(key, runs) {
        const { tableName } = await history(key);
        for (let start = 0; start < runs; start += 250) {
          const rows = stored(historyOf(Math.min(250, runs - start), start)).map(({ data, type }) => ({ ...data, type }));
          const params: unknown[] = [];
          const values = rows.map((m) => {
            params.push(key, m);
            return `($${params.length - 1}, $${params.length})`;
          });
          await pool.query(`INSERT INTO ${tableName} (session_id, message) VALUES ${values.join(', ')}`, params);
        }
      },
      async turn(key, n) {
        const t0 = performance.now();
        const { h } = await history(key);
        await h.getMessages();
        const read = performance.now() - t0;
        await h.addMessages(turnMessages(n));
        return read;
      },
      async close() {
        await pool.end();
      },
    };
  },
};

export const langchainMongoHistory: ContenderFactory = {
  id: 'mongodb/langchain-history',
  label: '@langchain/mongodb MongoDBChatMessageHistory',
  backend: 'mongodb',
  role: 'peer',
  async create(url) {
    const client = new MongoClient(url!);
    await client.connect();
    const db = client.db('bench_langchain');
    return {
      id: this.id,
      label: this.label,
      backend: this.backend,
      role: this.role,
      async populate(key, runs) {
        const collection = db.collection<{ sessionId: string; messages: StoredMessage[] }>(`histories_${lengthTag(key)}`);
        // One document per session with a `messages` array, as addMessage's $push builds it.
        for (let start = 0; start < runs; start += 250) {
          const messages = stored(historyOf(Math.min(250, runs - start), start));
          await collection.updateOne({ sessionId: key }, { $push: { messages: { $each: messages } } }, { upsert: true });
        }
      },
      async turn(key, n) {
        const t0 = performance.now();
        const collection = db.collection(`histories_${lengthTag(key)}`);
        // The peer's types name mongodb 6's Collection; the object is the same at run time.
        const history = new MongoDBChatMessageHistory({ collection: collection as never, sessionId: key });
        await history.getMessages();
        const read = performance.now() - t0;
        await history.addMessages(turnMessages(n));
        return read;
      },
      async close() {
        await client.close();
      },
    };
  },
};

// ---- LangGraph checkpointers ----

function checkpointer(
  saverFor: (key: string) => Promise<BaseCheckpointSaver>,
  base: Pick<Contender, 'id' | 'label' | 'backend' | 'role'>,
  close: () => Promise<void>,
): Contender {
  const config = (key: string) => ({ configurable: { thread_id: key, checkpoint_ns: '' } });
  const next = (prev: Checkpoint | undefined, messages: BaseMessage[]): { checkpoint: Checkpoint; version: number } => {
    const version = Number(prev?.channel_versions.messages ?? 0) + 1;
    const checkpoint: Checkpoint = {
      ...emptyCheckpoint(),
      id: uuid6(-1),
      ts: new Date().toISOString(),
      channel_values: { messages },
      channel_versions: { messages: version },
      versions_seen: { agent: { messages: version } },
    };
    return { checkpoint, version };
  };
  return {
    ...base,
    async populate(key, runs) {
      const saver = await saverFor(key);
      const { checkpoint, version } = next(undefined, historyOf(runs));
      await saver.put(config(key), checkpoint, { source: 'loop', step: runs, parents: {} }, { messages: version });
    },
    async turn(key, n) {
      const t0 = performance.now();
      const saver = await saverFor(key);
      const tuple = await saver.getTuple(config(key));
      const old = (tuple?.checkpoint.channel_values.messages as BaseMessage[] | undefined) ?? [];
      const read = performance.now() - t0;
      const { checkpoint, version } = next(tuple?.checkpoint, [...old, ...turnMessages(n)]);
      await saver.put(tuple?.config ?? config(key), checkpoint, { source: 'loop', step: n, parents: {} }, { messages: version });
      return read;
    },
    close,
  };
}

export const langgraphPostgres: ContenderFactory = {
  id: 'postgres/langgraph-checkpoint',
  label: '@langchain/langgraph-checkpoint-postgres PostgresSaver',
  backend: 'postgres',
  role: 'peer',
  async create(url) {
    const pool = new pg.Pool({ connectionString: url, max: 10 });
    pool.on('error', () => {}); // an idle connection cut (the proxy closing) must not crash the run
    await pool.query('CREATE SCHEMA IF NOT EXISTS bench_langgraph');
    const saver = new PostgresSaver(pool, undefined, { schema: 'bench_langgraph' });
    await saver.setup();
    return checkpointer(async () => saver, this, () => pool.end());
  },
};

export const langgraphMongo: ContenderFactory = {
  id: 'mongodb/langgraph-checkpoint',
  label: '@langchain/langgraph-checkpoint-mongodb MongoDBSaver',
  backend: 'mongodb',
  role: 'peer',
  async create(url) {
    const client = new MongoClient(url!);
    await client.connect();
    const savers = new Map<string, Promise<MongoDBSaver>>();
    const saverFor = (key: string) => {
      const tag = lengthTag(key);
      let s = savers.get(tag);
      if (!s) {
        s = (async () => {
          const saver = new MongoDBSaver({ client: client as never, dbName: `bench_langgraph_${tag}` });
          const errors = await saver.setup();
          if (errors.length > 0) throw errors[0];
          return saver;
        })();
        savers.set(tag, s);
      }
      return s;
    };
    return checkpointer(saverFor, this, () => client.close());
  },
};

export const PEERS: ContenderFactory[] = [
  langchainPostgresHistory,
  langgraphPostgres,
  langchainRedisHistory,
  langchainMongoHistory,
  langgraphMongo,
];
