import { AgentSessionsError, isAgentSessionsError } from '../errors.js';
import { guarded } from '../kernel/guard.js';
import { REWRITE_ACCESS, type RewriteAccess } from '../kernel/primitives.js';
import { LOST_RACE, retryContention } from '../kernel/retry.js';
import { runPages } from '../runs.js';
import type { SessionStore } from '../session-store.js';
import type { Run, SessionHeader, SessionRef } from '../types.js';
import { sealedKeyId, type Encryption } from './encryption.js';

/**
 * What the base class gives core's own tools (re-encryption): reads that return what is stored,
 * still sealed, through the same guard as every call. Not part of the public contract.
 */
export const RAW_ACCESS: unique symbol = Symbol.for('@agent-sessions/core/raw-access') as never;

export interface RawAccess {
  readonly source: string;
  readonly encryption: Encryption | null;
  getSession(ref: SessionRef): Promise<SessionHeader | null>;
  listRuns(input: SessionRef & { limit: number; beforeSeq?: number | undefined }): Promise<Run[]>;
}

export interface RawAccessible {
  [RAW_ACCESS](): RawAccess;
}

export interface ReencryptResult {
  /** False when the session does not exist for this caller. */
  found: boolean;
  /** The key id new values are sealed with. */
  currentKeyId: string;
  /** True when any header field (state, summary, title, preview) was sealed again with the current key. */
  headerRewritten: boolean;
  /** Runs read. */
  runsChecked: number;
  /** Runs found with items sealed with another key (or stored clear). */
  runsOnOtherKeys: number;
  /** Runs whose items were sealed again with the current key. */
  runsRewritten: number;
  /**
   * Runs left on other keys: a run that changed while it was rewritten twice in a row (a pop, an
   * import), or a store without the rewrite primitive. Running the command again picks them up;
   * keep the old keys in the ring until it reports 0.
   */
  runsSkipped: number;
  /** Header fields (title, preview) still sealed with another key after this pass. */
  headerFieldsOnOtherKeys: string[];
}

type TextField = 'title' | 'preview';
const TEXT_FIELDS: readonly TextField[] = ['title', 'preview'];

/**
 * Seals a session's content again with the current key of the store's key ring:
 * - the header's state and summary (one `updateSession`, retried if another writer got there first),
 * - its title and preview (a compare-and-set on both, leaving version and updatedAt alone),
 * - every run with an item on another key: read in bounded pages, opened with the keys the
 *   envelopes name, sealed with the current key and written back by a compare-and-set on the
 *   items as read, so a concurrent `popItem` is never undone. A run that changed meanwhile is
 *   read again and retried once, else counted in `runsSkipped`.
 * A value that does not open (a key missing from the ring, a tampered value) fails the call with
 * a `DecryptionError`; nothing is written for it.
 */
export async function reencryptSession(store: RawAccessible, ref: SessionRef, options: { pageSize?: number | undefined } = {}): Promise<ReencryptResult> {
  const raw = store[RAW_ACCESS]();
  const enc = raw.encryption;
  if (!enc) {
    throw new AgentSessionsError('invalid_input', 'reencryptSession needs a store made with the encryption option', { source: raw.source });
  }
  const access = (store as unknown as Partial<Record<typeof REWRITE_ACCESS, () => RewriteAccess>>)[REWRITE_ACCESS]?.();
  const current = enc.currentKeyId;
  const result: ReencryptResult = {
    found: false,
    currentKeyId: current,
    headerRewritten: false,
    runsChecked: 0,
    runsOnOtherKeys: 0,
    runsRewritten: 0,
    runsSkipped: 0,
    headerFieldsOnOtherKeys: [],
  };
  const stale = (value: string | null | undefined | object): boolean => {
    if (value === null || value === undefined) return false;
    if (typeof value === 'object' && Object.keys(value).length === 0) return false;
    return sealedKeyId(value as never) !== current;
  };
  const pub = store as unknown as {
    getSession(ref: SessionRef): Promise<SessionHeader | null>;
    updateSession(input: SessionRef & { expectedVersion: number; state?: object; summary?: string | null; summarySeq?: number }): Promise<SessionHeader>;
  };
  // A rewrite primitive behind the store's error classification and call bound.
  const call = <T>(op: string, fn: (a: RewriteAccess) => Promise<T>): Promise<T> => {
    if (!access) return Promise.reject(new AgentSessionsError('not_implemented', `this store cannot ${op}`, { source: raw.source }));
    return guarded(op, () => fn(access), { source: raw.source, timeoutMs: access.timeoutMs, classify: (err) => access.classify(err) });
  };
  const scoped = { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId ?? null };

  // 1. State and summary, through the public write.
  await retryContention(
    async () => {
      const sealed = await raw.getSession(ref);
      if (!sealed) return undefined;
      result.found = true;
      if (!stale(sealed.state) && !stale(sealed.summary)) return undefined;
      // Opened through the public read (the key the envelope names), sealed again by the public
      // write (the current key); the version check keeps a concurrent update from being undone.
      const open = await pub.getSession(ref);
      if (!open || open.version !== sealed.version) return LOST_RACE;
      const update: Parameters<typeof pub.updateSession>[0] = { ...ref, expectedVersion: open.version, state: open.state };
      if (open.summary !== null) {
        update.summary = open.summary;
        const seq = (open as { summarySeq?: number }).summarySeq;
        if (seq !== undefined) update.summarySeq = seq;
      }
      try {
        await pub.updateSession(update);
      } catch (err) {
        if (isAgentSessionsError(err, 'conflict')) return LOST_RACE;
        throw err;
      }
      result.headerRewritten = true;
      return undefined;
    },
    { op: 'reencryptSession', source: raw.source },
  );
  if (!result.found) return result;

  // 2. Title and preview: a compare-and-set on both as read (an append may replace the preview
  // meanwhile: read again and retry).
  await retryContention(
    async () => {
      const sealed = await raw.getSession(ref);
      if (!sealed) return undefined;
      const was = { title: sealed.title, preview: sealed.preview };
      const staleFields = TEXT_FIELDS.filter((f) => stale(was[f]));
      result.headerFieldsOnOtherKeys = staleFields;
      if (staleFields.length === 0) return undefined;
      const next = { ...was };
      for (const f of staleFields) {
        next[f] = enc.sealText(f, sealed.agentId, sealed.sessionId, enc.openText(f, sealed.agentId, sealed.sessionId, was[f]));
      }
      try {
        const ok = await call('rewrite title and preview', (a) => a.rewriteText({ ...scoped, expected: was, ...next, now: a.now() }));
        if (!ok) return LOST_RACE;
      } catch (err) {
        if (isAgentSessionsError(err, 'not_implemented')) return undefined; // reported in headerFieldsOnOtherKeys
        throw err;
      }
      result.headerFieldsOnOtherKeys = [];
      result.headerRewritten = true;
      return undefined;
    },
    { op: 'reencryptSession', source: raw.source },
  );

  // 3. The runs: runPages over the raw reads (bounded pages, the envelopes as stored).
  const onOtherKey = (run: Run): boolean => run.items.some((item) => sealedKeyId(item) !== current);
  const { agentId, sessionId } = scoped;
  let canRewrite = access !== undefined;
  const rewrite = async (first: Run): Promise<'rewritten' | 'current' | 'skipped'> => {
    let run = first;
    for (let attempt = 0; ; attempt++) {
      const items = enc.sealItems(agentId, sessionId, run.runId, enc.openItems(agentId, sessionId, run.runId, run.items));
      const ok = await call('rewrite a run', (a) => a.rewriteRun({ ...scoped, runId: run.runId, seq: run.seq, expected: run.items, items, now: a.now() }));
      if (ok) return 'rewritten';
      if (attempt === 1) return 'skipped';
      // Changed meanwhile (a pop took an item, the run was removed, another pass got there): look again.
      const [again] = await raw.listRuns({ ...ref, limit: 1, beforeSeq: run.seq + 1 });
      if (!again || again.runId !== run.runId || again.seq !== run.seq) return 'skipped';
      if (!onOtherKey(again)) return 'current';
      run = again;
    }
  };
  const sealedReads = { listRuns: raw.listRuns, getSession: raw.getSession } as unknown as SessionStore;
  for await (const page of runPages(sealedReads, ref, { pageSize: options.pageSize ?? 100 })) {
    for (const run of page) {
      result.runsChecked += 1;
      if (!onOtherKey(run)) continue;
      result.runsOnOtherKeys += 1;
      if (!canRewrite) {
        result.runsSkipped += 1;
        continue;
      }
      try {
        const outcome = await rewrite(run);
        if (outcome === 'rewritten') result.runsRewritten += 1;
        else if (outcome === 'skipped') result.runsSkipped += 1;
      } catch (err) {
        if (!isAgentSessionsError(err, 'not_implemented')) throw err;
        // A store without the primitive: runs keep opening with their own key ids.
        canRewrite = false;
        result.runsSkipped += 1;
      }
    }
  }
  return result;
}
