import type IORedis from 'ioredis';
import type { NormalizedPrune, PruneResult } from '@agent-sessions/core/store';
import { clientKeyPrefix, isCluster } from './client.js';
import type { Reply } from './codec.js';
import type { RedisDb } from './db.js';
import { decodeId, encodeId } from './keys.js';
import { SCRIPTS } from './scripts.js';

/** Runs one prune script removes at most: a few ms of server time per call. */
export const PRUNE_BATCH = 500;
/** Index entries read per step while walking an agent's sessions. */
const PAGE = 200;

// Reply layout: [status, 16 header fields, indexed flag, runs removed].
const HEADER_AT = 1;
const REMOVED_AT = 18;

/**
 * Walks each agent's index (all agents under the prefix when none is named) and prunes every
 * session in it, one bounded script at a time: expired leftovers are unlinked whole, old runs
 * go PRUNE_BATCH at a time. A session with a malformed header is skipped, never failing the rest.
 */
export async function prune(db: RedisDb, input: NormalizedPrune): Promise<PruneResult> {
  const agents = input.agentId !== null ? [encodeId(input.agentId)] : await scanAgents(db);
  const result: PruneResult = { sessions: 0, runs: 0 };
  for (const agent of agents) {
    const index = db.keys.agentIndexEncoded(agent);
    let offset = 0;
    for (;;) {
      const raw = await db.wrap(db.client.zrange(index, String(offset), String(offset + PAGE - 1), 'WITHSCORES'));
      const page: { sessionId: string; score: number }[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) page.push({ sessionId: raw[i] as string, score: Number(raw[i + 1]) });
      const done = await Promise.all(page.map((e) => pruneSession(db, agent, e, input)));
      let dropped = 0;
      for (const d of done) {
        result.sessions += d.sessions;
        result.runs += d.runs;
        dropped += d.sessions;
      }
      if (page.length < PAGE) break;
      offset += page.length - dropped;
    }
  }
  return result;
}

async function pruneSession(db: RedisDb, agent: string, entry: { sessionId: string; score: number }, input: NormalizedPrune): Promise<PruneResult> {
  const keys = db.keys.sessionEncoded(agent, entry.sessionId);
  const cut = input.runsCreatedBefore === null ? '' : String(input.runsCreatedBefore);
  let runs = 0;
  for (;;) {
    const reply = (await db.script(SCRIPTS.prune, keys, [String(input.now), '', entry.sessionId, cut, String(PRUNE_BATCH)])) as Reply;
    if (reply[0] === 'corrupt') return { sessions: 0, runs };
    const removed = Number(reply[REMOVED_AT]);
    runs += removed;
    if (reply[0] === 'live') {
      if (removed < PRUNE_BATCH) return { sessions: 0, runs };
      continue;
    }
    // Gone (evicted by its TTL) or expired: its index entries go too.
    const userId = reply[HEADER_AT + 2];
    const updatedAt = reply[HEADER_AT + 4];
    const indexKeys = [db.keys.agentIndexEncoded(agent)];
    if (userId) indexKeys.push(db.keys.userIndexEncoded(agent, userId));
    await db.index('drop', indexKeys, entry.sessionId, updatedAt ?? entry.score, null);
    if (userId) await db.index('udrop', [db.keys.userSessions(userId)], `${decodeId(agent)}\0${entry.sessionId}`, 0, null);
    return { sessions: 1, runs };
  }
}

/** Agents with an index under this prefix: SCAN on every master. Only prune without an agentId uses it. */
async function scanAgents(db: RedisDb): Promise<string[]> {
  const keyPrefix = clientKeyPrefix(db.client);
  const pattern = db.keys.agentIndexPattern(keyPrefix);
  const nodes: IORedis[] = isCluster(db.client) ? db.client.nodes('master') : [db.client];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await db.wrap(node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000));
      cursor = next;
      for (const key of keys) {
        const agent = db.keys.agentOfIndexKey(key, keyPrefix);
        if (agent) found.add(agent);
      }
    } while (cursor !== '0');
  }
  return [...found];
}
