/** The closed set of error codes every store and adapter reports. */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'unavailable'
  | 'not_implemented'
  | 'internal';

export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_input',
  'not_found',
  'conflict',
  'unavailable',
  'not_implemented',
  'internal',
];

export interface AgentSessionsErrorOptions {
  /** The store or adapter that raised it (`memory`, `postgres`, `langchain`, ...). */
  source?: string | undefined;
  cause?: unknown;
}

/**
 * The one error type of agent-sessions. Match on `code`, never on the message.
 * Messages read `[agent-sessions] [source] what happened`.
 */
export class AgentSessionsError extends Error {
  readonly code: ErrorCode;
  readonly source: string | undefined;

  constructor(code: ErrorCode, message: string, options: AgentSessionsErrorOptions = {}) {
    const prefix = options.source ? `[agent-sessions] [${options.source}] ` : '[agent-sessions] ';
    super(prefix + message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AgentSessionsError';
    this.code = code;
    this.source = options.source;
  }
}

/** Thrown for anything the library cannot wrap or a backend cannot do. Code `not_implemented`. */
export class NotImplementedError extends AgentSessionsError {
  constructor(message: string, options: AgentSessionsErrorOptions = {}) {
    super('not_implemented', message, options);
    this.name = 'NotImplementedError';
  }
}

/** True when `err` is an AgentSessionsError, optionally with the given code. */
export function isAgentSessionsError(err: unknown, code?: ErrorCode): err is AgentSessionsError {
  return err instanceof AgentSessionsError && (code === undefined || err.code === code);
}

export function invalidInput(message: string, source?: string): AgentSessionsError {
  return new AgentSessionsError('invalid_input', message, { source });
}
