import type { NormalizedPrune, PruneResult } from '@agent-sessions/core/store';
import { deleteBatched, deleteRuns, exclusive, type MongoContext } from './context.js';

/**
 * Removes expired sessions with their runs (each session in bounded batches), runs past their
 * own expiry (their session is gone), and with `runsCreatedBefore` older runs.
 */
export async function prune(ctx: MongoContext, input: NormalizedPrune): Promise<PruneResult> {
  const scope = input.agentId === null ? {} : { agentId: input.agentId };
  const now = new Date(input.now);
  let sessions = 0;
  let runs = 0;
  const expired = await ctx.sessions
    .find({ ...scope, expiresAt: { $lte: now } }, { projection: { _id: 1, agentId: 1, sessionId: 1, gen: 1 } })
    .toArray();
  for (const h of expired) {
    await exclusive(ctx, h, async () => {
      const res = await ctx.sessions.deleteOne({ _id: h._id, gen: h.gen, expiresAt: { $lte: now } });
      if (res.deletedCount !== 1) return;
      sessions += 1;
      runs += (await deleteRuns(ctx, h)) ?? 0;
    });
  }
  // Runs never expire before their session, so a run past its own expiry belongs to a session
  // that is gone (removed by a TTL index, or pruned before its runs were).
  runs += (await deleteBatched(ctx, { ...scope, expiresAt: { $lte: now } })) ?? 0;
  if (input.runsCreatedBefore !== null) {
    runs += (await deleteBatched(ctx, { ...scope, createdAt: { $lt: input.runsCreatedBefore } })) ?? 0;
  }
  return { sessions, runs };
}
