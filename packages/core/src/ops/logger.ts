import { invalidInput } from '../errors.js';
import type { SessionRef } from '../types.js';

// The `logger` option: any object with debug/info/warn/error (pino, bunyan, console, ...). Core
// calls it pino-style, `logger.warn(fields, message)`, with fields that never hold session
// content (items, state, summary, metadata) or credentials: ids, the operation, the error code.

/** What the `logger` option takes. Each method is called as `(fields, message)`. */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Fields of one log record: plain values only. */
export type LogFields = Record<string, string | number | boolean | null | undefined>;

/** A logger that never throws and adds the library and source to every message. */
export interface OpsLogger {
  readonly enabled: boolean;
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

const SILENT: OpsLogger = {
  enabled: false,
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Fails with `invalid_input` unless `value` has the four methods. */
export function assertLogger(value: unknown, source?: string): asserts value is Logger {
  const missing = LEVELS.filter((l) => typeof (value as Record<string, unknown> | null)?.[l] !== 'function');
  if (typeof value !== 'object' || value === null || missing.length > 0) {
    throw invalidInput(`logger must have debug, info, warn and error methods (pino or console work); missing ${missing.join(', ')}`, source);
  }
}

/**
 * Wraps a `logger` option for library code: messages read `[agent-sessions] [source] ...`,
 * credentials in URLs are masked, and a logger that throws never breaks the call that logs.
 * Without a logger every method is a no-op. Adapters use it for their wrappers' warnings.
 */
export function opsLogger(logger: Logger | null | undefined, source: string | (() => string)): OpsLogger {
  if (!logger) return SILENT;
  const sourceOf = typeof source === 'function' ? source : () => source;
  const emit = (level: LogLevel, message: string, fields?: LogFields): void => {
    try {
      const source = sourceOf();
      const clean: Record<string, unknown> = { lib: 'agent-sessions', source };
      if (fields) {
        for (const [k, v] of Object.entries(fields)) if (v !== undefined) clean[k] = typeof v === 'string' ? redactSecrets(v) : v;
      }
      logger[level](clean, `[agent-sessions] [${source}] ${redactSecrets(message)}`);
    } catch {
      // A broken logger must not turn a successful call into a failure.
    }
  };
  return {
    enabled: true,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

/**
 * An adapter wrapper's `logger` option, checked when the wrapper is built (`invalid_input` unless
 * absent or with the four methods), as an OpsLogger (silent without one).
 */
export function adapterLogger(logger: unknown, source: string): OpsLogger {
  if (logger === undefined) return SILENT;
  assertLogger(logger, source);
  return opsLogger(logger, source);
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

/** Masks `user:password@` in URLs and `password=...` pairs, which driver messages sometimes carry. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(\/\/[^:/?#@\s]*:)[^@/?#\s]*@/g, '$1***@')
    .replace(/\b(password|passwd|pwd|secret|token|apikey|api_key)=([^&\s;,]+)/gi, '$1=***');
}
