import { adapterLogger, opsLogger, type Logger, type OpsLogger } from '@agent-sessions/core/adapter';

// Issue 18 for the LangChain adapter: a span per turn (the store's calls nest under it) and the
// wrapper's warnings through its `logger` option (ids and counts, never content). The span, the
// window-cut warning and the resume takeover warning are core's, shared with every adapter.

const SOURCE = 'langchain';
/** The turn span's name. */
export const TURN_SPAN = 'turn langchain';

/** Fails with `invalid_input` unless `logger` is absent or has the four methods. */
export function checkLogger(logger: unknown): void {
  adapterLogger(logger, SOURCE);
}

const LOGGERS = new WeakMap<object, OpsLogger>();

/** The OpsLogger of an options object's `logger` (silent without one). */
export function logOf(options: { logger?: Logger | undefined }): OpsLogger {
  let log = LOGGERS.get(options);
  if (!log) LOGGERS.set(options, (log = opsLogger(options.logger, SOURCE)));
  return log;
}
