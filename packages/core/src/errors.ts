/** The closed set of error codes every store and adapter reports. */
export type ErrorCode =
  | 'invalid_input'
  | 'not_found'
  | 'conflict'
  | 'unavailable'
  | 'access_denied'
  | 'not_implemented'
  | 'internal';

/**
 * What each code tells a caller to do:
 * - `invalid_input`: fix the call; nothing was written.
 * - `not_found`: the session does not exist for this caller (absent, expired, or owned by another user).
 * - `conflict`: a race was lost (a stale version, a contended write); read again and retry.
 * - `unavailable`: the backend could not be reached or did not answer in time; retry later. A write
 *   that failed this way may or may not have landed: retry it with the same run id.
 * - `access_denied`: the backend refused the store's credentials or permissions; retrying will not help.
 * - `not_implemented`: the library cannot do this (an unknown framework, a missing package).
 * - `internal`: anything else; a bug or a corrupt record.
 */
export const ERROR_CODES: readonly ErrorCode[] = [
  'invalid_input',
  'not_found',
  'conflict',
  'unavailable',
  'access_denied',
  'not_implemented',
  'internal',
];

export interface AgentSessionsErrorOptions {
  /** The store or adapter that raised it (`memory`, `postgres`, `langchain`, ...). */
  source?: string | undefined;
  cause?: unknown;
}

// The ESM and CommonJS builds of core (and two copies of it in one app) each define these classes.
// A brand under a registered symbol lets `instanceof` and `isAgentSessionsError` recognise an
// error from any copy: a CommonJS app catching what a store loaded as ESM threw.
const BRAND = Symbol.for('@agent-sessions/core/error');

function brandOf(value: unknown): readonly string[] | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const brand = (value as { [BRAND]?: unknown })[BRAND];
  return Array.isArray(brand) ? (brand as string[]) : undefined;
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
    // The class names along the chain, so `instanceof` works across copies of core.
    const names: string[] = [];
    for (let c = new.target as unknown; c && c !== Error; c = Object.getPrototypeOf(c)) {
      names.push((c as { name: string }).name);
    }
    Object.defineProperty(this, BRAND, { value: names, enumerable: false });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return brandOf(value)?.includes(this.name) ?? false;
  }
}

/** Thrown for anything the library cannot wrap or a backend cannot do. Code `not_implemented`. */
export class NotImplementedError extends AgentSessionsError {
  constructor(message: string, options: AgentSessionsErrorOptions = {}) {
    super('not_implemented', message, options);
    this.name = 'NotImplementedError';
  }
}

/**
 * True when `err` is an AgentSessionsError (from any copy or module format of core), optionally
 * with the given code.
 */
export function isAgentSessionsError(err: unknown, code?: ErrorCode): err is AgentSessionsError {
  return err instanceof AgentSessionsError && (code === undefined || err.code === code);
}

export function invalidInput(message: string, source?: string): AgentSessionsError {
  return new AgentSessionsError('invalid_input', message, { source });
}
