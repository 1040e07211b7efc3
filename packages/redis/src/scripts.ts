import { createHash } from 'node:crypto';
import type { RedisClient } from './client.js';

/** A Lua script and its SHA1, run with EVALSHA. */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * EVALSHA, and EVAL once when the server does not know the script yet (NOSCRIPT: first use,
 * a restart, SCRIPT FLUSH, a new cluster node). Done here rather than with ioredis's
 * `defineCommand` so the store never adds methods to a client the application owns.
 */
export async function runScript(
  client: RedisClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    return client.eval(script.lua, keys.length, ...keys, ...args);
  }
}
