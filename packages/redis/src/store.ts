import type IORedis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { AgentSessionsError, SessionStore, isAfterCursor, isExpired, type AppendRunResult, type ErrorCode, type NormalizedAppend, type NormalizedCreate, type NormalizedList, type NormalizedListRuns, type NormalizedPrune, type NormalizedRead, type NormalizedUpdate, type NormalizedWrite, type PoppedItem, type PruneResult, type Run, type SessionHeader, type StoreCapabilities, type StoreOptions } from '@agent-sessions/core/store';
import { clientKeyPrefix, isCluster, type RedisClient } from './client.js';
import { decodeHeader, decodeRun, encodeRun, HEADER_FIELDS, type Reply } from './codec.js';
import { connect } from './connect.js';
import { classifyRedisError } from './errors.js';
import { DEFAULT_PREFIX, encodeId, KeyLayout } from './keys.js';
import { APPEND } from './lua/append.js';
import { CREATE } from './lua/create.js';
import { DELETE } from './lua/delete.js';
import { INDEX } from './lua/index-ops.js';
import { POP } from './lua/pop.js';
import { PRUNE } from './lua/prune.js';
import { READ } from './lua/read.js';
import { UPDATE } from './lua/update.js';
import { LuaScript, runScript } from './scripts.js';

const SCRIPTS = {
  append: new LuaScript('append', APPEND),
  read: new LuaScript('read', READ),
  create: new LuaScript('create', CREATE),
  update: new LuaScript('update', UPDATE),
  delete: new LuaScript('delete', DELETE),
  pop: new LuaScript('pop', POP),
  prune: new LuaScript('prune', PRUNE),
  index: new LuaScript('index', INDEX),
};

// Reply layout of the session scripts: [status, 12 header fields, indexed flag, extras...].
const HEADER_AT = 1;
const INDEXED_AT = 13;
const EXTRA_AT = 14;
// The prune script removes at most this many runs per call.
const PRUNE_BATCH = 1000;

export interface RedisStoreOptions extends StoreOptions {
  /** An ioredis client: a standalone `Redis` or a `Cluster`. The store never closes it. Required. */
  client: RedisClient;
  /** Prepended to every key. Must not contain `{` or `}`. Default: `as:`. */
  prefix?: string | undefined;
}

export interface RedisConnectionOptions extends StoreOptions {
  /** Prepended to every key. Must not contain `{` or `}`. Default: `as:`. */
  prefix?: string | undefined;
  /** ioredis options, applied over `REDIS_CONNECTION_DEFAULTS`. Default: none. */
  redis?: RedisOptions | undefined;
}

interface IndexEntry {
  sessionId: string;
  score: number;
}

const newestFirst = (a: SessionHeader, b: SessionHeader): number =>
  b.updatedAt - a.updatedAt || (a.sessionId < b.sessionId ? 1 : a.sessionId > b.sessionId ? -1 : 0);

function entries(raw: string[]): IndexEntry[] {
  const out: IndexEntry[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push({ sessionId: raw[i] as string, score: Number(raw[i + 1]) });
  return out;
}

const ttlArg = (ttlMs: number | null): string => (ttlMs === null ? '' : String(ttlMs));

/**
 * A session store on Redis over an ioredis client, standalone or Cluster.
 *
 * Every operation on a session is one Lua script over the session's keys, which share a hash
 * slot: atomic, and one round trip. The listing indexes (per agent, per user) live in the
 * agent's slot; on a standalone server the session scripts update them in the same call, in a
 * cluster the store updates them with a second call right after (see the README).
 */
export class RedisStore extends SessionStore {
  readonly name = 'redis';
  readonly capabilities: StoreCapabilities = { nativeTtl: true };
  /** The ioredis client the store runs on. */
  readonly client: RedisClient;
  /** The key prefix. */
  readonly prefix: string;
  private readonly keys: KeyLayout;
  private readonly cluster: boolean;
  private ownsClient = false;

  constructor(options: RedisStoreOptions) {
    super(options);
    if (typeof options !== 'object' || options === null || typeof options.client !== 'object' || options.client === null) {
      throw new AgentSessionsError(
        'invalid_input',
        'Missing option "client": pass an ioredis Redis or Cluster client, or use RedisStore.fromConnectionString(url)',
        { source: 'redis' },
      );
    }
    this.client = options.client;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    try {
      this.keys = new KeyLayout(this.prefix);
    } catch (err) {
      throw new AgentSessionsError('invalid_input', (err as Error).message, { source: 'redis' });
    }
    this.cluster = isCluster(this.client);
  }

  /**
   * A store over a new standalone client for a `redis://` or `rediss://` URL, with
   * `REDIS_CONNECTION_DEFAULTS` (fail fast while the server is down, reconnect when it is back).
   * `close()` closes that client.
   */
  static fromConnectionString(url: string, options: RedisConnectionOptions = {}): RedisStore {
    const { redis, ...rest } = options;
    const client = connect(url, redis);
    try {
      const store = new RedisStore({ ...rest, client });
      store.ownsClient = true;
      return store;
    } catch (err) {
      client.disconnect();
      throw err;
    }
  }

  protected override classifyError(err: unknown): ErrorCode | undefined {
    return classifyRedisError(err);
  }

  /** Runs a session script. On a standalone server the listing indexes ride along when `index` is set. */
  private async session(
    script: LuaScript,
    ref: { agentId: string; sessionId: string; userId: string | null; now: number },
    args: string[],
    index: boolean,
  ): Promise<Reply> {
    const keys: string[] = this.keys.session(ref.agentId, ref.sessionId);
    if (index && !this.cluster) {
      keys.push(this.keys.agentIndex(ref.agentId));
      if (ref.userId !== null) keys.push(this.keys.userIndex(ref.agentId, ref.userId));
    }
    return (await runScript(this.client, script, keys, [String(ref.now), ref.userId ?? '', ref.sessionId, ...args])) as Reply;
  }

  private header(reply: Reply): SessionHeader {
    const h = decodeHeader(reply, HEADER_AT);
    if (!h) throw new AgentSessionsError('internal', `a script replied '${reply[0]}' without a header`, { source: this.name });
    return h;
  }

  /** Brings the listing indexes up to date with a header, unless the script already did. */
  private async indexPut(reply: Reply, h: SessionHeader): Promise<void> {
    if (reply[INDEXED_AT] === '1') return;
    await this.indexOp('put', this.indexKeys(h.agentId, h.userId), h.sessionId, h.updatedAt, h.ttlMs);
  }

  private indexKeys(agentId: string, userId: string | null): string[] {
    const keys = [this.keys.agentIndex(agentId)];
    if (userId !== null) keys.push(this.keys.userIndex(agentId, userId));
    return keys;
  }

  private async indexOp(op: 'put' | 'drop', keys: string[], sessionId: string, score: number, ttlMs: number | null): Promise<void> {
    await runScript(this.client, SCRIPTS.index, keys, [op, sessionId, String(score), ttlArg(ttlMs)]);
  }

  protected async doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    const blob = encodeRun(
      input.runId,
      { createdAt: input.now, status: input.status, format: input.format, usage: input.usage, metadata: input.metadata },
      input.items,
    );
    const reply = await this.session(
      SCRIPTS.append,
      input,
      [
        input.agentId,
        input.runId,
        blob,
        input.ttlMs === undefined ? '-' : ttlArg(input.ttlMs),
        ttlArg(input.defaultTtlMs),
        JSON.stringify(input.sessionMetadata),
      ],
      true,
    );
    if (reply[0] === 'not_found') throw this.notFound(input);
    const session = this.header(reply);
    const seq = Number(reply[EXTRA_AT]);
    if (reply[0] === 'exists') {
      return { run: decodeRun(seq, reply[EXTRA_AT + 1] as string), created: false, session };
    }
    await this.indexPut(reply, session);
    return { run: decodeRun(seq, blob), created: true, session };
  }

  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    const reply = await this.session(
      SCRIPTS.read,
      input,
      [String(input.limit), input.beforeSeq === null ? '' : String(input.beforeSeq), input.touch ? '1' : '0'],
      input.touch,
    );
    if (reply[0] === 'absent') return [];
    if (input.touch) await this.indexPut(reply, this.header(reply));
    const runs: Run[] = [];
    // Pairs of (seq, run), newest first: the window is returned oldest first.
    for (let i = reply.length - 2; i >= EXTRA_AT; i -= 2) {
      const blob = reply[i + 1];
      if (typeof blob === 'string') runs.push(decodeRun(Number(reply[i]), blob));
    }
    return runs;
  }

  protected async doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    if (input.touch) {
      const reply = await this.session(SCRIPTS.read, input, ['0', '', '1'], true);
      if (reply[0] === 'absent') return null;
      const h = this.header(reply);
      await this.indexPut(reply, h);
      return h;
    }
    // A plain read needs no script: one HMGET, and the same visibility rules applied here.
    const [key] = this.keys.session(input.agentId, input.sessionId);
    const h = decodeHeader(await this.client.hmget(key, ...HEADER_FIELDS));
    if (!h || isExpired(h.expiresAt, input.now)) return null;
    if (input.userId !== null && h.userId !== input.userId) return null;
    return h;
  }

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    const reply = await this.session(
      SCRIPTS.create,
      input,
      [input.agentId, JSON.stringify(input.metadata), JSON.stringify(input.state), ttlArg(input.ttlMs)],
      true,
    );
    if (reply[0] === 'not_found') throw this.notFound(input);
    const session = this.header(reply);
    if (reply[0] === 'exists') return { session, created: false };
    await this.indexPut(reply, session);
    return { session, created: true };
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    const reply = await this.session(
      SCRIPTS.update,
      input,
      [
        String(input.expectedVersion),
        input.metadata === undefined ? '' : `=${JSON.stringify(input.metadata)}`,
        input.state === undefined ? '' : `=${JSON.stringify(input.state)}`,
        input.summary === undefined ? '' : input.summary === null ? '-' : `=${input.summary}`,
      ],
      true,
    );
    if (reply[0] === 'not_found') throw this.notFound(input);
    const h = this.header(reply);
    if (reply[0] === 'conflict') throw this.conflict(input, input.expectedVersion, h.version);
    await this.indexPut(reply, h);
    return h;
  }

  protected async doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    const reply = await this.session(SCRIPTS.delete, input, [], true);
    if (reply[0] === 'absent') return false;
    if (reply[INDEXED_AT] !== '1') {
      const h = this.header(reply);
      // Removes the entries only up to the deleted session's updatedAt: a session created
      // again meanwhile (a higher score) keeps its place.
      await this.indexOp('drop', this.indexKeys(h.agentId, h.userId), h.sessionId, h.updatedAt, null);
    }
    return true;
  }

  protected async doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    const reply = await this.session(SCRIPTS.pop, input, [], true);
    if (reply[0] !== 'popped') return null;
    await this.indexPut(reply, this.header(reply));
    return {
      item: JSON.parse(reply[EXTRA_AT] as string) as PoppedItem['item'],
      runId: reply[EXTRA_AT + 1] as string,
      seq: Number(reply[EXTRA_AT + 2]),
    };
  }

  /**
   * One page from an index: candidates come from ZREVRANGEBYSCORE (time filters and the cursor
   * as score bounds), then each candidate's header is read and checked. Entries whose session
   * is gone, expired or now owned by someone else are skipped and removed. Reads continue past
   * the page size until every entry tied with the last one on the page has been seen, so ties
   * are ordered by session id exactly as the cursor expects.
   */
  protected async doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
    const listed =
      input.userId === null ? this.keys.agentIndex(input.agentId) : this.keys.userIndex(input.agentId, input.userId);
    let max = input.updatedBefore === null ? '+inf' : `(${input.updatedBefore}`;
    if (input.cursor && (input.updatedBefore === null || input.cursor.updatedAt < input.updatedBefore)) {
      max = String(input.cursor.updatedAt);
    }
    const min = input.updatedAfter === null ? '-inf' : String(input.updatedAfter);
    const batch = Math.min(Math.max(input.fetchLimit * 2, 50), 1000);
    const found: SessionHeader[] = [];
    const repairs: Promise<void>[] = [];
    let offset = 0;
    for (;;) {
      const page = entries(await this.client.zrevrangebyscore(listed, max, min, 'WITHSCORES', 'LIMIT', offset, batch));
      offset += page.length;
      const cursor = input.cursor;
      const candidates = cursor
        ? page.filter((e) => isAfterCursor({ updatedAt: e.score, sessionId: e.sessionId }, cursor))
        : page;
      const headers = await Promise.all(
        candidates.map(async (e) =>
          decodeHeader(await this.client.hmget(this.keys.session(input.agentId, e.sessionId)[0], ...HEADER_FIELDS)),
        ),
      );
      candidates.forEach((e, i) => {
        const h = headers[i] ?? null;
        const expired = h !== null && isExpired(h.expiresAt, input.now);
        if (h === null || expired || (input.userId !== null && h.userId !== input.userId)) {
          // An expired session's entries go from both indexes (its owner is still known).
          const keys = expired ? this.indexKeys(input.agentId, h.userId) : [listed];
          repairs.push(this.indexOp('drop', keys, e.sessionId, e.score, null).catch(() => {}));
          return;
        }
        // An index write that has not landed yet (cluster) or was lost with its client: catch up.
        if (h.updatedAt > e.score) {
          repairs.push(this.indexOp('put', this.indexKeys(h.agentId, h.userId), h.sessionId, h.updatedAt, h.ttlMs).catch(() => {}));
        }
        // The header decides: a session written since the index was read may have left this
        // page's range (it then belongs to an earlier page, or to none under these filters).
        if (cursor && !isAfterCursor(h, cursor)) return;
        if (input.updatedAfter !== null && h.updatedAt < input.updatedAfter) return;
        if (input.updatedBefore !== null && h.updatedAt >= input.updatedBefore) return;
        found.push(h);
      });
      if (page.length < batch) break;
      if (found.length >= input.fetchLimit) {
        const boundary = found.map((h) => h.updatedAt).sort((a, b) => b - a)[input.fetchLimit - 1] as number;
        if ((page[page.length - 1] as IndexEntry).score < boundary) break;
      }
    }
    await Promise.all(repairs);
    return found.sort(newestFirst).slice(0, input.fetchLimit);
  }

  protected async doPrune(input: NormalizedPrune): Promise<PruneResult> {
    const agents = input.agentId !== null ? [encodeId(input.agentId)] : await this.scanAgents();
    const result: PruneResult = { sessions: 0, runs: 0 };
    for (const agent of agents) {
      const index = this.keys.agentIndexEncoded(agent);
      let offset = 0;
      for (;;) {
        const page = entries(await this.client.zrange(index, String(offset), String(offset + 199), 'WITHSCORES'));
        const done = await Promise.all(page.map((e) => this.pruneSession(agent, e, input)));
        let dropped = 0;
        for (const d of done) {
          result.sessions += d.sessions;
          result.runs += d.runs;
          dropped += d.sessions;
        }
        if (page.length < 200) break;
        offset += page.length - dropped;
      }
    }
    return result;
  }

  private async pruneSession(agent: string, entry: IndexEntry, input: NormalizedPrune): Promise<PruneResult> {
    const keys = this.keys.sessionEncoded(agent, entry.sessionId);
    const cut = input.runsCreatedBefore === null ? '' : String(input.runsCreatedBefore);
    let runs = 0;
    for (;;) {
      const reply = (await runScript(this.client, SCRIPTS.prune, keys, [String(input.now), '', entry.sessionId, cut])) as Reply;
      const removed = Number(reply[EXTRA_AT]);
      runs += removed;
      if (reply[0] === 'live') {
        if (removed < PRUNE_BATCH) return { sessions: 0, runs };
        continue;
      }
      // Gone (evicted by its TTL) or expired: its index entries go too.
      const h = decodeHeader(reply, HEADER_AT);
      const indexKeys = [this.keys.agentIndexEncoded(agent)];
      if (h?.userId) indexKeys.push(this.keys.userIndexEncoded(agent, h.userId));
      await this.indexOp('drop', indexKeys, entry.sessionId, h?.updatedAt ?? entry.score, null);
      return { sessions: 1, runs };
    }
  }

  /** Agents with an index under this prefix: SCAN on every master. Only prune without an agentId uses it. */
  private async scanAgents(): Promise<string[]> {
    const keyPrefix = clientKeyPrefix(this.client);
    const pattern = this.keys.agentIndexPattern(keyPrefix);
    const nodes: IORedis[] = isCluster(this.client) ? this.client.nodes('master') : [this.client];
    const found = new Set<string>();
    for (const node of nodes) {
      let cursor = '0';
      do {
        const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const agent = this.keys.agentOfIndexKey(key, keyPrefix);
          if (agent) found.add(agent);
        }
      } while (cursor !== '0');
    }
    return [...found];
  }

  protected async doClose(): Promise<void> {
    if (!this.ownsClient || this.client.status === 'end') return;
    // QUIT resolves on the server's OK, before the socket has closed: wait for 'end' too, so
    // nothing of the store is left open when close() returns (bounded, for a dead server).
    const ended = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      timer.unref();
      this.client.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    try {
      await this.client.quit();
    } catch {
      // Already closed or unreachable: drop the socket and stop reconnecting.
      this.client.disconnect();
    }
    await ended;
    // Read again: the status changed while awaiting (TypeScript narrowed it from the check above).
    if ((this.client.status as string) !== 'end') this.client.disconnect();
  }
}

/** `createStore('redis://…')` in @agent-sessions/core calls this. */
export function createStoreFromUrl(url: string, options: RedisConnectionOptions = {}): RedisStore {
  return RedisStore.fromConnectionString(url, options);
}
