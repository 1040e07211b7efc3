import { classifyError } from '@agent-sessions/core/store';
import { describeEndpoint, isCluster, type RedisClient } from './client.js';
import type { Reply } from './codec.js';
import { lastConnectionError } from './connect.js';
import { REDIS_ERRORS } from './errors.js';
import { KeyLayout, type SessionKeys } from './keys.js';
import { runScript, SCRIPTS, type LuaScript } from './scripts.js';

/** How many sessions RedisDb keeps keys and a seq hint for. */
const SESSION_CACHE = 4096;

/** What RedisDb keeps of a session it ran a call on. */
export interface SessionEntry {
  readonly keys: SessionKeys;
  /** The keys with the listing indexes of `indexedUser` (standalone servers). */
  indexed: string[] | undefined;
  indexedUser: string | null;
  /** The newest seq a reply of this session showed, if any. */
  lastSeq: number | undefined;
  /** Window reads left to run as scripts after a hint turned out stale (another writer). */
  bypass: number;
}

/** A session reference as the scripts take it. */
export interface ScriptRef {
  agentId: string;
  sessionId: string;
  userId: string | null;
  now: number;
}

/**
 * Everything the store sends goes through here: the scripts, the few plain reads, and one
 * place that turns a connection failure into an error naming the server and the cause (ioredis
 * alone says only "Reached the max retries per request limit").
 */
export class RedisDb {
  readonly cluster: boolean;

  constructor(
    readonly client: RedisClient,
    readonly keys: KeyLayout,
  ) {
    this.cluster = isCluster(client);
  }

  /**
   * Per session recently used (agent id \0 session id): its keys, made once rather than on every
   * call (base64url of both ids), and the newest seq this process saw, which lets a window read
   * name the run fields it needs without a script (see RedisStore#read). Bounded: the oldest
   * entry goes first once SESSION_CACHE entries are held.
   */
  readonly #sessions = new Map<string, SessionEntry>();

  /** The cache entry of a session, made on first use. */
  entry(agentId: string, sessionId: string): SessionEntry {
    const id = `${agentId}\0${sessionId}`;
    let e = this.#sessions.get(id);
    if (!e) {
      if (this.#sessions.size >= SESSION_CACHE) this.#sessions.delete(this.#sessions.keys().next().value as string);
      e = { keys: this.keys.session(agentId, sessionId), indexed: undefined, indexedUser: null, lastSeq: undefined, bypass: 0 };
      this.#sessions.set(id, e);
    }
    return e;
  }

  /** Runs a session script. On a standalone server the listing indexes ride along when `index` is set. */
  session(script: LuaScript, ref: ScriptRef, args: string[], index: boolean, entry: SessionEntry = this.entry(ref.agentId, ref.sessionId)): Promise<Reply> {
    let keys: string[] = entry.keys;
    if (index && !this.cluster) {
      if (!entry.indexed || entry.indexedUser !== ref.userId) {
        entry.indexed = [...keys, this.keys.agentIndex(ref.agentId)];
        if (ref.userId !== null) entry.indexed.push(this.keys.userIndex(ref.agentId, ref.userId), this.keys.userSessions(ref.userId));
        entry.indexedUser = ref.userId;
      }
      keys = entry.indexed;
    }
    return this.script(script, keys, [String(ref.now), ref.userId ?? '', ref.sessionId, ...args]) as Promise<Reply>;
  }

  script(script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    return this.wrap(runScript(this.client, script, keys, args));
  }

  /** Index maintenance in one index slot (see lua/index-ops.ts). */
  async index(op: 'put' | 'drop' | 'uput' | 'udrop', keys: string[], member: string, score: number | string, ttlMs: number | null): Promise<void> {
    await this.script(SCRIPTS.index, keys, [op, member, String(score), ttlMs === null ? '' : String(ttlMs)]);
  }

  /** Any other command, with the same error handling. */
  wrap<T>(call: Promise<T>): Promise<T> {
    return call.catch((err: unknown) => {
      throw this.explain(err);
    });
  }

  /**
   * A connection failure or a refused login, explained: the server, the error, and the last
   * connection error the client saw (kept as the cause, so `access_denied` is recognised even
   * when the call itself only timed out in the queue). Other errors pass through unchanged.
   */
  explain(err: unknown): unknown {
    const code = classifyError(err, REDIS_ERRORS);
    if (code !== 'unavailable' && code !== 'access_denied') return err;
    const last = lastConnectionError.get(this.client);
    const reason = err instanceof Error ? err.message : String(err);
    const because = last && last.message !== reason ? ` (last connection error: ${last.message})` : '';
    const wrapped = new Error(`${describeEndpoint(this.client)} did not serve the call: ${reason}${because}`, { cause: err });
    if (last) (wrapped as { lastNodeError?: unknown }).lastNodeError = last;
    return wrapped;
  }
}
