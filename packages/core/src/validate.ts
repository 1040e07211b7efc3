import { invalidInput } from './errors.js';
import { RUN_STATUSES, type JsonObject, type JsonValue, type RunStatus } from './types.js';

/** The longest id (session, agent, user, run) accepted, in UTF-16 code units. */
export const MAX_ID_LENGTH = 256;
/** The deepest nesting accepted inside items and metadata (BSON allows 100; keep clear of it). */
export const MAX_JSON_DEPTH = 64;

// Control characters (C0, DEL, C1) never belong in an id.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A lone surrogate is not Unicode: no backend can store it and give it back.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function assertId(value: unknown, what: string, source?: string): asserts value is string {
  if (typeof value !== 'string') {
    throw invalidInput(`${what} must be a string, got ${describe(value)}`, source);
  }
  if (value.length === 0) throw invalidInput(`${what} must not be empty`, source);
  if (value.length > MAX_ID_LENGTH) {
    throw invalidInput(`${what} is ${value.length} characters long; the limit is ${MAX_ID_LENGTH}`, source);
  }
  if (CONTROL.test(value)) throw invalidInput(`${what} contains a control character`, source);
  if (LONE_SURROGATE.test(value)) throw invalidInput(`${what} contains a lone surrogate`, source);
}

export function assertOptionalId(value: unknown, what: string, source?: string): asserts value is string | undefined {
  if (value === undefined) return;
  assertId(value, what, source);
}

/**
 * Copies `value` into plain JSON that every backend stores and returns unchanged, checking it on
 * the way: no BigInt, functions, symbols, Dates or other class instances, cycles, `undefined` in
 * arrays, non-finite numbers, NUL characters or lone surrogates, and no deeper than MAX_JSON_DEPTH.
 * `undefined` object properties are dropped, as JSON.stringify does.
 *
 * Each property is read once and the copy is what gets checked and stored: a getter that answers
 * differently the second time, a `toJSON`, a Proxy or an array subclass cannot slip past the check.
 */
export function snapshotJson(value: unknown, what: string, source?: string): JsonValue {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string, depth: number): JsonValue => {
    if (depth > MAX_JSON_DEPTH) throw invalidInput(`${path} is nested deeper than ${MAX_JSON_DEPTH} levels`, source);
    switch (typeof v) {
      case 'string':
        checkString(v, path);
        return v;
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) throw invalidInput(`${path} is ${String(v)}, which JSON cannot hold`, source);
        return Object.is(v, -0) ? 0 : v;
      case 'object': {
        if (v === null) return null;
        if (seen.has(v)) throw invalidInput(`${path} contains a cycle`, source);
        if (Array.isArray(v)) {
          seen.add(v);
          const length = v.length;
          const out: JsonValue[] = new Array<JsonValue>(length);
          for (let i = 0; i < length; i++) {
            const child: unknown = v[i];
            if (child === undefined) {
              throw invalidInput(`${path}[${i}] is undefined; arrays must hold JSON values`, source);
            }
            out[i] = walk(child, `${path}[${i}]`, depth + 1);
          }
          seen.delete(v);
          return out;
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
          throw invalidInput(`${path} is a ${name}, not a plain object`, source);
        }
        if (Object.getOwnPropertySymbols(v).length > 0) {
          throw invalidInput(`${path} has symbol keys`, source);
        }
        seen.add(v);
        const out: { [key: string]: JsonValue } = {};
        for (const [k, child] of Object.entries(v)) {
          checkString(k, `${path} key`);
          if (child === undefined) continue;
          // defineProperty, not assignment: a key named __proto__ stays an ordinary key.
          Object.defineProperty(out, k, { value: walk(child, `${path}.${k}`, depth + 1), enumerable: true, writable: true, configurable: true });
        }
        seen.delete(v);
        return out;
      }
      default:
        throw invalidInput(`${path} is ${describe(v)}, which JSON cannot hold`, source);
    }
  };
  const checkString = (s: string, path: string): void => {
    if (s.includes('\u0000')) throw invalidInput(`${path} contains a NUL character`, source);
    if (LONE_SURROGATE.test(s)) throw invalidInput(`${path} contains a lone surrogate`, source);
  };
  return walk(value, what, 0);
}

/** Checks that `value` is plain JSON (see snapshotJson). */
export function assertJson(value: unknown, what: string, source?: string): asserts value is JsonValue {
  snapshotJson(value, what, source);
}

/** A checked plain-JSON copy of an object (see snapshotJson). */
export function snapshotObject(value: unknown, what: string, source?: string): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`${what} must be a plain object, got ${describe(value)}`, source);
  }
  return snapshotJson(value, what, source) as JsonObject;
}

/** A checked plain-JSON copy of a run's items: a non-empty array (see snapshotJson). */
export function snapshotItems(value: unknown, source?: string): JsonValue[] {
  if (!Array.isArray(value)) throw invalidInput(`items must be an array, got ${describe(value)}`, source);
  const items = snapshotJson(value, 'items', source) as JsonValue[];
  if (items.length === 0) throw invalidInput('items must hold at least one item: a run is a turn that happened', source);
  return items;
}

export function assertJsonObject(value: unknown, what: string, source?: string): asserts value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput(`${what} must be a plain object, got ${describe(value)}`, source);
  }
  assertJson(value, what, source);
}

export function assertItems(value: unknown, source?: string): asserts value is JsonValue[] {
  if (!Array.isArray(value)) throw invalidInput(`items must be an array, got ${describe(value)}`, source);
  if (value.length === 0) throw invalidInput('items must hold at least one item: a run is a turn that happened', source);
  assertJson(value, 'items', source);
}

export function assertStatus(value: unknown, source?: string): asserts value is RunStatus {
  if (!RUN_STATUSES.includes(value as RunStatus)) {
    throw invalidInput(`status must be one of ${RUN_STATUSES.join(', ')}, got ${describe(value)}`, source);
  }
}

export function assertLimit(value: unknown, what: string, max: number, source?: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidInput(`${what} must be a whole number from 1 to ${max}, got ${describe(value)}`, source);
  }
}

export function assertTime(value: unknown, what: string, source?: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw invalidInput(`${what} must be a time in epoch milliseconds, got ${describe(value)}`, source);
  }
}

/** A deep copy of plain JSON that drops `undefined` properties, as a store round trip would. */
export function cloneJson<T extends JsonValue>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'bigint') return 'a BigInt';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (typeof v === 'undefined') return 'undefined';
  if (typeof v === 'string') return v.length > 40 ? `'${v.slice(0, 40)}…'` : `'${v}'`;
  if (typeof v === 'object') return 'an object';
  return String(v);
}
