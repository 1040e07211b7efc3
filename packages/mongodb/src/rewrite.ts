import type { NormalizedRewriteRun, NormalizedRewriteText } from '@agent-sessions/core/store';
import type { Filter } from 'mongodb';
import { readHeader, visible, type MongoContext } from './context.js';
import { headerKey, toJsonText, type HeaderDoc, type RunDoc } from './documents.js';
import { completePop } from './pop.js';

// Re-encryption (`reencryptSession`): content replaced in place by a compare-and-set on what the
// caller read, leaving version, updatedAt and expiry alone. On servers without atomic
// conditional updates the store runs these under the session's lock, like every write.

/** The header as a writer may use it: a popItem left unfinished is finished first. */
async function settled(ctx: MongoContext, input: NormalizedRewriteRun | NormalizedRewriteText): Promise<HeaderDoc | null> {
  const key = headerKey(input.agentId, input.sessionId);
  let h = await readHeader(ctx, key);
  if (h?.pop) {
    await completePop(ctx, h);
    h = await readHeader(ctx, key);
  }
  return visible(h, input, input.now) && !h.pop ? h : null;
}

/**
 * One run's items, if the committed run `runId` at `seq` still holds exactly the JSON texts of
 * `expected`. A pop that took an item meanwhile changes `n` and `items`, so the write matches
 * nothing and the pop is never undone; a pop recorded after this write trims the new items.
 */
export async function rewriteRun(ctx: MongoContext, input: NormalizedRewriteRun): Promise<boolean> {
  const h = await settled(ctx, input);
  if (!h || input.seq > h.lastSeq) return false;
  const expected = input.expected.map(toJsonText);
  const filter: Filter<RunDoc> = {
    agentId: input.agentId,
    sessionId: input.sessionId,
    gen: h.gen,
    seq: input.seq,
    runId: input.runId,
    n: expected.length,
    items: expected,
    popped: { $ne: true },
  };
  const res = await ctx.runs.updateOne(filter, { $set: { items: input.items.map(toJsonText) } });
  return res.matchedCount === 1;
}

/** Title and preview, if both are still what the caller read (null matches an older header without them). */
export async function rewriteText(ctx: MongoContext, input: NormalizedRewriteText): Promise<boolean> {
  const h = await settled(ctx, input);
  if (!h) return false;
  const filter: Filter<HeaderDoc> = { _id: h._id, gen: h.gen, title: input.expected.title, preview: input.expected.preview };
  const res = await ctx.sessions.updateOne(filter, { $set: { title: input.title, preview: input.preview } });
  if (res.matchedCount === 1) ctx.headers.forget(h._id);
  return res.matchedCount === 1;
}
