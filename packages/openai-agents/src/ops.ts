import {
  AgentSessionsError,
  RESUME_STATE_KEY,
  claimResume,
  opsLogger,
  type Logger,
  type OpsLogger,
  type SessionHeader,
  type SessionRef,
  type SessionStore,
} from '@agent-sessions/core/adapter';
import { SOURCE } from './resume.js';

// The wrapper's warnings, through its `logger` option: ids and counts only, never content.

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The `logger` option checked when the wrapper is built, as an OpsLogger (silent without one). */
export function wrapperLogger(logger: Logger | undefined): OpsLogger {
  if (logger === undefined) return opsLogger(undefined, SOURCE);
  const missing = LEVELS.filter((l) => typeof (logger as unknown as Record<string, unknown> | null)?.[l] !== 'function');
  if (typeof logger !== 'object' || logger === null || missing.length > 0) {
    throw new AgentSessionsError('invalid_input', `logger must have debug, info, warn and error methods (pino or console work); missing ${missing.join(', ')}`, {
      source: SOURCE,
    });
  }
  return opsLogger(logger, SOURCE);
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
export async function claimResumeLogged(
  store: SessionStore,
  ref: SessionRef,
  interruptedRunId: string,
  resumeRunId: string,
  log: OpsLogger,
): Promise<void> {
  if (!log.enabled) return claimResume(store, ref, interruptedRunId, resumeRunId, SOURCE);
  let seen: SessionHeader | null = null;
  const watched = new Proxy(store, {
    get(target, prop) {
      if (prop === 'getSession') {
        return async (input: SessionRef) => (seen = await target.getSession(input));
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  await claimResume(watched, ref, interruptedRunId, resumeRunId, SOURCE);
  const claims = (seen as SessionHeader | null)?.state?.[RESUME_STATE_KEY];
  const held = typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? (claims as Record<string, { runId?: unknown; at?: unknown }>)[interruptedRunId] : undefined;
  if (held && held.runId !== resumeRunId) {
    log.warn('resume claim taken over: an earlier resume of this interrupted run never stored its run and its lease expired', {
      agentId: ref.agentId,
      sessionId: ref.sessionId,
      interruptedRunId,
      previousResumeRunId: typeof held.runId === 'string' ? held.runId : undefined,
    });
  }
}
