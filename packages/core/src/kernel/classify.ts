import type { ErrorCode } from '../errors.js';

/** Patterns that mark a driver error as one kind of failure. Any field may be left out. */
export interface ErrorPatterns {
  /** `err.code` values (strings such as SQLSTATEs or Node's `ECONNREFUSED`, or numbers). */
  codes?: Iterable<string | number> | undefined;
  /** Leading characters of string codes: `'08'` matches every SQLSTATE of class 08. */
  codePrefixes?: readonly string[] | undefined;
  /** `err.name` values, matched by name so a client from another copy of the driver is recognised. */
  names?: Iterable<string> | undefined;
  /** Tested against `err.message`. */
  messages?: readonly RegExp[] | undefined;
  /** Error labels (MongoDB's `hasErrorLabel`, or an `errorLabels` array). */
  labels?: readonly string[] | undefined;
}

/**
 * How one driver's errors map to codes. The order of the checks is fixed: `conflict` first (a
 * lost race is never mistaken for an outage), then `accessDenied`, then `unavailable`; anything
 * that matches none is `internal`.
 */
export interface DriverErrorTable {
  conflict?: ErrorPatterns | undefined;
  accessDenied?: ErrorPatterns | undefined;
  unavailable?: ErrorPatterns | undefined;
}

/** Socket-level failures every Node driver reports the same way: the server is down or unreachable. */
export const NETWORK_ERROR_CODES: readonly string[] = [
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ESOCKETTIMEDOUT',
];

interface Compiled {
  codes: Set<string | number>;
  prefixes: readonly string[];
  names: Set<string>;
  messages: readonly RegExp[];
  labels: readonly string[];
}

const compiledTables = new WeakMap<DriverErrorTable, [ErrorCode, Compiled][]>();

function compile(p: ErrorPatterns | undefined, extraCodes: readonly string[] = []): Compiled {
  return {
    codes: new Set([...(p?.codes ?? []), ...extraCodes]),
    prefixes: p?.codePrefixes ?? [],
    names: new Set(p?.names ?? []),
    messages: p?.messages ?? [],
    labels: p?.labels ?? [],
  };
}

function matches(e: object, c: Compiled): boolean {
  const x = e as { code?: unknown; name?: unknown; message?: unknown; hasErrorLabel?: unknown; errorLabels?: unknown };
  if ((typeof x.code === 'string' || typeof x.code === 'number') && c.codes.has(x.code)) return true;
  if (typeof x.code === 'string' && c.prefixes.some((p) => (x.code as string).startsWith(p))) return true;
  if (typeof x.name === 'string' && c.names.has(x.name)) return true;
  if (typeof x.message === 'string' && c.messages.some((re) => re.test(x.message as string))) return true;
  if (c.labels.length > 0) {
    if (typeof x.hasErrorLabel === 'function') {
      const has = x.hasErrorLabel as (label: string) => boolean;
      if (c.labels.some((l) => has.call(e, l))) return true;
    } else if (Array.isArray(x.errorLabels) && c.labels.some((l) => (x.errorLabels as unknown[]).includes(l))) {
      return true;
    }
  }
  return false;
}

/** The error and everything it wraps: `cause`, an AggregateError's `errors`, ioredis's `lastNodeError`. */
function* chain(err: unknown): Generator<object> {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0 && seen.size < 32) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    yield e;
    const x = e as { cause?: unknown; errors?: unknown; lastNodeError?: unknown; writeErrors?: unknown };
    queue.push(x.cause, x.lastNodeError);
    if (Array.isArray(x.errors)) queue.push(...(x.errors as unknown[]));
    if (Array.isArray(x.writeErrors)) queue.push(...(x.writeErrors as unknown[]));
  }
}

/**
 * The code for a driver error: `conflict`, `access_denied`, `unavailable` (Node's network errors
 * always count), or `internal`. Looks through wrapped causes.
 */
export function classifyError(err: unknown, table: DriverErrorTable = {}): ErrorCode {
  let compiled = compiledTables.get(table);
  if (!compiled) {
    compiled = [
      ['conflict', compile(table.conflict)],
      ['access_denied', compile(table.accessDenied)],
      ['unavailable', compile(table.unavailable, NETWORK_ERROR_CODES)],
    ];
    compiledTables.set(table, compiled);
  }
  const errors = [...chain(err)];
  for (const [code, patterns] of compiled) {
    if (errors.some((e) => matches(e, patterns))) return code;
  }
  return 'internal';
}
