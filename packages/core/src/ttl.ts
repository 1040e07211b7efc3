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

/** Parses `1500`, `'30s'`, `'30m'`, `'24h'`, `'7d'`, `'1h30m'` into milliseconds. */
export function parseDuration(value: Duration, what = 'duration'): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0 || !Number.isInteger(value)) {
      throw invalidInput(`${what} must be a positive whole number of milliseconds, got ${String(value)}`);
    }
    return value;
  }
  if (typeof value !== 'string') throw invalidInput(`${what} must be a number or a string such as '24h'`);
  const text = value.trim();
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (text.length === 0 || matched !== text.length || total <= 0) {
    throw invalidInput(`${what} '${value}' is not a duration such as 1500, '30m', '24h' or '7d'`);
  }
  return Math.round(total);
}

/** A TTL option: null or undefined pass through, anything else becomes milliseconds. */
export function ttlToMs(value: Duration | null | undefined): number | null | undefined {
  if (value === undefined || value === null) return value;
  return parseDuration(value, 'ttl');
}
