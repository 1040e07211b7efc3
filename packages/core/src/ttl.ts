import { invalidInput } from './errors.js';
import type { Duration } from './types.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * The longest TTL accepted: 100 years. Every backend represents `now + MAX_TTL_MS` exactly (a
 * Redis PEXPIREAT, a BSON date, a bigint, a JS Date), so an accepted TTL never wraps or vanishes.
 */
export const MAX_TTL_MS = 100 * 365 * 86_400_000;

/**
 * Parses `1500`, `'30s'`, `'30m'`, `'24h'`, `'7d'`, `'1h30m'` into whole milliseconds, at least 1
 * (`'0.4ms'` is refused, not rounded to nothing) and at most `max`.
 */
export function parseDuration(value: Duration, what = 'duration', max = Number.MAX_SAFE_INTEGER): number {
  let total: number;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0 || !Number.isInteger(value)) {
      throw invalidInput(`${what} must be a positive whole number of milliseconds, got ${String(value)}`);
    }
    total = value;
  } else {
    if (typeof value !== 'string') throw invalidInput(`${what} must be a number or a string such as '24h'`);
    const text = value.trim();
    const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
    let matched = 0;
    let m: RegExpExecArray | null;
    total = 0;
    while ((m = re.exec(text)) !== null) {
      total += Number(m[1]) * (UNITS[m[2] as string] as number);
      matched = re.lastIndex;
    }
    if (text.length === 0 || matched !== text.length || !(total > 0)) {
      throw invalidInput(`${what} '${value}' is not a duration such as 1500, '30m', '24h' or '7d'`);
    }
    total = Math.round(total);
    if (total < 1) throw invalidInput(`${what} '${value}' is shorter than 1 ms`);
  }
  if (total > max) {
    throw invalidInput(`${what} ${typeof value === 'string' ? `'${value}'` : String(value)} is longer than the limit of ${max} ms`);
  }
  return total;
}

/** A TTL option: null or undefined pass through, anything else becomes 1 ms to MAX_TTL_MS. */
export function ttlToMs(value: Duration | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  return parseDuration(value, 'ttl', MAX_TTL_MS);
}
