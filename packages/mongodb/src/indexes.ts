import { isDuplicateKey } from './errors.js';
import type { Collection, IndexSpecification, CreateIndexesOptions } from 'mongodb';
import type { JsonObject } from '@agent-sessions/core/store';
import { NEVER, metadataTags, type HeaderDoc, type RunDoc } from './documents.js';
import type { LockDoc } from './locks.js';

/** Whether to put TTL indexes on `expiresAt`: `'auto'` tries and falls back, `true` requires them. */
export type TtlIndexMode = 'auto' | boolean;

interface IndexDef {
  key: IndexSpecification;
  options: CreateIndexesOptions & { name: string };
}

/** Listing an agent's (or a user's) sessions newest first, with sessionId as the tie-breaker. */
export const SESSION_INDEXES: IndexDef[] = [
  { key: { agentId: 1, updatedAt: -1, sessionId: -1 }, options: { name: 'agent_updated' } },
  { key: { agentId: 1, userId: 1, updatedAt: -1, sessionId: -1 }, options: { name: 'agent_user_updated' } },
  // listSessions({ metadata }): the metadata's scalars as tags (multikey), matched with $all.
  { key: { agentId: 1, tags: 1, updatedAt: -1, sessionId: -1 }, options: { name: 'agent_tags_updated' } },
  // listUserSessions: a user's sessions across agents in (agentId, sessionId) order.
  { key: { userId: 1, agentId: 1, sessionId: 1 }, options: { name: 'user_agent_session' } },
];

/**
 * Runs: the history window is a range on (agentId, sessionId, seq); the run id is the
 * idempotency key. Both are unique, which is what makes sequence allocation race-free.
 */
export const RUN_INDEXES: IndexDef[] = [
  { key: { agentId: 1, sessionId: 1, seq: 1 }, options: { name: 'session_seq', unique: true } },
  { key: { agentId: 1, sessionId: 1, runId: 1 }, options: { name: 'session_run_id', unique: true } },
];

// Codes a server answers with when it has no TTL indexes (FerretDB: 238 NotImplemented).
const UNSUPPORTED = new Set([238, 115]);
const UNSUPPORTED_NAMES = new Set(['NotImplemented', 'CommandNotSupported']);

function isUnsupported(err: unknown): boolean {
  const e = err as { code?: unknown; codeName?: unknown };
  return (typeof e.code === 'number' && UNSUPPORTED.has(e.code)) || (typeof e.codeName === 'string' && UNSUPPORTED_NAMES.has(e.codeName));
}

/**
 * Creates the indexes (a no-op for those that exist) and returns whether TTL indexes are in
 * place. Without them, `expiresAt` gets a plain index, used by `prune()`.
 */
export async function ensureIndexes(
  sessions: Collection<HeaderDoc>,
  runs: Collection<RunDoc>,
  mode: TtlIndexMode,
): Promise<boolean> {
  for (const { key, options } of SESSION_INDEXES) await sessions.createIndex(key, options);
  for (const { key, options } of RUN_INDEXES) await runs.createIndex(key, options);
  let ttl = false;
  if (mode !== false) {
    try {
      // expireAfterSeconds 0: each document goes at its own `expiresAt`.
      await sessions.createIndex({ expiresAt: 1 }, { name: 'expires_at_ttl', expireAfterSeconds: 0 });
      await runs.createIndex({ expiresAt: 1 }, { name: 'expires_at_ttl', expireAfterSeconds: 0 });
      ttl = true;
    } catch (err) {
      if (mode === true || !isUnsupported(err)) throw err;
    }
  }
  if (!ttl) {
    await sessions.createIndex({ expiresAt: 1 }, { name: 'expires_at' });
    await runs.createIndex({ expiresAt: 1 }, { name: 'expires_at' });
  }
  return ttl;
}

/** The marker (in the locks collection) saying headers written before tags existed have them. */
const TAGS_MARKER = 'schema:tags';

/**
 * The one data migration so far: headers written before `tags` existed get them, in batches,
 * once per database (a marker records it), so metadata filters find older sessions too. Headers
 * without `tags` written later by an older version of this package are not found by a metadata
 * filter until they are written again by this one.
 */
export async function backfillTags(sessions: Collection<HeaderDoc>, locks: Collection<LockDoc>): Promise<void> {
  if (await locks.findOne({ _id: TAGS_MARKER })) return;
  for (;;) {
    const docs = await sessions
      .find({ tags: { $exists: false }, agentId: { $exists: true } }, { projection: { _id: 1, metadata: 1 } })
      .limit(500)
      .toArray();
    for (const d of docs) {
      let tags: string[] = [];
      try {
        tags = metadataTags(JSON.parse(d.metadata) as JsonObject);
      } catch {
        // A malformed header stays malformed; its calls fail on their own.
      }
      await sessions.updateOne({ _id: d._id, tags: { $exists: false } }, { $set: { tags } });
    }
    if (docs.length < 500) break;
  }
  try {
    await locks.updateOne({ _id: TAGS_MARKER }, { $set: { token: 'done', expiresAt: NEVER } }, { upsert: true });
  } catch (err) {
    // Instances starting together race on this upsert: another one wrote the marker.
    if (!isDuplicateKey(err)) throw err;
  }
}
