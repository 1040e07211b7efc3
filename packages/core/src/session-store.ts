import { encodeCursor } from './cursor.js';
import { appendAt, appendInput, createInput, listRunsAt, writeAt, listInput, listRunsInput, patchInput, pruneInput, scopedRef, updateInput, userListInput } from './kernel/inputs.js';
import { MAX_PAGE, completeHeader, expiryFor, withNow } from './kernel/normalized.js';
import { CallLayer } from './kernel/call-layer.js';
import { restoreInput, type RestoreSessionInput } from './kernel/restore.js';
import { openAppend, openHistory, openPopped, openRun, sealAppend, sealedBytes, sealFields, sealImport } from './ops/sealing.js';
import { ATTR } from './ops/telemetry.js';
import type { AppendRunInput, AppendRunResult, CreateSessionInput, History, ListRunsInput, ListSessionsInput, PoppedItem, PruneInput, PruneResult, ReadHistoryInput, RenameSessionInput, Run, SessionHeader, SessionKey, SessionPage, SessionRef, UpdateSessionInput, UserDataInput } from './types.js';
import { assertId, assertLimit } from './validate.js';

export type { RestoreSessionInput } from './kernel/restore.js';

/**
 * The store contract. Public methods validate input (before anything is written), apply the
 * store-wide defaults and wrap every failure in one AgentSessionsError; a store implements the
 * protected `do*` primitives over already validated input.
 *
 * Rules every primitive keeps:
 * - A session that is expired, or owned by another user than a named one, behaves as absent.
 *   Writes to it (other than a fresh start of an expired one) fail with `not_found`.
 * - `doAppendRun` is atomic, idempotent by run id within the session, gapless in `seq`.
 * - Order is by `seq` only.
 */
export abstract class SessionStore extends CallLayer {

  /** Appends one run: all its items or none, once per run id, at the next sequence number. */
  async appendRun(input: AppendRunInput): Promise<AppendRunResult> {
    const checked = appendInput(input, this.name);
    return this.callGuard(
      'appendRun',
      async (rec) => {
        const now = this.clock();
        const enc = this.sealing;
        const sealed = enc ? sealAppend(enc, checked) : checked;
        if (rec.recording) {
          rec.set({
            [ATTR.itemCount]: checked.items.length,
            [ATTR.runCount]: 1,
            [ATTR.bytes]: enc ? sealedBytes(sealed.items) : JSON.stringify(checked.items).length,
            [ATTR.encrypted]: enc !== null,
          });
        }
        const res = await this.doAppendRun(
          appendAt(sealed, now, this.defaultTtlMs, checked.ttlMs === undefined ? undefined : expiryFor(checked.ttlMs, now), expiryFor(this.defaultTtlMs, now)),
        );
        const out = { run: res.run, created: res.created, session: completeHeader(res.session) };
        return enc ? openAppend(enc, checked, out) : out;
      },
      { agentId: checked.agentId },
    );
  }

  /** The last `limit` runs before `beforeSeq` (or the newest), oldest first. Empty for an absent session. */
  async listRuns(input: ListRunsInput): Promise<Run[]> {
    const checked = listRunsInput(input, this.name, this.touchOnRead);
    return this.callGuard(
      'listRuns',
      async (rec) => {
        const runs = await this.doListRuns(listRunsAt(checked, this.clock()));
        this.recordCallRuns(rec, runs);
        const enc = this.sealing;
        return enc ? runs.map((r) => openRun(enc, checked, r)) : runs;
      },
      { agentId: checked.agentId },
    );
  }

  /**
   * The session's header and its last `limit` runs before `beforeSeq` (or the newest), oldest
   * first: what a turn loads. Server stores answer it in one round trip.
   */
  async readHistory(input: ReadHistoryInput): Promise<History> {
    const checked = listRunsInput(input, this.name, this.touchOnRead);
    return this.callGuard(
      'readHistory',
      async (rec) => {
        const h = await this.doReadHistory(listRunsAt(checked, this.clock()));
        this.recordCallRuns(rec, h.runs);
        const out = { session: h.session && completeHeader(h.session), runs: h.runs };
        return this.sealing ? openHistory(this.sealing, checked, out) : out;
      },
      { agentId: checked.agentId },
    );
  }

  /** The session's header, or null when it does not exist for this caller. */
  async getSession(input: SessionRef): Promise<SessionHeader | null> {
    const ref = scopedRef(input, this.name);
    return this.callGuard(
      'getSession',
      async () => {
        const h = await this.doGetSession({ agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, now: this.clock(), touch: this.touchOnRead });
        return h && this.openSealed(completeHeader(h));
      },
      { agentId: ref.agentId },
    );
  }

  /** Creates an empty session, or returns the existing one (`created: false`). */
  async createSession(input: CreateSessionInput): Promise<{ session: SessionHeader; created: boolean }> {
    const checked = createInput(input, this.name, this.defaultTtlMs);
    return this.callGuard(
      'createSession',
      async () => {
        const now = this.clock();
        const sealed = this.sealing ? sealFields(this.sealing, checked) : checked;
        const res = await this.doCreateSession(withNow(Object.assign({}, sealed, { expiresAt: expiryFor(checked.ttlMs, now) }), now));
        return { session: this.openSealed(completeHeader(res.session)), created: res.created };
      },
      { agentId: checked.agentId },
    );
  }

  /** Replaces metadata, state and/or summary if `expectedVersion` is current; otherwise `conflict`. */
  async updateSession(input: UpdateSessionInput): Promise<SessionHeader> {
    return this.headerWrite('updateSession', updateInput(input, this.name), (i) => this.doUpdateSession(i));
  }

  /** One page of an agent's (or a user's) sessions, newest first. */
  async listSessions(input: ListSessionsInput): Promise<SessionPage> {
    const { limit, ...checked } = listInput(input, this.name);
    const found = await this.callGuard(
      'listSessions',
      async () => {
        const headers = await this.doListSessions(withNow(checked, this.clock()));
        return headers.slice(0, limit + 1).map((h, i) => (i < limit ? this.openSealed(completeHeader(h)) : completeHeader(h)));
      },
      { agentId: checked.agentId },
    );
    const sessions = found.slice(0, limit);
    const last = sessions[sessions.length - 1];
    return { sessions, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /** Sets (or with null clears) a session's title in one write, without reading it first. */
  async renameSession(input: RenameSessionInput): Promise<SessionHeader> {
    return this.headerWrite('renameSession', patchInput(input, this.name, true), (i) => this.doPatchSession(i));
  }

  /**
   * One write that returns the header (update, rename, touch): the content fields it carries
   * sealed, the stored header completed and opened, under the call's guard.
   */
  private headerWrite<T extends Parameters<typeof sealFields>[1]>(
    op: string,
    checked: T,
    write: (input: T & { now: number }) => Promise<Parameters<typeof completeHeader>[0]>,
  ): Promise<SessionHeader> {
    return this.callGuard(
      op,
      async () => {
        const sealed = this.sealing ? sealFields(this.sealing, checked) : checked;
        return this.openSealed(completeHeader(await write(withNow(sealed, this.clock()))));
      },
      { agentId: checked.agentId },
    );
  }

  /** Marks a session as just used: `updatedAt` and its TTL are refreshed, in one write. */
  async touchSession(input: SessionRef): Promise<SessionHeader> {
    const checked = patchInput(input, this.name, false);
    return this.callGuard(
      'touchSession',
      async () => this.openSealed(completeHeader(await this.doPatchSession(withNow(checked, this.clock())))),
      { agentId: checked.agentId },
    );
  }

  /**
   * One page of a user's live sessions across agents (or of one agent), ordered by agent and
   * session id: what erasure and operators walk. `after` is the last session of the previous page.
   */
  async listUserSessions(input: UserDataInput & { limit?: number | undefined; after?: SessionKey | null | undefined }): Promise<SessionHeader[]> {
    const { userId, agentId } = userListInput(input, this.name);
    const limit = input.limit ?? 100;
    assertLimit(limit, 'limit', MAX_PAGE, this.name);
    const after = input.after ?? null;
    if (after !== null) {
      assertId(after.agentId, 'after.agentId', this.name);
      assertId(after.sessionId, 'after.sessionId', this.name);
    }
    const found = await this.callGuard(
      'listUserSessions',
      async () => {
        const after2 = after && { agentId: after.agentId, sessionId: after.sessionId };
        const headers = await this.doListUserSessions({ userId, agentId, limit, after: after2, now: this.clock() });
        return headers.map((h) => this.openSealed(completeHeader(h)));
      },
      { agentId: agentId ?? undefined },
    );
    return found;
  }

  /**
   * Writes a whole session at once: its header fields and its runs with their own seqs, times
   * and statuses (import, fork). Fails with `conflict` if the session exists. Use
   * `importSession` / `forkSession` rather than calling this directly.
   */
  async restoreSession(input: RestoreSessionInput): Promise<SessionHeader> {
    const checked = restoreInput(input, this.name);
    return this.callGuard(
      'restoreSession',
      async (rec) => {
        const sealed = this.sealing ? sealImport(this.sealing, checked) : checked;
        this.recordCallRuns(rec, sealed.runs);
        return this.openSealed(completeHeader(await this.doImportSession(withNow(sealed, this.clock()))));
      },
      { timeout: false, agentId: checked.agentId },
    );
  }

  /** Deletes a session with all its runs. False when it did not exist for this caller. */
  async deleteSession(input: SessionRef): Promise<boolean> {
    const ref = scopedRef(input, this.name);
    return this.callGuard('deleteSession', () => this.doDeleteSession(writeAt(ref, this.clock())), { agentId: ref.agentId });
  }

  /** Removes and returns the newest item of the newest run; a run left empty is removed. */
  async popItem(input: SessionRef): Promise<PoppedItem | null> {
    const ref = scopedRef(input, this.name);
    return this.callGuard(
      'popItem',
      async () => {
        const popped = await this.doPopItem(writeAt(ref, this.clock()));
        return this.sealing ? openPopped(this.sealing, ref, popped) : popped;
      },
      { agentId: ref.agentId },
    );
  }

  /** Removes expired sessions and, with `runsOlderThan`, runs created longer ago than that. */
  async prune(input: PruneInput = {}): Promise<PruneResult> {
    const { agentId, ageMs } = pruneInput(input, this.name);
    const now = this.clock();
    const runsCreatedBefore = ageMs === null ? null : now - ageMs;
    return this.callGuard('prune', () => this.doPrune({ agentId, runsCreatedBefore, now }), { timeout: false, agentId: agentId ?? undefined });
  }
}
