import type { NormalizedWrite, PoppedItem } from '@agent-sessions/core/store';
import type { Filter } from 'mongodb';
import { commit, runState } from './append.js';
import { LOST_RACE, raiseRunsExpiry, readHeader, retry, visible, type MongoContext } from './context.js';
import { fromJsonText, headerKey, newGen, sessionExpiry, type HeaderDoc, type PopIntent } from './documents.js';

/**
 * Pops in two steps that anyone can finish: a compare-and-set records the intent in the header
 * (bumping the version), then the run loses its last item (or is emptied and marked `popped`)
 * and the intent is cleared. Readers apply an unfinished intent.
 *
 * An append in flight is never starved by pops: a pop first commits a committable run sitting
 * right after `lastSeq` (then pops from it), a pop that trims a run leaves the append slot
 * alone, and only one that removes a whole run moves it.
 */
export function pop(ctx: MongoContext, input: NormalizedWrite): Promise<PoppedItem | null> {
  const key = headerKey(input.agentId, input.sessionId);
  return retry(ctx, 'popItem', async () => {
    const h = await readHeader(ctx, key);
    if (!visible(h, input, input.now)) return null;
    if (h.pop) {
      await completePop(ctx, h);
      return LOST_RACE;
    }
    // The newest committed run and the one after it (an append in flight), in one query.
    const [top, below] = await ctx.runs
      .find({ agentId: input.agentId, sessionId: input.sessionId, gen: h.gen, seq: { $lte: h.lastSeq + 1 } }, { maxTimeMS: ctx.maxTimeMS })
      .sort({ seq: -1 })
      .limit(2)
      .toArray();
    let run = top;
    if (top && top.seq === h.lastSeq + 1) {
      if (runState(h, top) === 'committable') {
        await commit(ctx, h, top);
        return LOST_RACE;
      }
      run = below;
    }
    if (!run || run.popped) return null;
    const intent: PopIntent = { id: newGen(), runId: run.runId, seq: run.seq, n: run.n };
    const raised = await raiseRunsExpiry(ctx, h, h.ttlMs, input.now);
    const set: Partial<HeaderDoc> = {
      pop: intent,
      version: h.version + 1,
      updatedAt: Math.max(h.updatedAt, input.now),
      expiresAt: sessionExpiry(h.ttlMs, input.now),
    };
    if (raised) set.runsExpireAt = raised;
    const res = await ctx.sessions.updateOne({ _id: key, gen: h.gen, version: h.version, pop: null }, { $set: set });
    if (res.matchedCount !== 1) return LOST_RACE;
    await completePop(ctx, { ...h, ...set });
    return { item: fromJsonText(run.items[run.n - 1] as string), runId: run.runId, seq: run.seq };
  });
}

/**
 * Finishes a recorded pop; each step is guarded, so running it twice changes nothing. A run left
 * empty stays as a `popped` marker past `lastSeq` (its writer, if still waiting, learns it was
 * committed); clearing the intent lowers `lastSeq` and moves the slot in one update.
 */
export async function completePop(ctx: MongoContext, h: HeaderDoc): Promise<void> {
  const p = h.pop as PopIntent;
  const where = { agentId: h.agentId, sessionId: h.sessionId, gen: h.gen, seq: p.seq, runId: p.runId, n: p.n };
  if (p.n > 1) await ctx.runs.updateOne(where, { $pop: { items: 1 }, $set: { n: p.n - 1 } });
  else await ctx.runs.updateOne(where, { $set: { items: [], n: 0, popped: true } });
  await ctx.sessions.updateOne(
    { _id: h._id, gen: h.gen, 'pop.id': p.id } as Filter<HeaderDoc>,
    p.n === 1 ? { $set: { pop: null, lastSeq: p.seq - 1 }, $inc: { slot: 1 } } : { $set: { pop: null } },
  );
}
