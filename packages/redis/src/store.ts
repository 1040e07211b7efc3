import { AgentSessionsError, DEFAULT_TIMEOUT_MS, SessionStore, isExpired, type AppendRunResult, type DriverErrorTable, type History, type NormalizedAppend, type NormalizedCreate, type NormalizedImport, type NormalizedList, type NormalizedListRuns, type NormalizedPatch, type NormalizedPrune, type NormalizedRead, type NormalizedRewriteRun, type NormalizedRewriteText, type NormalizedUpdate, type NormalizedUserList, type NormalizedWrite, type PoppedItem, type PruneResult, type RedisUrlOptions, type Run, type ScopedRef, type ServerInfo, type SessionHeader, type StoreCapabilities, type StoreOptions, type UsageTotals } from '@agent-sessions/core/store';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import { isCluster, quitClient, type RedisClient } from './client.js';
import { importHeader } from './import-header.js';
import type { RedisConnectionOptions, RedisStoreOptions } from './options.js';
export type { RedisConnectionOptions, RedisStoreOptions } from './options.js';
import { decodeHeader, decodeRun, encodeRun, encodeUsage, HEADER_FIELDS, HEADER_SIZE, unpackHeader, type Reply } from './codec.js';
import { connect, connectCluster, REDIS_CONNECTION_DEFAULTS } from './connect.js';
import { RedisDb, type SessionEntry } from './db.js';
import { corrupt, REDIS_ERRORS } from './errors.js';
import { DEFAULT_PREFIX, KeyLayout } from './keys.js';
import { indexKeys, listSessions, listUserSessions } from './listing.js';
import { prune } from './prune.js';
import { SCRIPTS } from './scripts.js';
import { setupServers, type EvictionPolicyCheck } from './setup.js';
import { mergeUrlOptions, parseRedisUrl } from './url.js';

// Reply layout of the session scripts: [status, HEADER_SIZE header fields, indexed flag, extras...].
const HEADER_AT = 1;
const INDEXED_AT = HEADER_AT + HEADER_SIZE;
const EXTRA_AT = INDEXED_AT + 1;
/** Seqs past the known newest one a window read without a script also asks for (other writers' runs). */
const READ_SLACK = 4;
/**
 * Window reads of a session that go straight to the read script after a read without one found
 * it could not answer: a seq past the slack (another writer) or runs missing (pruned).
 */
const READ_BYPASS = 8;
/** Runs per import script call: a large session is written in batches, its header last. */
const IMPORT_BATCH = 500;
/** Bytes of runs per import script call. */
const IMPORT_BATCH_BYTES = 4 << 20;

const ttlArg = (v: number | null | undefined): string => (v === null || v === undefined ? '' : String(v));
const hasUsage = (u: UsageTotals): boolean => u.requests > 0 || u.inputTokens > 0 || u.outputTokens > 0 || u.totalTokens > 0;

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
  protected override readonly driverErrors: DriverErrorTable = REDIS_ERRORS;
  private readonly db: RedisDb;
  private readonly evictionPolicy: EvictionPolicyCheck;
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
    const policy = options.evictionPolicy ?? 'error';
    if (policy !== 'error' && policy !== 'warn') {
      throw new AgentSessionsError('invalid_input', `evictionPolicy must be 'error' or 'warn', got ${String(policy)}`, { source: 'redis' });
    }
    this.evictionPolicy = policy;
    this.client = options.client;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
    let keys: KeyLayout;
    try {
      keys = new KeyLayout(this.prefix);
    } catch (err) {
      throw new AgentSessionsError('invalid_input', (err as Error).message, { source: 'redis' });
    }
    this.db = new RedisDb(this.client, keys);
  }

  /**
   * A store over a client of its own for a `redis://`, `rediss://`, `redis+cluster://h1:p1,h2:p2`
   * or `rediss+cluster://…` URL, with `REDIS_CONNECTION_DEFAULTS` (fail fast while the server is
   * down, reconnect when it is back). `close()` closes that client.
   */
  static fromConnectionString(url: string, options: RedisConnectionOptions = {}): RedisStore {
    const parsed = parseRedisUrl(url);
    const { redis, ...rest } = mergeUrlOptions(parsed, options as RedisUrlOptions, url) as RedisConnectionOptions;
    // The driver bound stays inside the store's own: a paused server frees the connection's
    // queue by itself, and the same client serves again once the server answers.
    const bound = { commandTimeout: Math.min(REDIS_CONNECTION_DEFAULTS.commandTimeout as number, rest.timeoutMs ?? DEFAULT_TIMEOUT_MS) };
    const client = parsed.cluster
      ? connectCluster(parsed.nodes, { ...bound, ...parsed.redisOptions }, (redis ?? {}) as ClusterOptions)
      : connect(parsed.url, { ...bound, ...((redis ?? {}) as RedisOptions) });
    try {
      const store = new RedisStore({ ...rest, client });
      store.ownsClient = true;
      return store;
    } catch (err) {
      client.disconnect();
      throw err;
    }
  }

  #server: ServerInfo | undefined;

  /** Where the server is, for spans: the standalone client's host and port (a cluster names no single one). */
  protected override serverInfo(): ServerInfo | undefined {
    if (this.#server || isCluster(this.client)) return this.#server;
    const o = this.client.options as { host?: string; port?: number; db?: number; path?: string | null };
    this.#server = o.path ? { address: o.path } : { address: o.host ?? 'localhost', port: o.port ?? 6379, namespace: String(o.db ?? 0) };
    return this.#server;
  }

  protected override doSetup(): Promise<void> {
    return setupServers(this.client, this.evictionPolicy).catch((err: unknown) => {
      throw this.db.explain(err);
    });
  }

  private header(reply: Reply, ref: ScopedRef): SessionHeader {
    const h = decodeHeader(reply, ref, HEADER_AT);
    if (!h) throw new AgentSessionsError('internal', `a script replied '${reply[0]}' without a header`, { source: this.name });
    return h;
  }

  /** Fails for a script's answer that ends the call: a malformed record, a session not there. */
  private check(reply: Reply, ref: ScopedRef): void {
    if (reply[0] === 'corrupt') {
      throw corrupt(ref, reply[1] === 'run' ? 'run' : `header field '${reply[1]}'`, reply[2] ?? null);
    }
    if (reply[0] === 'not_found') throw this.notFound(ref);
  }

  /**
   * Brings the listing indexes up to date with a header, unless the script already did: the
   * agent's slot and (for a user's session) the user's own slot, concurrently.
   */
  private async indexPut(reply: Reply, h: SessionHeader): Promise<void> {
    if (reply[INDEXED_AT] === '1') return;
    const agentSlot = this.db.index('put', indexKeys(this.db, h.agentId, h.userId), h.sessionId, h.updatedAt, h.ttlMs);
    if (h.userId === null) return agentSlot;
    await Promise.all([agentSlot, this.db.index('uput', [this.db.keys.userSessions(h.userId)], `${h.agentId}\0${h.sessionId}`, 0, h.ttlMs)]);
  }

  protected async doAppendRun(input: NormalizedAppend): Promise<AppendRunResult> {
    const meta = { createdAt: input.now, status: input.status, format: input.format, usage: input.usage, metadata: input.metadata };
    const explicit = input.expiresAt !== undefined;
    const entry = this.db.entry(input.agentId, input.sessionId);
    let reply = await this.db.session(
      SCRIPTS.append,
      input,
      [
        input.agentId,
        input.runId,
        encodeRun(input.runId, meta, input.items),
        explicit ? '1' : '0',
        ttlArg(explicit ? input.ttlMs : input.defaultTtlMs),
        ttlArg(explicit ? input.expiresAt : input.defaultExpiresAt),
        JSON.stringify(input.sessionMetadata),
        ttlArg(input.expectedLastSeq),
        input.title === null ? '' : `=${input.title}`,
        input.preview === null ? '' : `=${input.preview}`,
        hasUsage(input.usageDelta) ? encodeUsage(input.usageDelta) : '',
      ],
      true,
      entry,
    );
    this.check(reply, input);
    if (reply[0] === 'stale') throw this.staleHistory(input, input.expectedLastSeq as number, Number(reply[1]));
    reply = unpackHeader(reply, input);
    const session = this.header(reply, input);
    entry.lastSeq = session.lastSeq;
    const seq = Number(reply[EXTRA_AT]);
    if (reply[0] === 'exists') return { run: decodeRun(seq, reply[EXTRA_AT + 1], input), created: false, session };
    await this.indexPut(reply, session);
    // The run as written: the input is already a private, validated copy, so nothing is re-read.
    const run: Run = { runId: input.runId, seq, items: input.items, ...meta };
    return { run, created: true, session };
  }

  /**
   * The newest `limit` runs without a script, when this process knows the session's newest seq
   * (from its last read or append of it): one HMGET of the data hash, for the header as the
   * scripts last wrote it (field `h`, see mirror in lua/prelude.ts) and the runs from that seq
   * plus READ_SLACK down. One command on one key, so header and runs are one snapshot.
   *
   * Checks what the read script checks, in its order: expiry, then existence and owner. Answers
   * null when the session is not there for this caller, the reply in the read script's layout
   * (unpacked) when it holds the whole window, and undefined when the script must decide: no
   * hint, no copied header (a session being imported), a header field the script reports, a
   * seq past the slack (another writer), or a missing run (pruned). The last two cost a second
   * round trip, so the next READ_BYPASS window reads of that session go to the script directly.
   */
  private async readWindow(input: NormalizedListRuns | NormalizedRead, limit: number, entry: SessionEntry): Promise<Reply | null | undefined> {
    const hint = entry.lastSeq;
    if (hint === undefined) return undefined;
    if (entry.bypass > 0) {
      entry.bypass--;
      return undefined;
    }
    const high = hint + READ_SLACK;
    const low = Math.max(1, hint - limit + 1);
    const fields: string[] = ['h'];
    for (let s = high; s >= low; s--) fields.push(`s${s}`);
    const got = (await this.db.wrap(this.client.hmget(entry.keys[1], ...fields))) as Reply;
    const packed = got[0];
    if (typeof packed !== 'string') return undefined;
    const reply = unpackHeader(['ok', packed, '1'], input);
    const exp = reply[HEADER_AT + 5];
    if (exp !== null && exp !== undefined) {
      const at = Number(exp);
      if (!/^[0-9]+$/.test(exp) || !Number.isSafeInteger(at)) return undefined;
      if (at <= input.now) return null;
    }
    if (reply[HEADER_AT + 10] === null || (input.userId !== null && reply[HEADER_AT + 2] !== input.userId)) return null;
    const lastSeq = reply[HEADER_AT + 11];
    if (typeof lastSeq !== 'string' || !/^[0-9]+$/.test(lastSeq)) return undefined;
    const top = Number(lastSeq);
    if (top < 1) return reply;
    if (top > high) {
      entry.bypass = READ_BYPASS;
      return undefined;
    }
    const bottom = Math.max(1, top - limit + 1);
    if (bottom < low) return undefined;
    reply.push(lastSeq);
    for (let s = top; s >= bottom; s--) {
      const blob = got[high - s + 1];
      if (typeof blob !== 'string') {
        // Pruned runs inside the window: the script reads the seq index, for a while.
        entry.bypass = READ_BYPASS;
        return undefined;
      }
      reply.push(blob);
    }
    return reply;
  }

  /** The read script: header and (limit > 0) the newest runs, oldest first. Null: absent. */
  private async read(input: NormalizedListRuns | NormalizedRead, limit: number, beforeSeq: number | null): Promise<{ session: SessionHeader; runs: Run[] } | null> {
    let reply: Reply;
    const entry = this.db.entry(input.agentId, input.sessionId);
    if (input.touch) {
      reply = await this.db.session(SCRIPTS.readTouch, input, [String(limit), ttlArg(beforeSeq)], true, entry);
      this.check(reply, input);
      if (reply[0] === 'absent') return null;
    } else {
      const fast = limit > 0 && beforeSeq === null ? await this.readWindow(input, limit, entry) : undefined;
      if (fast === null) return null;
      if (fast) reply = fast;
      else {
        reply = await this.db.session(SCRIPTS.read, input, [String(limit), ttlArg(beforeSeq)], false, entry);
        if (reply[0] === 'absent') {
          // Gone (deleted, evicted, expired) or never there: no HMGET first next time.
          entry.lastSeq = undefined;
          return null;
        }
        reply = unpackHeader(reply, input);
      }
    }
    const session = this.header(reply, input);
    entry.lastSeq = session.lastSeq;
    // Only a malformed expiresAt makes the script answer before its visibility check.
    if (isExpired(session.expiresAt, input.now)) return null;
    if (input.touch) await this.indexPut(reply, session);
    const runs: Run[] = [];
    // Newest first, the window is returned oldest first. 'ok': the top seq, then the blobs of
    // top, top - 1, ... (gapless); 'okp': pairs of (seq, blob).
    if (reply[0] === 'ok') {
      const top = Number(reply[EXTRA_AT]);
      for (let i = reply.length - 1; i > EXTRA_AT; i--) runs.push(decodeRun(top - (i - EXTRA_AT - 1), reply[i], input));
    } else {
      for (let i = reply.length - 2; i >= EXTRA_AT; i -= 2) runs.push(decodeRun(Number(reply[i]), reply[i + 1], input));
    }
    return { session, runs };
  }

  protected async doListRuns(input: NormalizedListRuns): Promise<Run[]> {
    return (await this.read(input, input.limit, input.beforeSeq))?.runs ?? [];
  }

  /** The header and the window in one script: one round trip, one snapshot. */
  protected override async doReadHistory(input: NormalizedListRuns): Promise<History> {
    return (await this.read(input, input.limit, input.beforeSeq)) ?? { session: null, runs: [] };
  }

  protected async doGetSession(input: NormalizedRead): Promise<SessionHeader | null> {
    if (input.touch) return (await this.read(input, 0, null))?.session ?? null;
    // A plain read needs no script: one HMGET, and the same visibility rules applied here.
    const [key] = this.db.keys.session(input.agentId, input.sessionId);
    const h = decodeHeader((await this.db.wrap(this.client.hmget(key, ...HEADER_FIELDS))) as Reply, input);
    if (!h || isExpired(h.expiresAt, input.now)) return null;
    if (input.userId !== null && h.userId !== input.userId) return null;
    return h;
  }

  protected async doCreateSession(input: NormalizedCreate): Promise<{ session: SessionHeader; created: boolean }> {
    const args = [input.agentId, JSON.stringify(input.metadata), JSON.stringify(input.state), ttlArg(input.ttlMs), ttlArg(input.expiresAt)];
    const reply = await this.db.session(SCRIPTS.create, input, args, true);
    this.check(reply, input);
    const session = this.header(reply, input);
    if (reply[0] === 'exists') return { session, created: false };
    await this.indexPut(reply, session);
    return { session, created: true };
  }

  protected async doUpdateSession(input: NormalizedUpdate): Promise<SessionHeader> {
    const reply = await this.db.session(
      SCRIPTS.update,
      input,
      [
        String(input.expectedVersion),
        input.metadata === undefined ? '' : `=${JSON.stringify(input.metadata)}`,
        input.state === undefined ? '' : `=${JSON.stringify(input.state)}`,
        input.summary === undefined ? '' : input.summary === null ? '-' : `=${input.summary}`,
        input.summarySeq === undefined ? '' : String(input.summarySeq),
      ],
      true,
    );
    this.check(reply, input);
    const h = this.header(reply, input);
    if (reply[0] === 'conflict') throw this.conflict(input, input.expectedVersion, h.version);
    await this.indexPut(reply, h);
    return h;
  }

  protected override async doPatchSession(input: NormalizedPatch): Promise<SessionHeader> {
    const title = input.title === undefined ? '' : input.title === null ? '-' : `=${input.title}`;
    const reply = await this.db.session(SCRIPTS.patch, input, [title, input.touch ? '1' : '0'], true);
    this.check(reply, input);
    if (reply[0] !== 'ok') throw this.notFound(input);
    const h = this.header(reply, input);
    await this.indexPut(reply, h);
    return h;
  }

  /** Re-encryption: one script, a compare-and-set on the run's items as stored (see lua/rewrite.ts). */
  protected override async doRewriteRun(input: NormalizedRewriteRun): Promise<boolean> {
    const texts = (items: readonly unknown[]): string => items.map((i) => JSON.stringify(i)).join('\n');
    const reply = await this.db.session(SCRIPTS.rewriteRun, input, [String(input.seq), input.runId, texts(input.expected), texts(input.items)], false);
    this.check(reply, input);
    return reply[0] === 'ok';
  }

  /** Re-encryption: title and preview, a compare-and-set on both (see lua/rewrite.ts). */
  protected override async doRewriteText(input: NormalizedRewriteText): Promise<boolean> {
    const arg = (v: string | null): string => (v === null ? '' : `=${v}`);
    const { expected } = input;
    const reply = await this.db.session(SCRIPTS.rewriteText, input, [arg(expected.title), arg(expected.preview), arg(input.title), arg(input.preview)], false);
    this.check(reply, input);
    return reply[0] === 'ok';
  }

  protected override doListUserSessions(input: NormalizedUserList): Promise<SessionHeader[]> {
    return listUserSessions(this.db, input);
  }

  /**
   * One script when the session is small; otherwise batches of runs, then the header with the
   * last batch (see lua/import.ts: nothing is visible before the header, and a session created
   * meanwhile is never written into).
   */
  protected override async doImportSession(input: NormalizedImport): Promise<SessionHeader> {
    const header = importHeader(input);
    let batch: string[] = [];
    let bytes = 0;
    let first = true;
    const send = async (final: boolean): Promise<Reply> => {
      const args = [first ? '1' : '0', final ? '1' : '0', ...(final ? header : []), ...batch];
      const reply = await this.db.session(SCRIPTS.import, input, args, final);
      if (reply[0] === 'exists') throw this.exists(input);
      first = false;
      batch = [];
      bytes = 0;
      return reply;
    };
    for (const run of input.runs) {
      const blob = encodeRun(run.runId, { createdAt: run.createdAt, status: run.status, format: run.format, usage: run.usage, metadata: run.metadata }, run.items);
      if (batch.length >= IMPORT_BATCH * 4 || (batch.length > 0 && bytes + blob.length > IMPORT_BATCH_BYTES)) await send(false);
      batch.push(String(run.seq), String(run.createdAt), run.runId, blob);
      bytes += blob.length;
    }
    const reply = await send(true);
    this.check(reply, input);
    const session = this.header(reply, input);
    await this.indexPut(reply, session);
    return session;
  }

  protected async doDeleteSession(input: NormalizedWrite): Promise<boolean> {
    const reply = await this.db.session(SCRIPTS.delete, input, [], true);
    this.check(reply, input);
    if (reply[0] === 'absent') return false;
    if (reply[INDEXED_AT] !== '1') {
      // Only what the index needs: the rest of a deleted header may be malformed.
      const userId = reply[HEADER_AT + 2] ?? null;
      const updatedAt = Number(reply[HEADER_AT + 4]);
      // Removes the entries only up to the deleted session's updatedAt: a session created
      // again meanwhile (a higher score) keeps its place.
      await this.db.index('drop', indexKeys(this.db, input.agentId, userId), input.sessionId, Number.isFinite(updatedAt) ? updatedAt : '+inf', null);
    }
    return true;
  }

  protected async doPopItem(input: NormalizedWrite): Promise<PoppedItem | null> {
    const reply = await this.db.session(SCRIPTS.pop, input, [], true);
    this.check(reply, input);
    if (reply[0] !== 'popped') return null;
    await this.indexPut(reply, this.header(reply, input));
    const seq = Number(reply[EXTRA_AT + 2]);
    let item: PoppedItem['item'];
    try {
      item = JSON.parse(reply[EXTRA_AT] as string) as PoppedItem['item'];
    } catch (err) {
      throw corrupt(input, 'run', seq, err);
    }
    return { item, runId: reply[EXTRA_AT + 1] as string, seq };
  }

  protected doListSessions(input: NormalizedList): Promise<SessionHeader[]> {
    return listSessions(this.db, input);
  }

  protected doPrune(input: NormalizedPrune): Promise<PruneResult> {
    return prune(this.db, input);
  }

  protected async doClose(): Promise<void> {
    if (this.ownsClient) await quitClient(this.client);
  }

}

/** `createStore('redis://…')` (and `rediss://`, `redis+cluster://`, `rediss+cluster://`) in @agent-sessions/core calls this. */
export function createStoreFromUrl(url: string, options: RedisUrlOptions = {}): RedisStore {
  return RedisStore.fromConnectionString(url, options as RedisConnectionOptions);
}
