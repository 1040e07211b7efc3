import { AgentSessionsError, isAgentSessionsError } from '../errors.js';
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
  /** True when the header's state and summary were sealed again with the current key. */
  headerRewritten: boolean;
  /** Runs read. */
  runsChecked: number;
  /**
   * Runs whose items are still sealed with another key (or stored clear). Rewriting them needs a
   * store primitive that replaces a run's items in place; until stores have it they stay as
   * they are and keep opening with their own key id, so keep that key in the ring.
   */
  runsOnOtherKeys: number;
  /** Header fields sealed with another key that `updateSession` cannot rewrite (title, preview). */
  headerFieldsOnOtherKeys: string[];
}

const TEXT_FIELDS = ['title', 'preview'] as const;

/**
 * Seals a session's content again with the current key of the store's key ring: the header's
 * state and summary now (one `updateSession`, retried if another writer got there first), and
 * reports how many runs are still on other keys. Reads the runs in bounded pages.
 */
export async function reencryptSession(store: RawAccessible, ref: SessionRef, options: { pageSize?: number | undefined } = {}): Promise<ReencryptResult> {
  const raw = store[RAW_ACCESS]();
  const enc = raw.encryption;
  if (!enc) {
    throw new AgentSessionsError('invalid_input', 'reencryptSession needs a store made with the encryption option', { source: raw.source });
  }
  const current = enc.currentKeyId;
  const result: ReencryptResult = {
    found: false,
    currentKeyId: current,
    headerRewritten: false,
    runsChecked: 0,
    runsOnOtherKeys: 0,
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

  await retryContention(
    async () => {
      const sealed = await raw.getSession(ref);
      if (!sealed) return undefined;
      result.found = true;
      const h = sealed as SessionHeader & Partial<Record<(typeof TEXT_FIELDS)[number], string | null>>;
      result.headerFieldsOnOtherKeys = TEXT_FIELDS.filter((f) => stale(h[f]));
      if (!stale(h.state) && !stale(h.summary)) return undefined;
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

  // runPages over the raw reads: bounded pages, and the envelopes as stored (their key ids).
  const sealedReads = { listRuns: raw.listRuns, getSession: raw.getSession } as unknown as SessionStore;
  for await (const page of runPages(sealedReads, ref, { pageSize: options.pageSize ?? 100 })) {
    for (const run of page) {
      result.runsChecked += 1;
      if (run.items.some((item) => sealedKeyId(item) !== current)) result.runsOnOtherKeys += 1;
    }
  }
  return result;
}
