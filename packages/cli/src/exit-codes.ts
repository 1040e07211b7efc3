import { isAgentSessionsError, type ErrorCode } from '@agent-sessions/core';

/**
 * The command's exit status, one per typed error code, so a script can branch on the kind of
 * failure without reading the message.
 */
export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  invalid_input: 2,
  not_found: 3,
  conflict: 4,
  unavailable: 5,
  access_denied: 6,
  not_implemented: 7,
} as const satisfies Record<ErrorCode | 'ok', number>;

/** A mistake on the command line (an unknown option, a missing argument): exit 2, with the usage hint. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The exit status for a thrown value. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof UsageError) return EXIT_CODES.invalid_input;
  if (isAgentSessionsError(err)) return EXIT_CODES[err.code];
  return EXIT_CODES.internal;
}
