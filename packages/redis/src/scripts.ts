import { createHash } from 'node:crypto';
import type IORedis from 'ioredis';
import type { RedisClient } from './client.js';
import { APPEND } from './lua/append.js';
import { CREATE } from './lua/create.js';
import { DELETE } from './lua/delete.js';
import { IMPORT } from './lua/import.js';
import { INDEX } from './lua/index-ops.js';
import { PATCH } from './lua/patch.js';
import { POP } from './lua/pop.js';
import { PRUNE } from './lua/prune.js';
import { READ, READ_TOUCH } from './lua/read.js';
import { REWRITE_RUN, REWRITE_TEXT } from './lua/rewrite.js';
import { UPDATE } from './lua/update.js';

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

export const SCRIPTS = {
  append: new LuaScript('append', APPEND),
  read: new LuaScript('read', READ),
  readTouch: new LuaScript('readTouch', READ_TOUCH),
  create: new LuaScript('create', CREATE),
  update: new LuaScript('update', UPDATE),
  patch: new LuaScript('patch', PATCH),
  import: new LuaScript('import', IMPORT),
  delete: new LuaScript('delete', DELETE),
  pop: new LuaScript('pop', POP),
  prune: new LuaScript('prune', PRUNE),
  index: new LuaScript('index', INDEX),
  rewriteRun: new LuaScript('rewriteRun', REWRITE_RUN),
  rewriteText: new LuaScript('rewriteText', REWRITE_TEXT),
};

/** Loads every script on one server (one pipelined round trip), so the first calls are EVALSHA. */
export async function loadScripts(node: IORedis): Promise<void> {
  const pipe = node.pipeline();
  for (const s of Object.values(SCRIPTS)) pipe.script('LOAD', s.lua);
  for (const [err] of (await pipe.exec()) ?? []) if (err) throw err;
}

function isNoScript(err: unknown): boolean {
  return err instanceof Error && err.message.startsWith('NOSCRIPT');
}

/**
 * EVALSHA, and EVAL once when the server does not know the script (a restart, SCRIPT FLUSH, a
 * failover or a node added to a cluster since setup loaded them). Done here rather than with
 * ioredis's `defineCommand` so the store never adds methods to a client the application owns.
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
