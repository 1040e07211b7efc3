import { encodeCursor } from './cursor.js';
import { AgentSessionsError } from './errors.js';
import { guarded } from './kernel/guard.js';
import {
  appendInput,
  createInput,
  listInput,
  listRunsInput,
  patchInput,
  pruneInput,
  scopedRef,
  updateInput,
  userListInput,
} from './kernel/inputs.js';
import { DEFAULT_TIMEOUT_MS, MAX_PAGE, completeHeader, expiryFor, type StoreOptions } from './kernel/normalized.js';
import { StorePrimitives } from './kernel/primitives.js';
import { restoreInput, type RestoreSessionInput } from './kernel/restore.js';
import type { Encryption } from './ops/encryption.js';
import type { OpsLogger } from './ops/logger.js';
import { RAW_ACCESS, type RawAccess } from './ops/reencrypt.js';
import { openAppend, openHeader, openHistory, openPopped, openRun, sealAppend, sealedBytes, sealFields, sealImport } from './ops/sealing.js';
import { StoreOps } from './ops/store-ops.js';
import { ATTR } from './ops/telemetry.js';
import type { CallRecorder } from './ops/telemetry-types.js';
import { ttlToMs } from './ttl.js';
import type {
  AppendRunInput,
  AppendRunResult,
  CreateSessionInput,
  History,
  ListRunsInput,
  ListSessionsInput,
  PoppedItem,
  PruneInput,
  PruneResult,
  ReadHistoryInput,
  RenameSessionInput,
  Run,
  SessionHeader,
  SessionKey,
  SessionPage,
  SessionRef,
  UpdateSessionInput,
  UserDataInput,
} from './types.js';
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
export abstract class SessionStore extends StorePrimitives {

  protected readonly defaultTtlMs: number | null;
  protected readonly touchOnRead: boolean;
  protected readonly clock: () => number;
  /** The bound of one call, in ms. */
  protected readonly timeoutMs: number;
  #setupDone = false;
  #setupRunning: Promise<void> | undefined;
  /** Logging, telemetry and encryption (see `ops/`). */
  readonly #ops: StoreOps;
  readonly #enc: Encryption | null;

  constructor(options: StoreOptions = {}) {
    super();
    // A subclass's `name` field is set after this constructor: read it when first needed.
    this.#ops = new StoreOps(options, () => this.name ?? this.constructor.name);
    this.#enc = this.#ops.encryption;
    this.defaultTtlMs = ttlToMs(options.ttl ?? null) ?? null;
    this.touchOnRead = options.touchOnRead ?? false;
    this.clock = options.clock ?? Date.now;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2 ** 31 - 1) {
      throw new AgentSessionsError('invalid_input', `timeoutMs must be a whole number of ms from 1 to ${2 ** 31 - 1}`, {
        source: this.constructor.name,
      });
    }
    this.timeoutMs = timeout;
  }

  /** Appends one run: all its items or none, once per run id, at the next sequence number. */
  async appendRun(input: AppendRunInput): Promise<AppendRunResult> {
    const checked = appendInput(input, this.name);
    return this.guard(
      'appendRun',
      async (rec) => {
        const now = this.clock();
        const enc = this.#enc;
        const sealed = enc ? sealAppend(enc, checked) : checked;
        if (rec.recording) {
          rec.set({
            [ATTR.itemCount]: checked.items.length,
            [ATTR.runCount]: 1,
            [ATTR.bytes]: enc ? sealedBytes(sealed.items) : JSON.stringify(checked.items).length,
            [ATTR.encrypted]: enc !== null,
          });
        }
        const res = await this.doAppendRun({
          ...sealed,
          now,
          defaultTtlMs: this.defaultTtlMs,
          expiresAt: checked.ttlMs === undefined ? undefined : expiryFor(checked.ttlMs, now),
          defaultExpiresAt: expiryFor(this.defaultTtlMs, now),
        });
        const out = { run: res.run, created: res.created, session: completeHeader(res.session) };
        return enc ? openAppend(enc, checked, out) : out;
      },
      { agentId: checked.agentId },
    );
  }

  /** The last `limit` runs before `beforeSeq` (or the newest), oldest first. Empty for an absent session. */
  async listRuns(input: ListRunsInput): Promise<Run[]> {
    const checked = listRunsInput(input, this.name, this.touchOnRead);
    return this.guard(
      'listRuns',
      async (rec) => {
        const runs = await this.doListRuns({ ...checked, now: this.clock() });
        this.recordRuns(rec, runs);
        const enc = this.#enc;
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
    return this.guard(
      'readHistory',
      async (rec) => {
        const h = await this.doReadHistory({ ...checked, now: this.clock() });
        this.recordRuns(rec, h.runs);
        const out = { session: h.session && completeHeader(h.session), runs: h.runs };
        return this.#enc ? openHistory(this.#enc, checked, out) : out;
      },
      { agentId: checked.agentId },
    );
  }

  /** The session's header, or null when it does not exist for this caller. */
  async getSession(input: SessionRef): Promise<SessionHeader | null> {
    const ref = scopedRef(input, this.name);
    return this.guard(
      'getSession',
      async () => {
        const h = await this.doGetSession({ ...ref, now: this.clock(), touch: this.touchOnRead });
        return h && this.open(completeHeader(h));
      },
      { agentId: ref.agentId },
    );
  }

  /** Creates an empty session, or returns the existing one (`created: false`). */
  async createSession(input: CreateSessionInput): Promise<{ session: SessionHeader; created: boolean }> {
    const checked = createInput(input, this.name, this.defaultTtlMs);
    return this.guard(
      'createSession',
      async () => {
        const now = this.clock();
        const sealed = this.#enc ? sealFields(this.#enc, checked) : checked;
        const res = await this.doCreateSession({ ...sealed, expiresAt: expiryFor(checked.ttlMs, now), now });
        return { session: this.open(completeHeader(res.session)), created: res.created };
      },
      { agentId: checked.agentId },
    );
  }

  /** Replaces metadata, state and/or summary if `expectedVersion` is current; otherwise `conflict`. */
  async updateSession(input: UpdateSessionInput): Promise<SessionHeader> {
    const checked = updateInput(input, this.name);
    return this.guard(
      'updateSession',
      async () => {
        const sealed = this.#enc ? sealFields(this.#enc, checked) : checked;
        return this.open(completeHeader(await this.doUpdateSession({ ...sealed, now: this.clock() })));
      },
      { agentId: checked.agentId },
    );
  }

  /** One page of an agent's (or a user's) sessions, newest first. */
  async listSessions(input: ListSessionsInput): Promise<SessionPage> {
    const { limit, ...checked } = listInput(input, this.name);
    const found = await this.guard(
      'listSessions',
      async () => {
        const headers = await this.doListSessions({ ...checked, now: this.clock() });
        return headers.slice(0, limit + 1).map((h, i) => (i < limit ? this.open(completeHeader(h)) : completeHeader(h)));
      },
      { agentId: checked.agentId },
    );
    const sessions = found.slice(0, limit);
    const last = sessions[sessions.length - 1];
    return { sessions, nextCursor: found.length > limit && last ? encodeCursor(last) : null };
  }

  /** Sets (or with null clears) a session's title in one write, without reading it first. */
  async renameSession(input: RenameSessionInput): Promise<SessionHeader> {
    const checked = patchInput(input, this.name, true);
    return this.guard(
      'renameSession',
      async () => {
        const sealed = this.#enc ? sealFields(this.#enc, checked) : checked;
        return this.open(completeHeader(await this.doPatchSession({ ...sealed, now: this.clock() })));
      },
      { agentId: checked.agentId },
    );
  }

  /** Marks a session as just used: `updatedAt` and its TTL are refreshed, in one write. */
  async touchSession(input: SessionRef): Promise<SessionHeader> {
    const checked = patchInput(input, this.name, false);
    return this.guard(
      'touchSession',
      async () => this.open(completeHeader(await this.doPatchSession({ ...checked, now: this.clock() }))),
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
    const found = await this.guard(
      'listUserSessions',
      async () => {
        const after2 = after && { agentId: after.agentId, sessionId: after.sessionId };
        const headers = await this.doListUserSessions({ userId, agentId, limit, after: after2, now: this.clock() });
        return headers.map((h) => this.open(completeHeader(h)));
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
    return this.guard(
      'restoreSession',
      async (rec) => {
        const sealed = this.#enc ? sealImport(this.#enc, checked) : checked;
        this.recordRuns(rec, sealed.runs);
        return this.open(completeHeader(await this.doImportSession({ ...sealed, now: this.clock() })));
      },
      { timeout: false, agentId: checked.agentId },
    );
  }

  /** Deletes a session with all its runs. False when it did not exist for this caller. */
  async deleteSession(input: SessionRef): Promise<boolean> {
    const ref = scopedRef(input, this.name);
    return this.guard('deleteSession', () => this.doDeleteSession({ ...ref, now: this.clock() }), { agentId: ref.agentId });
  }

  /** Removes and returns the newest item of the newest run; a run left empty is removed. */
  async popItem(input: SessionRef): Promise<PoppedItem | null> {
    const ref = scopedRef(input, this.name);
    return this.guard(
      'popItem',
      async () => {
        const popped = await this.doPopItem({ ...ref, now: this.clock() });
        return this.#enc ? openPopped(this.#enc, ref, popped) : popped;
      },
      { agentId: ref.agentId },
    );
  }

  /** Removes expired sessions and, with `runsOlderThan`, runs created longer ago than that. */
  async prune(input: PruneInput = {}): Promise<PruneResult> {
    const { agentId, ageMs } = pruneInput(input, this.name);
    const now = this.clock();
    const runsCreatedBefore = ageMs === null ? null : now - ageMs;
    return this.guard('prune', () => this.doPrune({ agentId, runsCreatedBefore, now }), { timeout: false, agentId: agentId ?? undefined });
  }

  /**
   * Runs the store's one-time setup (connecting, migrating, loading scripts) now instead of on the
   * first call. Concurrent callers share one attempt; a failed attempt is retried by the next call.
   */
  async setup(): Promise<void> {
    await this.guard('setup', async () => {});
  }

  /** Releases what the store opened itself; an injected client stays open. */
  async close(): Promise<void> {
    await this.guard('close', () => this.doClose(), { setup: false });
  }

  toJSON(): { store: string } {
    return { store: this.name };
  }

  /**
   * Core's own tools only (`reencryptSession`): reads that return what is stored, still sealed.
   * @internal
   */
  [RAW_ACCESS](): RawAccess {
    return {
      source: this.name,
      encryption: this.#enc,
      getSession: async (input) => {
        const ref = scopedRef(input, this.name);
        return this.guard('getSession', async () => {
          const h = await this.doGetSession({ ...ref, now: this.clock(), touch: false });
          return h && completeHeader(h);
        });
      },
      listRuns: async (input) => {
        const checked = listRunsInput(input, this.name, false);
        return this.guard('listRuns', () => this.doListRuns({ ...checked, now: this.clock() }));
      },
    };
  }

  /**
   * The store's logger (the `logger` option, or a no-op): for a store's own warnings, such as an
   * index entry cleaned up or a risky server setting. Never log session content or credentials.
   */
  protected get logger(): OpsLogger {
    return this.#ops.logger;
  }

  #ready(): Promise<void> | undefined {
    if (this.#setupDone) return undefined;
    this.#setupRunning ??= this.doSetup().then(
      () => {
        this.#setupDone = true;
        this.#setupRunning = undefined;
      },
      (err: unknown) => {
        this.#setupRunning = undefined;
        throw err;
      },
    );
    return this.#setupRunning;
  }

  /** A header as stored, opened (when encryption is on). */
  private open(h: SessionHeader): SessionHeader {
    return this.#enc ? openHeader(this.#enc, h) : h;
  }

  /** Run, item and byte counts of runs read or written, for the call's span (computed only when it records). */
  private recordRuns(rec: CallRecorder, runs: readonly Run[]): void {
    if (!rec.recording) return;
    let items = 0;
    let bytes = 0;
    for (const r of runs) {
      items += r.items.length;
      bytes += this.#enc ? sealedBytes(r.items) : JSON.stringify(r.items).length;
    }
    rec.set({ [ATTR.runCount]: runs.length, [ATTR.itemCount]: items, [ATTR.bytes]: bytes, [ATTR.encrypted]: this.#enc !== null });
  }

  /**
   * Setup first, then `fn`, bounded by `timeoutMs`; every failure becomes an AgentSessionsError.
   * The whole call is one span (and one latency sample), and a failure is logged once.
   */
  private guard<T>(
    op: string,
    fn: (rec: CallRecorder) => Promise<T>,
    opts: { setup?: boolean; timeout?: boolean; agentId?: string | undefined } = {},
  ): Promise<T> {
    return this.#ops.run(op, opts.agentId, () => this.serverInfo(), (rec) =>
      guarded(op, () => fn(rec), {
        source: this.name,
        timeoutMs: opts.timeout === false ? null : this.timeoutMs,
        ready: opts.setup === false ? undefined : () => this.#ready(),
        classify: (err) => this.classifyError(err),
      }),
    );
  }

}
