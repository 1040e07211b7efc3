import { isExpired, type NormalizedImport, type Run, type SessionHeader } from '@agent-sessions/core/store';
import { LOST_RACE, deleteRuns, expiresMs, putHeader, readHeader, retry, type MongoContext } from './context.js';
import { NEVER, headerKey, metadataTags, newGen, runsExpiry, toHeader, toJsonText, type HeaderDoc, type RunDoc, runDocument } from './documents.js';
import { isDuplicateKey } from './errors.js';

/** How long an import's claim on a session lasts without progress before others take it as abandoned. */
const IMPORT_LEASE_MS = 60_000;
/** Runs inserted per command. */
const IMPORT_BATCH = 250;

/**
 * restoreSession (import, fork): writes a whole session so that no part of it is ever visible.
 *
 * 1. Claim the id with a hidden header (version 0, `importing`) carrying every header field and
 *    the final `lastSeq`; its `expiresAt` is a lease, renewed per batch. A live session refuses
 *    (`conflict`); an expired one or an uncommitted reservation is replaced. Appends and creates
 *    that find a live claim wait; after the lease they replace it, and `prune()` removes it.
 * 2. Insert the runs in batches under the claim's new incarnation (`gen`). Runs of an earlier
 *    incarnation holding the same seqs or run ids are removed first, batch by batch.
 * 3. Commit: one update turns the claim into the session (version 1, its real expiry).
 */
export async function importSession(ctx: MongoContext, input: NormalizedImport): Promise<SessionHeader> {
  const key = headerKey(input.agentId, input.sessionId);
  const hdr = input.header;
  const gen = newGen();
  const started = Date.now();
  // The claim's lease, on the store's clock (as every expiry check is).
  const lease = () => new Date(input.now + (Date.now() - started) + IMPORT_LEASE_MS);
  const expiresAt = hdr.expiresAt === null ? null : new Date(hdr.expiresAt);
  // Runs never expire before their session (see README, TTL).
  const floor = runsExpiry(hdr.ttlMs, input.now);
  const runsExpireAt = expiresAt === null ? NEVER : new Date(Math.min(NEVER.getTime(), Math.max(floor.getTime(), expiresAt.getTime())));
  const claim: HeaderDoc = {
    _id: key,
    agentId: input.agentId,
    sessionId: input.sessionId,
    userId: input.userId,
    gen,
    createdAt: hdr.createdAt,
    updatedAt: hdr.updatedAt,
    expiresAt: lease(),
    ttlMs: hdr.ttlMs,
    runsExpireAt,
    metadata: toJsonText(hdr.metadata),
    tags: metadataTags(hdr.metadata),
    state: toJsonText(hdr.state),
    summary: hdr.summary,
    summarySeq: hdr.summarySeq,
    title: hdr.title,
    preview: hdr.preview,
    usage: { ...hdr.usage },
    importing: true,
    version: 0,
    slot: 0,
    lastSeq: input.lastSeq,
    pop: null,
  };

  await retry(ctx, 'restoreSession', async () => {
    const h = await readHeader(ctx, key);
    if (h && !isExpired(expiresMs(h), input.now) && (h.version > 0 || h.importing)) throw ctx.exists(input);
    // The replaced incarnation's runs: a bounded first step; colliding ones go batch by batch below.
    return putHeader(ctx, h, claim);
  });

  for (let i = 0; i < input.runs.length; i += IMPORT_BATCH) {
    const batch = input.runs.slice(i, i + IMPORT_BATCH).map((r) => runDoc(input, gen, r, runsExpireAt));
    await insertBatch(ctx, input, gen, batch);
    await ctx.sessions.updateOne({ _id: key, gen, importing: true }, { $set: { expiresAt: lease() } });
  }

  const done = await ctx.sessions.updateOne({ _id: key, gen, version: 0, importing: true }, { $set: { version: 1, expiresAt }, $unset: { importing: '' } });
  if (done.matchedCount !== 1) {
    // Our claim was taken over (we outlived the lease): what we wrote is not a session.
    await deleteRuns(ctx, { agentId: input.agentId, sessionId: input.sessionId, gen }, Date.now() + ctx.inlineCleanupMs);
    throw ctx.exists(input);
  }
  const { importing: _, ...session } = claim;
  return toHeader({ ...session, version: 1, expiresAt });
}

function runDoc(input: NormalizedImport, gen: string, r: Run, expiresAt: Date): RunDoc {
  return runDocument({ ...r, agentId: input.agentId, sessionId: input.sessionId }, gen, 0, r.items.map(toJsonText), expiresAt);
}

/**
 * Inserts one batch of imported runs. Runs of an earlier incarnation (or a racing append that
 * read the header before the claim) holding these seqs or run ids are removed first; runs of
 * this import already in (a retried batch) are skipped.
 */
async function insertBatch(ctx: MongoContext, input: NormalizedImport, gen: string, batch: RunDoc[]): Promise<void> {
  const first = (batch[0] as RunDoc).seq;
  const last = (batch[batch.length - 1] as RunDoc).seq;
  const where = { agentId: input.agentId, sessionId: input.sessionId };
  const clash = { $or: [{ seq: { $gte: first, $lte: last } }, { runId: { $in: batch.map((d) => d.runId) } }] };
  await retry(ctx, 'restoreSession', async () => {
    await ctx.runs.deleteMany({ ...where, gen: { $ne: gen }, ...clash });
    const have = new Set(
      (await ctx.runs.find({ ...where, gen, seq: { $gte: first, $lte: last } }, { projection: { seq: 1 } }).toArray()).map((d) => d.seq),
    );
    const todo = batch.filter((d) => !have.has(d.seq));
    if (todo.length === 0) return true;
    try {
      await ctx.runs.insertMany(todo.map((d) => ({ ...d })), { ordered: true });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return LOST_RACE;
    }
  });
}
