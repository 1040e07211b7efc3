import { createHash } from 'node:crypto';
import type { Opened } from './open.js';
import { isPglite, pgliteQuery } from './pglite.js';

/**
 * The one small query interface the store needs. A `pg.Pool` (recommended), a `pg.Client`, a
 * `pg.PoolClient` and a PGlite database all have it as they are; so can a wrapper of your own
 * (to log or count statements, say).
 */
export interface PgQueryable {
  /** Runs one statement with `$1`-style parameters and resolves to its rows. */
  query(text: string, params?: unknown[]): Promise<{ rows: unknown[] }>;
  /**
   * Runs a script of several statements without parameters (PGlite's `exec`). When absent the
   * script goes through `query(script)` without parameters, which pg sends over the simple
   * query protocol, where several statements are allowed.
   */
  exec?: ((script: string) => Promise<unknown>) | undefined;
}

/** pg.Pool options `fromConnectionString` passes on (any other `pg.PoolConfig` field is passed too). */
export interface PgPoolOptions {
  /** Most connections the pool opens. pg's default: 10. */
  max?: number | undefined;
  /**
   * How long to wait for a connection before failing with `unavailable`. Default here: 5000 ms
   * (pg's own default, 0, waits forever, so an outage would hang every call).
   */
  connectionTimeoutMillis?: number | undefined;
  /** How long an idle connection stays open. pg's default: 10000 ms. */
  idleTimeoutMillis?: number | undefined;
  [option: string]: unknown;
}

/** What the store runs statements through, whatever the client is. */
export interface SqlRunner {
  /** `once`: an unnamed statement (the migration probe, which may fail before the tables exist). */
  query<R>(text: string, params: unknown[], once?: boolean): Promise<R[]>;
  /** A multi-statement script, run by the server as one implicit transaction. */
  script(text: string): Promise<void>;
  /** Ends what the runner opened itself; a no-op for an injected client. */
  end(): Promise<void>;
  /** Where the pool the runner opened connects, once it is open (see Opened.server). */
  server?: (() => Opened['server']) | undefined;
}

export function isQueryable(value: unknown): value is PgQueryable {
  return typeof value === 'object' && value !== null && typeof (value as PgQueryable).query === 'function';
}

/** True for pg's own Pool and Client, which accept `{ name, text, values }`. */
function isPgDriver(client: PgQueryable): boolean {
  return 'connectionParameters' in client || 'totalCount' in client;
}

const NAMES = new Map<string, string>();
/** A stable statement name: the same SQL text always maps to the same prepared statement. */
function statementName(text: string): string {
  let name = NAMES.get(text);
  if (!name) {
    name = `agent_sessions_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    NAMES.set(text, name);
  }
  return name;
}

/**
 * Sends one statement. With pg's own clients and `prepared`, a named statement: the server
 * parses and plans it once per connection instead of on every call, which for the store's
 * statements is a third to a half of their cost.
 */
function send(client: PgQueryable, text: string, params: unknown[], prepared: boolean): Promise<{ rows: unknown[] }> {
  if (prepared && isPglite(client)) return pgliteQuery(client, statementName(text), text, params);
  if (prepared && isPgDriver(client)) {
    const named = client.query as unknown as (config: { name: string; text: string; values: unknown[] }) => Promise<{ rows: unknown[] }>;
    return named.call(client, { name: statementName(text), text, values: params });
  }
  return client.query(text, params);
}

/** Wraps an injected client. The caller owns it: `end` leaves it open. */
export function runnerFor(client: PgQueryable, end: () => Promise<void> = async () => {}, prepared = true): SqlRunner {
  const run = isSingleConnection(client) ? serialized() : <T>(fn: () => Promise<T>) => fn();
  return {
    query: <R>(text: string, params: unknown[], once = false) =>
      run(async () => (await send(client, text, params, prepared && !once)).rows as R[]),
    script: (text: string) =>
      run(async () => {
        if (typeof client.exec === 'function') await client.exec(text);
        else await client.query(text);
      }),
    end,
  };
}

/**
 * A pg.Client (or a pool's checked-out client) is one connection: pg queues overlapping queries
 * but deprecates doing so (pg 9 drops it), so the store sends them one at a time itself. Pools
 * and PGlite (which has its own queue) take concurrent calls as they are.
 */
function isSingleConnection(client: PgQueryable): boolean {
  return 'connectionParameters' in client && !('totalCount' in client);
}

function serialized(): <T>(fn: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>) => {
    const next = tail.then(fn, fn);
    tail = next.catch(() => {});
    return next;
  };
}

/**
 * A runner over a client opened on first use, so that the driver (an optional peer dependency)
 * is only loaded when a store really needs it, and constructors stay synchronous.
 */
export function lazyRunner(open: () => Promise<Opened>, prepared = true, expected?: Opened['server']): SqlRunner {
  let opened: Promise<Opened> | undefined;
  let ended = false;
  // Read from the URL until the driver has parsed it (spans start before the first connection).
  let server: Opened['server'] = expected;
  const get = () => {
    if (ended) return Promise.reject(new Error('cannot use the store after close()'));
    opened ??= open().then(
      (o) => {
        server = o.server ?? server;
        return o;
      },
      (err: unknown) => {
        opened = undefined;
        throw err;
      },
    );
    return opened;
  };
  const explained = async <T>(fn: (o: Opened) => Promise<T>): Promise<T> => {
    const o = await get();
    try {
      return await fn(o);
    } catch (err) {
      throw o.explain ? o.explain(err) : err;
    }
  };
  return {
    query: <R>(text: string, params: unknown[], once = false) =>
      explained(async (o) => (await send(o.client, text, params, prepared && !once)).rows as R[]),
    script: (text: string) =>
      explained(async ({ client }) => {
        if (typeof client.exec === 'function') await client.exec(text);
        else await client.query(text);
      }),
    server: () => server,
    end: async () => {
      ended = true;
      const o = opened;
      opened = undefined;
      if (o) await (await o.catch(() => undefined))?.end();
    },
  };
}
