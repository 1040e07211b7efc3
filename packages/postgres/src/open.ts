import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AgentSessionsError, NotImplementedError, classifyError, invalidInput } from '@agent-sessions/core/store';
import type { PgPoolOptions, PgQueryable } from './client.js';
import { PG_ERRORS } from './errors.js';

/** The default `connectionTimeoutMillis` of pools the store opens (never above `timeoutMs`). */
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5000;

export interface Opened {
  client: PgQueryable;
  end: () => Promise<void>;
  /** Rewrites a driver error before the store classifies it (to name the server). */
  explain?: ((err: unknown) => unknown) | undefined;
  /** Where the opened pool connects: host (or socket directory), port, database. Never credentials. */
  server?: { host: string; port: number; database: string | undefined } | undefined;
}

interface PoolLike extends PgQueryable {
  on(event: 'error', listener: (err: Error) => void): unknown;
  end(): Promise<void>;
}
type PoolCtor = new (config: Record<string, unknown>) => PoolLike;
type ClientCtor = new (config: Record<string, unknown>) => { connectionParameters?: { host?: string; port?: number; database?: string } };
type PgliteCtor = new (dataDir?: string) => PgQueryable & { close(): Promise<void>; waitReady?: Promise<void> };

/**
 * The pool config a store-opened pool gets: every bound follows the store's `timeoutMs`, so a
 * paused server or a held row lock never pins a pooled connection longer than one call may take.
 * The server cancels a statement (or a lock wait) after `timeoutMs`; the driver gives up on a
 * server that does not answer at all a second later and drops that connection.
 */
export function poolConfig(url: string, options: PgPoolOptions, timeoutMs: number): Record<string, unknown> {
  return {
    connectionTimeoutMillis: Math.min(DEFAULT_CONNECTION_TIMEOUT_MS, timeoutMs),
    statement_timeout: timeoutMs,
    lock_timeout: timeoutMs,
    query_timeout: timeoutMs + 1000,
    idle_in_transaction_session_timeout: timeoutMs,
    keepAlive: true,
    ...options,
    connectionString: url,
  };
}

/**
 * Host, port and database of a postgres:// URL as pg will read them (`?host=`/`?port=` win),
 * without loading pg; never the user or password. Undefined for a URL this cannot read.
 */
export function serverOfUrl(url: string): Opened['server'] {
  try {
    const u = new URL(url);
    const q = u.searchParams;
    const host = q.get('host') ?? (decodeURIComponent(u.hostname).replace(/^\[(.*)\]$/, '$1') || 'localhost');
    const port = Number(q.get('port') ?? (u.port || 5432));
    const database = decodeURIComponent(u.pathname.slice(1)) || undefined;
    return { host, port: Number.isInteger(port) ? port : 5432, database };
  } catch {
    return undefined;
  }
}

/** Opens a pg.Pool for `fromConnectionString`; an idle connection's error never crashes the process. */
export async function openPool(url: string, options: PgPoolOptions, timeoutMs: number): Promise<Opened> {
  const mod = (await importDriver('pg')) as { Pool?: PoolCtor; Client?: ClientCtor; default?: { Pool?: PoolCtor; Client?: ClientCtor } };
  const Pool = mod.Pool ?? mod.default?.Pool;
  const Client = mod.Client ?? mod.default?.Client;
  if (!Pool || !Client) throw new NotImplementedError("the 'pg' module has no Pool export: npm install pg@8", { source: 'postgres' });
  const config = poolConfig(url, options, timeoutMs);
  // pg parses the URL only when it connects, and throws a bare TypeError then: parse it now.
  let where: string;
  let server: Opened['server'];
  try {
    const p = new Client(config).connectionParameters;
    server = { host: p?.host ?? 'localhost', port: Number(p?.port ?? 5432), database: p?.database ?? undefined };
    where = `${server.host}:${server.port}`;
  } catch (err) {
    throw invalidInput(`postgres:// URL could not be parsed (${(err as Error).message})`, 'postgres');
  }
  const pool = new Pool(config);
  // pg emits 'error' on the pool when an idle connection dies (a server restart); without a
  // listener Node would exit. The next query gets a fresh connection or a classified error.
  pool.on('error', () => {});
  return {
    client: pool,
    server,
    end: () => pool.end(),
    explain: (err) => {
      if (!(err instanceof Error) || err.message.includes(where)) return err;
      // Only what says where the server is matters here: a lost race (conflict) must keep its code for the retry.
      const code = classifyError(err, PG_ERRORS);
      if (code !== 'unavailable' && code !== 'access_denied') return err;
      return new Error(`PostgreSQL at ${where}: ${err.message}`, { cause: err });
    },
  };
}

/**
 * Opens a PGlite database (in memory for an empty `dataDir`) that the store owns. A directory is
 * held by one store at a time: PGlite has no locking of its own, and two instances on one
 * directory corrupt it or abort the process.
 */
export async function openPglite(dataDir: string): Promise<Opened> {
  const mod = (await importDriver('@electric-sql/pglite')) as { PGlite?: PgliteCtor };
  if (!mod.PGlite) throw new NotImplementedError("the '@electric-sql/pglite' module has no PGlite export", { source: 'postgres' });
  const onDisk = dataDir !== '' && !/^[a-z]+:\/\//i.test(dataDir);
  // PGlite does not create missing parent directories; a `pglite://./data/sessions` URL should.
  if (onDisk) mkdirSync(dataDir, { recursive: true });
  const release = onDisk ? lockDirectory(dataDir) : () => {};
  let db: InstanceType<PgliteCtor>;
  try {
    db = new mod.PGlite(dataDir || undefined);
    // Surface a failed start here, so the store reports it once and close() has nothing to end.
    await db.waitReady;
  } catch (err) {
    release();
    throw err;
  }
  return {
    client: db,
    end: async () => {
      try {
        await db.close();
      } finally {
        release();
      }
    },
  };
}

const LOCK_FILE = 'agent-sessions.lock';
const held = new Set<string>();

/** Takes the directory's lock file (our pid in it); a lock whose process is gone is taken over. */
function lockDirectory(dir: string): () => void {
  const file = join(dir, LOCK_FILE);
  const inUse = (pid: number) =>
    new AgentSessionsError(
      'unavailable',
      `pglite://${dir} is in use by ${pid === process.pid ? 'another store in this process' : `process ${pid}`}: one PGlite database directory serves one store at a time (close the other, or use postgres:// for several processes)`,
      { source: 'postgres' },
    );
  if (held.has(file)) throw inUse(process.pid);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      held.add(file);
      return () => {
        if (!held.delete(file)) return;
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    const pid = Number(readFileSync(file, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw inUse(pid);
    try {
      unlinkSync(file); // stale: its process is gone
    } catch {
      // another process took it over first; try again
    }
  }
  throw inUse(0);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

/** Loads an optional peer; a missing one is a NotImplementedError naming the package to install. */
export async function importDriver(name: 'pg' | '@electric-sql/pglite'): Promise<unknown> {
  try {
    return await import(name);
  } catch (err) {
    // The loader's error, or one wrapping it (bundlers and test runners wrap it in a cause).
    let missing = false;
    for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
      const code = (e as { code?: string }).code;
      if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') missing = true;
    }
    if (missing) {
      throw new NotImplementedError(`the '${name}' package is not installed: npm install ${name}`, {
        source: 'postgres',
        cause: err,
      });
    }
    throw err;
  }
}
