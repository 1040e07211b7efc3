import type { Backend } from './contender.js';

/** Server URLs for the benchmark, and how to stop what was started here. */
export interface Servers {
  postgres?: string;
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
