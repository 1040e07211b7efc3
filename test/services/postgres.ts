import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { StartedService } from './services.js';
import { findBinary, freePort, startProcess, tempDir, waitFor, type Started } from './util.js';

/** A PostgreSQL server this harness started, which a test may stop and start again (outage tests). */
export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  dataDir: string;
  /** Stops the server (fast shutdown: open connections are cut); the data stays for `start()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data, and waits until it answers queries. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** Stops the server and removes its temporary directory. */
  destroy(): Promise<void>;
}

export interface PostgresServerOptions {
  /** Default: a free loopback port. */
  port?: number | undefined;
  /** An existing data directory to serve; default: a new cluster in a temporary directory. */
  dataDir?: string | undefined;
}

// Settings for a throwaway test server: durability off (a crash loses nothing we need), room
// for many pools at once.
const SETTINGS = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
  listen_addresses: '127.0.0.1',
};

interface PgClientLike {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

// `pg` is a dev dependency of packages/postgres; the harness borrows it from there.
const requireFromPostgres = createRequire(new URL('../../packages/postgres/package.json', import.meta.url));
const pg = requireFromPostgres('pg') as {
  Client: new (config: { connectionString: string; connectionTimeoutMillis?: number }) => PgClientLike;
};

/** True once a client can connect and run `SELECT 1`: the readiness probe, never a sleep. */
export async function canQuery(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } finally {
    await client.end().catch(() => {});
  }
}

async function binDir(): Promise<string> {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const initdb = await findBinary('initdb', versions.map((v) => join(base, v, 'bin')));
  if (!initdb) {
    throw new Error(
      'PostgreSQL is not installed (no initdb on PATH or in /usr/lib/postgresql/*/bin): run `node scripts/install-services.mjs`, or set POSTGRES_URL',
    );
  }
  return join(initdb, '..');
}

/** PostgreSQL refuses to run as root: as root, run it as this (unprivileged) account. */
function serverAccount(): { uid: number; gid: number } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.find((l) => l.startsWith(`${name}:`));
    const [, , uid, gid] = line?.split(':') ?? [];
    if (uid && gid) return { uid: Number(uid), gid: Number(gid) };
  }
  throw new Error('running as root, and there is no postgres or nobody account to run PostgreSQL as');
}

/**
 * Starts a throwaway PostgreSQL server: a fresh cluster (trust auth, C locale) in a temporary
 * directory, on a free loopback port, its socket in that directory. Resolves once it answers
 * `SELECT 1`.
 */
export async function startPostgresServer(options: PostgresServerOptions = {}): Promise<PostgresServer> {
  const bin = await binDir();
  const account = serverAccount();
  const root = tempDir('postgres');
  const ownTemp = options.dataDir === undefined;
  const dataDir = options.dataDir ?? join(root, 'data');
  const port = options.port ?? (await freePort());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const spawnAs = account ? { uid: account.uid, gid: account.gid } : {};
  if (account) chownSync(root, account.uid, account.gid);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true });
    if (account) chownSync(dataDir, account.uid, account.gid);
    const init = spawnSync(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      { ...spawnAs, encoding: 'utf8', cwd: root },
    );
    if (init.status !== 0) throw new Error(`initdb failed (exit ${init.status}):\n${init.stdout}${init.stderr}`);
  }

  const args = ['-D', dataDir, '-p', String(port), '-k', root];
  for (const [k, v] of Object.entries(SETTINGS)) args.push('-c', `${k}=${v}`);

  let proc: Started | undefined;
  const start = async () => {
    if (proc && proc.child.exitCode === null && proc.child.signalCode === null) return;
    const p = startProcess(join(bin, 'postgres'), args, { ...spawnAs, cwd: root });
    proc = p;
    await waitFor(
      `PostgreSQL on port ${port}`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`postgres exited with code ${p.child.exitCode}`);
        return canQuery(url);
      },
      { output: p.output },
    );
  };
  // SIGINT is PostgreSQL's fast shutdown: it cuts open connections and exits cleanly.
  const stop = async () => {
    await proc?.stop('SIGINT');
  };

  try {
    await start();
  } catch (err) {
    await stop().catch(() => {});
    if (ownTemp) rmSync(root, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port,
    dataDir,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      await stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The global-setup starter: provides `postgresUrl`, from POSTGRES_URL or a throwaway server.
 * Test files isolate themselves by creating their own schema (random name) through the store's
 * `schema` option, so they can share one server and run in parallel.
 */
export async function startPostgres(): Promise<StartedService> {
  const external = process.env.POSTGRES_URL;
  if (external) return { provide: { postgresUrl: external }, stop: async () => {} };
  const server = await startPostgresServer();
  return { provide: { postgresUrl: server.url }, stop: () => server.destroy() };
}
