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
  // One scan for the common case: no control character and no surrogate at all.
  if (!ID_SUSPECT.test(value)) return;
  if (CONTROL.test(value)) throw invalidInput(`${what} contains a control character`, source);
  if (LONE_SURROGATE.test(value)) throw invalidInput(`${what} contains a lone surrogate`, source);
}

// Any control character or surrogate: an id without one needs no closer look.
const ID_SUSPECT = /[\u0000-\u001f\u007f-\u009f\ud800-\udfff]/;

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
  return new JsonSnapshot(what, source).walk(value, 0);
}

// Runs on every item of every append, so the walk allocates nothing but the copy: the path named
// in an error is rebuilt from the keys on the way down only when there is an error to report, and
// the objects being walked (for the cycle check) sit in an array indexed by depth.
class JsonSnapshot {
  /** `keys[d]`: the array index or property name taken at depth d. */
  private readonly keys: (string | number)[] = [];
  /** `parents[d]`: the array or object walked at depth d (only entries below the current depth are ancestors). */
  private readonly parents: object[] = [];

  constructor(
    private readonly what: string,
    private readonly source: string | undefined,
  ) {}

  /** The path of the value at `depth`, e.g. `items[2].output.text`. */
  private path(depth: number): string {
    let p = this.what;
    for (let d = 0; d < depth; d++) {
      const k = this.keys[d] as string | number;
      p += typeof k === 'number' ? `[${k}]` : `.${k}`;
    }
    return p;
  }

  private fail(depth: number, message: string): never {
    throw invalidInput(`${this.path(depth)}${message}`, this.source);
  }

  private checkString(s: string, depth: number, suffix: string): void {
    // One scan for the common case: no NUL and no surrogate at all.
    if (!SUSPECT.test(s)) return;
    if (s.includes('\u0000')) this.fail(depth, `${suffix} contains a NUL character`);
    if (LONE_SURROGATE.test(s)) this.fail(depth, `${suffix} contains a lone surrogate`);
  }

  walk(v: unknown, depth: number): JsonValue {
    if (depth > MAX_JSON_DEPTH) this.fail(depth, ` is nested deeper than ${MAX_JSON_DEPTH} levels`);
    switch (typeof v) {
      case 'string':
        this.checkString(v, depth, '');
        return v;
      case 'boolean':
        return v;
      case 'number':
        if (!Number.isFinite(v)) this.fail(depth, ` is ${String(v)}, which JSON cannot hold`);
        return Object.is(v, -0) ? 0 : v;
      case 'object': {
        if (v === null) return null;
        const parents = this.parents;
        for (let d = 0; d < depth; d++) if (parents[d] === v) this.fail(depth, ' contains a cycle');
        const keys = this.keys;
        if (Array.isArray(v)) {
          parents[depth] = v;
          const length = v.length;
          const out: JsonValue[] = new Array<JsonValue>(length);
          for (let i = 0; i < length; i++) {
            const child: unknown = v[i];
            keys[depth] = i;
            if (child === undefined) this.fail(depth + 1, ' is undefined; arrays must hold JSON values');
            out[i] = this.walk(child, depth + 1);
          }
          return out;
        }
        const proto = Object.getPrototypeOf(v) as unknown;
        if (proto !== Object.prototype && proto !== null) {
          const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'object';
          this.fail(depth, ` is a ${name}, not a plain object`);
        }
        if (Object.getOwnPropertySymbols(v).length > 0) this.fail(depth, ' has symbol keys');
        parents[depth] = v;
        const out: { [key: string]: JsonValue } = {};
        for (const [k, child] of Object.entries(v)) {
          this.checkString(k, depth, ' key');
          if (child === undefined) continue;
          keys[depth] = k;
          const copy = this.walk(child, depth + 1);
          // Assignment would set the prototype for __proto__: that key is defined as an own one.
          if (k === '__proto__') Object.defineProperty(out, k, { value: copy, enumerable: true, writable: true, configurable: true });
          else out[k] = copy;
        }
        return out;
      }
      default:
        return this.fail(depth, ` is ${describe(v)}, which JSON cannot hold`);
    }
  }
}

// Any NUL or surrogate: a string without one needs no closer look.
const SUSPECT = /[\u0000\ud800-\udfff]/;

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
