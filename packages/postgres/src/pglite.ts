/**
 * Named prepared statements on PGlite. PGlite's `query()` parses and plans every statement anew
 * (an unnamed statement each time: the append spent twice as long planning as executing), and
 * has no named statements of its own. Its `execProtocol` takes wire-protocol messages, so the
 * store does what pg does over a socket: Parse a named statement once per database, then Bind,
 * Execute and Sync in one message per call. Every message batch ends with Sync, so a failed
 * Parse (the migration probe before the tables exist) leaves the session ready for the next
 * one, and a statement whose Parse failed is never taken as prepared.
 */

/** The part of a PGlite database this path needs. */
export interface PgliteProtocol {
  execProtocol(message: Uint8Array, options?: { throwOnError?: boolean }): Promise<{ messages: BackendMessage[] }>;
  runExclusive<T>(fn: () => Promise<T>): Promise<T>;
  readonly closed?: boolean;
}

interface BackendMessage {
  name: string;
  fields?: unknown[];
}

interface Field {
  name: string;
  dataTypeID: number;
}

const BOOL = 16;

export function isPglite(client: unknown): client is PgliteProtocol {
  const c = client as Partial<PgliteProtocol> | null;
  return typeof c?.execProtocol === 'function' && typeof c.runExclusive === 'function';
}

/** Per database: statement text → its result fields (null: not yet known), once its Parse succeeded. */
const PREPARED = new WeakMap<object, Map<string, Field[] | null>>();
/** Per database: calls per statement since it was parsed (see REPREPARE_EVERY). */
const USES = new WeakMap<object, Map<string, number>>();

/**
 * Each statement is parsed again after this many calls. A kept generic plan is not made again
 * as the tables grow, and PGlite never analyzes them: a plan made while they were small could
 * stay wrong for a long session. One more Parse per this many calls costs nothing measurable.
 */
export const REPREPARE_EVERY = 1000;

const encoder = new TextEncoder();

/** Frontend messages, each a type byte, a length and a body, into one buffer. */
class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  private body: Uint8Array[] = [];
  private bodySize = 0;

  private push(b: Uint8Array): this {
    this.body.push(b);
    this.bodySize += b.length;
    return this;
  }
  bytes(b: Uint8Array): this {
    return this.push(b);
  }
  cstring(s: string): this {
    if (s.length > 0) this.push(encoder.encode(s));
    return this.push(ZERO);
  }
  int16(n: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setInt16(0, n);
    return this.push(b);
  }
  int32(n: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, n);
    return this.push(b);
  }
  /** Closes the message begun since the last one, of type `code`. */
  end(code: string): this {
    const head = new Uint8Array(5);
    head[0] = code.charCodeAt(0);
    new DataView(head.buffer).setInt32(1, this.bodySize + 4);
    this.parts.push(head, ...this.body);
    this.size += 5 + this.bodySize;
    this.body = [];
    this.bodySize = 0;
    return this;
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.size);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
const ZERO = new Uint8Array(1);
const PORTAL = encoder.encode('P');
const STATEMENT = encoder.encode('S');

/** A parameter as text, as PGlite's own serializers send the store's values. */
function param(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

function bind(w: Writer, name: string, params: unknown[]): void {
  w.cstring('').cstring(name).int16(0).int16(params.length);
  for (const p of params) {
    const text = param(p);
    if (text === null) w.int32(-1);
    else {
      const b = encoder.encode(text);
      w.int32(b.length).bytes(b);
    }
  }
  w.int16(0).end('B');
}

/**
 * Runs one statement as a named prepared statement on this PGlite database: the first call
 * parses it and learns its result fields; later calls only bind and execute it, in one message.
 */
export async function pgliteQuery(db: PgliteProtocol, name: string, text: string, params: unknown[]): Promise<{ rows: unknown[] }> {
  try {
    return await run(db, name, text, params);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Prepared already under this name by another copy of this module over the same database.
    if (code === '42P05') PREPARED.get(db)?.set(text, null);
    // Deallocated behind our back (DEALLOCATE ALL): run() forgot it; parse it again now.
    else if (code !== '26000') throw err;
    return run(db, name, text, params);
  }
}

function run(db: PgliteProtocol, name: string, text: string, params: unknown[]): Promise<{ rows: unknown[] }> {
  let statements = PREPARED.get(db);
  if (!statements) {
    statements = new Map();
    PREPARED.set(db, statements);
  }
  const cache = statements;
  // query() checks this itself; execProtocol does not (the classifier knows this message).
  if (db.closed) return Promise.reject(new Error('PGlite is closed'));
  let uses = USES.get(db);
  if (!uses) {
    uses = new Map();
    USES.set(db, uses);
  }
  const counts = uses;
  return db.runExclusive(async () => {
    if (db.closed) throw new Error('PGlite is closed');
    const w = new Writer();
    const n = (counts.get(text) ?? 0) + 1;
    counts.set(text, n);
    if (n > REPREPARE_EVERY && cache.has(text)) {
      // Close it and parse it again below (with fresh plans), in the same message.
      w.bytes(STATEMENT).cstring(name).end('C');
      cache.delete(text);
      counts.set(text, 1);
    }
    const prepared = cache.has(text);
    let fields = cache.get(text) ?? null;
    if (!prepared) w.cstring(name).cstring(text).int16(0).end('P');
    bind(w, name, params);
    if (!fields) w.bytes(PORTAL).cstring('').end('D');
    w.cstring('').int32(0).end('E');
    w.end('S');
    const { messages } = await db.execProtocol(w.done(), { throwOnError: false });
    const rows: Record<string, unknown>[] = [];
    let failed: unknown;
    for (const m of messages) {
      switch (m.name) {
        case 'parseComplete':
          cache.set(text, null);
          break;
        case 'rowDescription':
          fields = m.fields as Field[];
          break;
        case 'noData':
          fields = [];
          break;
        case 'dataRow': {
          const values = m.fields as (string | null)[];
          const row: Record<string, unknown> = {};
          const fs = fields ?? [];
          for (let i = 0; i < fs.length; i++) {
            const f = fs[i] as Field;
            const v = values[i] ?? null;
            // Text results: numbers stay strings (the store reads them with Number); booleans parse.
            row[f.name] = f.dataTypeID === BOOL && v !== null ? v === 't' : v;
          }
          rows.push(row);
          break;
        }
        case 'error':
          failed ??= m;
          break;
      }
    }
    if (failed !== undefined) {
      // Deallocated behind our back (DEALLOCATE ALL): parse it again next time.
      if ((failed as { code?: string }).code === '26000') cache.delete(text);
      throw failed;
    }
    if (cache.has(text) && fields) cache.set(text, fields);
    return { rows };
  });
}
