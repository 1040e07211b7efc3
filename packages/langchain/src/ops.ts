import {
  AgentSessionsError,
  RESUME_STATE_KEY,
  claimResume,
  opsLogger,
  withTurnSpan,
  type CallRecorder,
  type Logger,
  type OpsLogger,
  type SessionHeader,
  type SessionRef,
  type SessionStore,
  type TelemetryOption,
  type TurnSpanAttributes,
} from '@agent-sessions/core/adapter';

// Issue 18 for the LangChain adapter: a span per turn (the store's calls nest under it) and the
// wrapper's warnings through its `logger` option (ids and counts, never content).

const SOURCE = 'langchain';
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** The turn span's name. */
export const TURN_SPAN = 'turn langchain';

/** Fails with `invalid_input` unless `logger` is absent or has the four methods. */
export function checkLogger(logger: unknown): void {
  if (logger === undefined) return;
  const missing = LEVELS.filter((l) => typeof (logger as Record<string, unknown> | null)?.[l] !== 'function');
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw new AgentSessionsError('invalid_input', `logger must have debug, info, warn and error methods (pino or console work); missing ${missing.join(', ')}`, {
      source: SOURCE,
    });
  }
}

const LOGGERS = new WeakMap<object, OpsLogger>();

/** The OpsLogger of an options object's `logger` (silent without one). */
export function logOf(options: { logger?: Logger | undefined }): OpsLogger {
  let log = LOGGERS.get(options);
  if (!log) LOGGERS.set(options, (log = opsLogger(options.logger, SOURCE)));
  return log;
}

/** The logger foldSummary reports to: the wrapper's when it has one, else (undefined) the store's. */
export function summaryLogger(log: OpsLogger): OpsLogger | undefined {
  return log.enabled ? log : undefined;
}

/** A window that left history items out (its item or token limit, or a broken pair repaired away). */
export function warnWindowCut(log: OpsLogger, ref: SessionRef, dropped: number, kept: number): void {
  if (dropped <= 0) return;
  log.warn(`the window left out ${dropped} history item(s) (window limits or tool-call pair repair)`, {
    agentId: ref.agentId,
    sessionId: ref.sessionId,
    dropped,
    kept,
  });
}

/**
 * core's claimResume, and a warning when the claim it took over was another resume's whose run
 * never landed (its lease expired: that resume most likely died mid-run). The header claimResume
 * based its claim on is watched through the store's `getSession`: no extra round trip.
 */
export async function claimResumeLogged(store: SessionStore, ref: SessionRef, interruptedRunId: string, resumeRunId: string, log: OpsLogger): Promise<void> {
  if (!log.enabled) return claimResume(store, ref, interruptedRunId, resumeRunId, SOURCE);
  let seen: SessionHeader | null = null;
  const watched = new Proxy(store, {
    get(target, prop) {
      if (prop === 'getSession') return async (input: SessionRef) => (seen = await target.getSession(input));
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  await claimResume(watched, ref, interruptedRunId, resumeRunId, SOURCE);
  const claims = (seen as SessionHeader | null)?.state?.[RESUME_STATE_KEY];
  const held = typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, { runId?: unknown }>)[interruptedRunId] : undefined;
  if (held && held.runId !== resumeRunId) {
    log.warn('resume claim taken over: an earlier resume of this interrupted run never stored its run and its lease expired', {
      agentId: ref.agentId,
      sessionId: ref.sessionId,
      interruptedRunId,
      previousResumeRunId: typeof held.runId === 'string' ? held.runId : undefined,
    });
  }
}

type Task = () => Promise<void>;

const NO_TURN_RECORDER: CallRecorder = { recording: false, set() {} };

/**
 * A turn span that stays open across calls that do not nest (a stream's generator, the
 * middleware's beforeAgent and afterAgent): each `run(task)` executes inside the span's
 * context, so the store calls it makes are children of the turn; `end()` closes the span
 * (with the error's code, if given).
 */
export class OpenTurn {
  private readonly queue: Task[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private error: unknown;
  private recorder: CallRecorder = NO_TURN_RECORDER;
  /** Settles once the span has ended; never rejects. */
  readonly closed: Promise<void>;

  constructor(attributes: TurnSpanAttributes, telemetry: TelemetryOption | undefined) {
    this.closed = withTurnSpan(
      TURN_SPAN,
      attributes,
      async (span) => {
        this.recorder = span;
        for (;;) {
          while (this.queue.length > 0) await this.queue.shift()!();
          if (this.ended) {
            if (this.error !== undefined) throw this.error;
            return;
          }
          await new Promise<void>((resolve) => (this.wake = resolve));
          this.wake = undefined;
        }
      },
      { telemetry },
    ).then(
      () => undefined,
      () => undefined,
    );
  }

  /** Runs `task` inside the turn's span (directly once the turn has ended). */
  run<T>(task: (span: CallRecorder) => Promise<T>): Promise<T> {
    if (this.ended) return task(this.recorder);
    return new Promise<T>((resolve, reject) => {
      this.queue.push(() => task(this.recorder).then(resolve, reject));
      this.wake?.();
    });
  }

  /** Ends the span once queued tasks are done; an error marks it failed. Later calls do nothing. */
  end(error?: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.wake?.();
  }
}
