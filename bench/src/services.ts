import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Backend } from './contender.js';

/** Server URLs for the benchmark, and how to stop what was started here. */
export interface Servers {
  postgres?: string;
  /** A second PostgreSQL server with fsync and synchronous_commit on (the `postgres-fsync` backend). */
  'postgres-fsync'?: string;
  redis?: string;
  mongodb?: string;
  /** `mongod`, `ferretdb`, `external`, ... as the harness says. */
  mongodbServer?: string;
  stop(): Promise<void>;
}

/**
 * Starts the servers the chosen backends need with the test-services harness (test/services):
 * the same throwaway servers on free loopback ports the store suites run against. A URL in the
 * environment (POSTGRES_URL, REDIS_URL, MONGODB_URL) wins, as in the tests.
 */
export async function startServers(backends: readonly Backend[]): Promise<Servers> {
  const stops: (() => Promise<void>)[] = [];
  const servers: Servers = {
    stop: async () => {
      for (const s of stops.reverse()) await s().catch(() => {});
    },
  };
  try {
    if (backends.includes('postgres')) {
      servers.postgres = process.env.POSTGRES_URL;
      if (!servers.postgres) {
        const { startPostgresServer } = await import('../../test/services/postgres.js');
        const server = await startPostgresServer();
        stops.push(server.destroy);
        servers.postgres = server.url;
      }
    }
    if (backends.includes('postgres-fsync')) {
      servers['postgres-fsync'] = process.env.POSTGRES_FSYNC_URL;
      if (!servers['postgres-fsync']) {
        const server = await startDurablePostgres();
        stops.push(server.destroy);
        servers['postgres-fsync'] = server.url;
      }
    }
    if (backends.includes('redis')) {
      servers.redis = process.env.REDIS_URL;
      if (!servers.redis) {
        // The standalone server only: the benchmark has no use for the cluster the tests also start.
        const { startRedisServer } = await import('../../test/services/redis.js');
        const server = await startRedisServer();
        stops.push(server.destroy);
        servers.redis = server.url;
      }
    }
    if (backends.includes('mongodb')) {
      servers.mongodb = process.env.MONGODB_URL;
      servers.mongodbServer = 'external';
      if (!servers.mongodb) {
        // A real mongod (mongodb-memory-server) where one can be had, else FerretDB: as in the tests.
        const { startMongodb } = await import('../../test/services/mongodb.js');
        const started = await startMongodb();
        stops.push(started.stop);
        servers.mongodb = String(started.provide.mongodbUrl);
        servers.mongodbServer = String(started.provide.mongodbServer ?? 'unknown');
      }
    }
    return servers;
  } catch (err) {
    await servers.stop();
    throw err;
  }
}

/**
 * The settings of the `postgres-fsync` server: PostgreSQL's defaults for durability (a commit
 * returns once its WAL is flushed to disk), as users run it; everything else as the test
 * harness's server (test/services/postgres.ts), which runs with fsync, synchronous_commit and
 * full_page_writes off.
 */
export const DURABLE_PG_SETTINGS = {
  fsync: 'on',
  synchronous_commit: 'on',
  full_page_writes: 'on',
  max_connections: '200',
  listen_addresses: '127.0.0.1',
};

/**
 * Starts a throwaway PostgreSQL server as the harness does (fresh cluster, trust auth, C
 * locale, a free loopback port, run as an unprivileged account when we are root), but with
 * DURABLE_PG_SETTINGS: the harness's starter always turns durability off.
 */
async function startDurablePostgres(): Promise<{ url: string; destroy(): Promise<void> }> {
  const { findBinary, freePort, startProcess, tempDir, waitFor } = await import('../../test/services/util.js');
  const { canQuery } = await import('../../test/services/postgres.js');
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base)
    ? readdirSync(base)
        .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const initdb = await findBinary('initdb', versions.map((v) => join(base, v, 'bin')));
  if (!initdb) throw new Error('PostgreSQL is not installed (no initdb): run `node scripts/install-services.mjs`, or set POSTGRES_FSYNC_URL');
  const bin = join(initdb, '..');
  let account: { uid: number; gid: number } | undefined;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
    for (const name of ['postgres', 'nobody']) {
      const [, , uid, gid] = passwd.find((l) => l.startsWith(`${name}:`))?.split(':') ?? [];
      if (uid && gid) {
        account = { uid: Number(uid), gid: Number(gid) };
        break;
      }
    }
  }
  const spawnAs = account ? { uid: account.uid, gid: account.gid } : {};
  const root = tempDir('postgres-fsync');
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  if (account) {
    chownSync(root, account.uid, account.gid);
    chownSync(dataDir, account.uid, account.gid);
  }
  const init = spawnSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'], {
    ...spawnAs,
    encoding: 'utf8',
    cwd: root,
  });
  // --no-sync: initdb's own files need no flush (a throwaway cluster); the server's settings are what count.
  if (init.status !== 0) throw new Error(`initdb failed (exit ${init.status}):\n${init.stdout}${init.stderr}`);
  const port = await freePort();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const args = ['-D', dataDir, '-p', String(port), '-k', root];
  for (const [k, v] of Object.entries(DURABLE_PG_SETTINGS)) args.push('-c', `${k}=${v}`);
  const proc = startProcess(join(bin, 'postgres'), args, { ...spawnAs, cwd: root });
  const destroy = async () => {
    await proc.stop('SIGINT');
    rmSync(root, { recursive: true, force: true });
  };
  try {
    await waitFor(
      `PostgreSQL (fsync on) on port ${port}`,
      async () => {
        if (proc.child.exitCode !== null) throw new Error(`postgres exited with code ${proc.child.exitCode}`);
        return canQuery(url);
      },
      { output: proc.output },
    );
  } catch (err) {
    await destroy().catch(() => {});
    throw err;
  }
  return { url, destroy };
}
