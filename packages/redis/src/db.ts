import { classifyError } from '@agent-sessions/core/store';
import { describeEndpoint, isCluster, type RedisClient } from './client.js';
import type { Reply } from './codec.js';
import { lastConnectionError } from './connect.js';
import { REDIS_ERRORS } from './errors.js';
import { KeyLayout } from './keys.js';
import { runScript, SCRIPTS, type LuaScript } from './scripts.js';

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

  /** The keys of the last session scripts ran on: a turn's read and append name the same session. */
  #last: { agentId: string; sessionId: string; userId: string | null; keys: string[]; indexed: string[] | undefined } | undefined;

  /** Runs a session script. On a standalone server the listing indexes ride along when `index` is set. */
  session(script: LuaScript, ref: ScriptRef, args: string[], index: boolean): Promise<Reply> {
    let last = this.#last;
    if (!last || last.agentId !== ref.agentId || last.sessionId !== ref.sessionId || last.userId !== ref.userId) {
      last = { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, keys: this.keys.session(ref.agentId, ref.sessionId), indexed: undefined };
      this.#last = last;
    }
    let keys = last.keys;
    if (index && !this.cluster) {
      if (!last.indexed) {
        last.indexed = [...keys, this.keys.agentIndex(ref.agentId)];
        if (ref.userId !== null) last.indexed.push(this.keys.userIndex(ref.agentId, ref.userId), this.keys.userSessions(ref.userId));
      }
      keys = last.indexed;
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
