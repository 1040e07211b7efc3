// How a framework turn becomes a stored run: defined once here, used by every adapter, so the
// same event is the same record whatever the framework (see "How a turn is stored" in the README).
import { AgentSessionsError, isAgentSessionsError, type ErrorCode } from './errors.js';
import type { OpsLogger } from './ops/logger.js';
import type { SessionStore } from './session-store.js';
import type { AppendRunInput, AppendRunResult, JsonObject, Run, RunStatus, SessionHeader, SessionRef } from './types.js';
import type { ItemCodec } from './window/codec.js';

/** How a turn ended, in the words both adapters use. */
export type TurnEnd = 'completed' | 'failed' | 'aborted' | 'cancelled' | 'interrupted';

/**
 * The stored status of each end. Only `completed` runs enter the default window:
 * - `failed`: the model, a tool or the framework threw;
 * - `aborted`: the caller's AbortSignal stopped the run;
 * - `cancelled`: a streamed run the caller stopped reading (or cancelled) before it finished;
 * - `interrupted`: the run paused for a human (tool approval, LangGraph `interrupt()`), resumable.
 */
export const TURN_STATUS: Readonly<Record<TurnEnd, RunStatus>> = {
  completed: 'completed',
  failed: 'failed',
  aborted: 'failed',
  cancelled: 'failed',
  interrupted: 'interrupted',
};

/** The error of a turn that did not complete, as stored in `run.metadata.error`. */
export interface TurnError {
  name: string;
  message: string;
  /** The AgentSessionsError code, when the error was one. */
  code?: ErrorCode;
}

/** The longest error message stored with a run, in characters. */
export const MAX_TURN_ERROR_MESSAGE = 2000;

/** A thrown value as stored with a run: `{ name, message }` (and `code` for an AgentSessionsError). */
export function turnError(err: unknown): TurnError {
  const name = err instanceof Error ? err.name : 'Error';
  const message = (err instanceof Error ? err.message : String(err)).slice(0, MAX_TURN_ERROR_MESSAGE);
  return isAgentSessionsError(err) ? { name, message, code: err.code } : { name, message };
}

/** The error a turn ending `aborted` or `cancelled` stores when the framework gave none. */
export function endError(end: 'aborted' | 'cancelled'): TurnError {
  return end === 'aborted'
    ? { name: 'AbortError', message: 'the run was aborted by its signal' }
    : { name: 'Cancelled', message: 'the streamed run was cancelled before it finished' };
}

/**
 * The metadata a turn's run carries: the caller's own, then `outcome` (for anything but
 * `completed`) and `error` (`{ name, message }`) for `failed`, `aborted` and `cancelled`.
 */
export function turnMetadata(
  end: TurnEnd,
  options: { metadata?: JsonObject | null | undefined; error?: unknown; extra?: JsonObject | undefined } = {},
): JsonObject {
  const out: JsonObject = { ...(options.metadata ?? {}), ...(options.extra ?? {}) };
  if (end !== 'completed') out.outcome = end;
  if (end === 'failed' || end === 'aborted' || end === 'cancelled') {
    const error = options.error === undefined && end !== 'failed' ? endError(end) : turnError(options.error);
    out.error = { ...error };
  }
  return out;
}

/**
 * The input items a turn stores: everything the caller sent for this turn except instructions
 * (system and developer messages, which the codec marks `instruction`). Instructions reach the
 * model on the turn that sends them and are never replayed, so a client that sends its system
 * prompt with every turn has the model see it once, not once per earlier turn.
 */
export function storedInput<Item>(items: readonly Item[], codec: ItemCodec<Item>): Item[] {
  return items.filter((item) => !codec.inspect(item).instruction);
}

/** A session absent for this caller. Says why it may be, never whether it exists. */
export function sessionNotFound(ref: SessionRef, source: string): AgentSessionsError {
  const user = ref.userId === undefined ? '' : ` for user '${ref.userId}'`;
  return new AgentSessionsError(
    'not_found',
    `session '${ref.sessionId}' of agent '${ref.agentId}' not found${user}: it does not exist, has expired or was deleted, ` +
      'or it belongs to another user (a session created without a userId belongs to no user and cannot be continued with one); ' +
      'an owner mismatch reads as absent on purpose, so the error never tells who owns a session',
    { source },
  );
}

/**
 * Decides, before the model is called, whether a turn may use this session. `header` is the
 * session as the caller sees it (null: absent, expired, or another user's), read with the window.
 * - `mustExist` and no header: `not_found`.
 * - a named user and no header: one more read without the user tells "absent" (the turn starts
 *   the session) from "someone else's" (`not_found`, the same error as absent). An ongoing
 *   session costs no extra read.
 */
export async function authorizeTurn(
  store: SessionStore,
  ref: SessionRef,
  header: SessionHeader | null,
  options: { mustExist?: boolean | undefined; source: string },
): Promise<void> {
  if (header) return;
  if (options.mustExist) throw sessionNotFound(ref, options.source);
  if (ref.userId === undefined) return;
  const unscoped = await store.getSession({ agentId: ref.agentId, sessionId: ref.sessionId });
  if (unscoped) throw sessionNotFound(ref, options.source);
}

/**
 * A turn the framework finished whose run the store could not write. It keeps the answer:
 * `result` is what the framework returned (show it), `run` is the exact append that failed
 * (retry it with `store.appendRun(err.run)`: same run id, so a write that did land is not
 * duplicated). `code` is the store error's code; the store error is the `cause`.
 */
export class TurnNotStoredError<Result = unknown> extends AgentSessionsError {
  readonly result: Result;
  readonly run: AppendRunInput;

  constructor(result: Result, run: AppendRunInput, cause: unknown, source: string) {
    const code: ErrorCode = isAgentSessionsError(cause) ? cause.code : 'internal';
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      code,
      `the turn ran but its run '${String(run.runId)}' was not stored (${reason}); ` +
        'err.result holds the answer, retry the save with store.appendRun(err.run)',
      { source, cause },
    );
    this.name = 'TurnNotStoredError';
    this.result = result;
    this.run = run;
  }
}

/** Appends a finished turn; a store failure becomes a TurnNotStoredError carrying `result`. */
export async function storeTurn<Result>(
  store: SessionStore,
  run: AppendRunInput,
  result: Result,
  source: string,
): Promise<AppendRunResult> {
  try {
    return await store.appendRun(run);
  } catch (err) {
    throw new TurnNotStoredError(result, run, err, source);
  }
}

// ---- Resuming an interrupted turn at most once ----

/** Where claims on interrupted runs are kept: a key of the session's `state`. */
export const RESUME_STATE_KEY = 'agentSessionsResumes';
/** How many claims a session keeps (the newest). */
const MAX_CLAIMS = 20;
/** A claim older than this whose run never landed (a crashed process) may be taken over. */
export const RESUME_LEASE_MS = 10 * 60_000;

interface Claim {
  runId: string;
  at: number;
}

function claimsOf(header: SessionHeader): Record<string, Claim> {
  const raw = header.state[RESUME_STATE_KEY];
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as unknown as Record<string, Claim>) : {};
}

/** The error for a second resume of one interrupted run. `run` is its stored outcome, once there. */
export class AlreadyResumedError extends AgentSessionsError {
  /** The run the first resume stored, or null while that resume is still running. */
  readonly run: Run | null;
  readonly interruptedRunId: string;

  constructor(interruptedRunId: string, run: Run | null, source: string) {
    super(
      'conflict',
      run
        ? `the interrupted run '${interruptedRunId}' was already resumed: its outcome is run '${run.runId}' (err.run)`
        : `the interrupted run '${interruptedRunId}' is being resumed by another call; wait for it and read the session`,
      { source },
    );
    this.name = 'AlreadyResumedError';
    this.run = run;
    this.interruptedRunId = interruptedRunId;
  }
}

async function findRun(store: SessionStore, ref: SessionRef, runId: string): Promise<Run | null> {
  const runs = await store.listRuns({ ...ref, limit: 50 });
  return runs.find((r) => r.runId === runId) ?? null;
}

/**
 * Claims the right to resume `interruptedRunId` before anything runs (tools included), so a
 * double click, a retried request or a second process resumes it at most once. The claim is a
 * compare-and-set on the session's version (`updateSession`), kept in `state[RESUME_STATE_KEY]`.
 * A second claim fails with AlreadyResumedError (`conflict`) carrying the stored outcome. A claim
 * whose run never landed expires after RESUME_LEASE_MS; `releaseResume` frees it after a failure.
 * With `log`, taking over such an expired claim (that resume most likely died mid-run) is a
 * warning (ids only).
 */
export async function claimResume(
  store: SessionStore,
  ref: SessionRef,
  interruptedRunId: string,
  resumeRunId: string,
  source: string,
  now: number = Date.now(),
  log?: OpsLogger,
): Promise<void> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const header = await store.getSession(ref);
    if (!header) throw sessionNotFound(ref, source);
    const claims = claimsOf(header);
    const held = claims[interruptedRunId];
    const takesOver = held !== undefined && held.runId !== resumeRunId;
    if (takesOver) {
      const run = await findRun(store, ref, held.runId);
      if (run || now - held.at < RESUME_LEASE_MS) throw new AlreadyResumedError(interruptedRunId, run, source);
    }
    const kept: [string, JsonObject][] = Object.entries(claims)
      .map(([k, c]): [string, JsonObject] => [k, { runId: c.runId, at: c.at }])
      .filter(([k]) => k !== interruptedRunId)
      .slice(-(MAX_CLAIMS - 1));
    const next: JsonObject = Object.fromEntries([...kept, [interruptedRunId, { runId: resumeRunId, at: now }]]);
    try {
      await store.updateSession({ ...ref, expectedVersion: header.version, state: { ...header.state, [RESUME_STATE_KEY]: next } });
      if (takesOver) {
        log?.warn('resume claim taken over: an earlier resume of this interrupted run never stored its run and its lease expired', {
          agentId: ref.agentId,
          sessionId: ref.sessionId,
          interruptedRunId,
          previousResumeRunId: typeof held.runId === 'string' ? held.runId : undefined,
        });
      }
      return;
    } catch (err) {
      // Another write landed between the read and the update: read again (it may be a rival claim).
      if (!isAgentSessionsError(err, 'conflict')) throw err;
    }
  }
  throw new AgentSessionsError('conflict', `could not claim the interrupted run '${interruptedRunId}': the session keeps changing`, {
    source,
  });
}

/** Frees a claim after a resume that failed, so the interruption can be resumed again. Best effort. */
export async function releaseResume(store: SessionStore, ref: SessionRef, interruptedRunId: string, resumeRunId: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const header = await store.getSession(ref);
      if (!header) return;
      const claims = claimsOf(header);
      if (claims[interruptedRunId]?.runId !== resumeRunId) return;
      const { [interruptedRunId]: _dropped, ...rest } = claims;
      await store.updateSession({ ...ref, expectedVersion: header.version, state: { ...header.state, [RESUME_STATE_KEY]: rest as unknown as JsonObject } });
      return;
    } catch (err) {
      if (!isAgentSessionsError(err, 'conflict')) return;
    }
  }
}

// ---- Misspelt option keys ----

function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[_-]/g, '');
}

/** True when deleting one character of `long` gives `short`. */
function oneDeletion(long: string, short: string): boolean {
  if (long.length !== short.length + 1) return false;
  for (let i = 0; i < long.length; i++) if (long.slice(0, i) + long.slice(i + 1) === short) return true;
  return false;
}

/** True when swapping two neighbouring characters of `a` gives `b`. */
function oneSwap(a: string, b: string): boolean {
  if (a.length !== b.length || a === b) return false;
  const i = [...a].findIndex((c, k) => c !== b[k]);
  return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2);
}

/**
 * The key of `known` that `key` looks like a misspelling of: the same letters ignoring case,
 * `_` and `-` (`session_id`, `userid`), one letter missing or extra (`sesionId`), or two
 * neighbouring letters swapped (`staleHistroy`). Undefined for a key of `known` itself or one
 * that looks like none of them.
 */
export function misspeltKey(key: string, known: readonly string[]): string | undefined {
  if (known.includes(key)) return undefined;
  const n = normalizeKey(key);
  return known.find((k) => {
    const t = normalizeKey(k);
    return n === t || oneDeletion(t, n) || oneDeletion(n, t) || oneSwap(n, t);
  });
}

/**
 * Refuses, with `invalid_input`, an object holding a key that looks like a misspelling of one an
 * adapter reads (`configurable.sesionId` would otherwise be ignored and silently start a new
 * session). `allowed` lists the app's own keys that only look like ours.
 */
export function refuseMisspeltKeys(
  value: Record<string, unknown> | null | undefined,
  known: readonly string[],
  options: { what: string; source: string; allowed?: readonly string[] | undefined; allowedOption?: string | undefined },
): void {
  if (!value) return;
  for (const key of Object.keys(value)) {
    const meant = misspeltKey(key, known);
    if (meant === undefined || options.allowed?.includes(key)) continue;
    const escape = options.allowedOption ? `; a key of your own that only looks like it goes in the option ${options.allowedOption}` : '';
    throw new AgentSessionsError(
      'invalid_input',
      `${options.what}.${key} is not an option agent-sessions reads; did you mean '${meant}'? ` +
        `(a misspelt session key would silently start a new session${escape})`,
      { source: options.source },
    );
  }
}
