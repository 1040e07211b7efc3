import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A database URL the Postgres suites may create schemas in. */
    postgresUrl: string;
    /** A standalone Redis server. */
    redisUrl: string;
    /** Seed nodes of a three-master Redis Cluster, `host:port` each. */
    redisClusterNodes: string[];
    /** A MongoDB wire-protocol server, and what it is (`mongod`, `ferretdb`, `external`). */
    mongodbUrl: string;
    mongodbServer: string;
  }
}

type Stop = () => Promise<void>;

/**
 * Starts the servers the store suites need and hands their URLs to the tests with `provide`.
 * Each comes from the environment (POSTGRES_URL, REDIS_URL, REDIS_CLUSTER_NODES, MONGODB_URL) or
 * is started here from local binaries on a free port in a temporary directory. A server that
 * cannot be had fails the run: a store suite is never skipped silently.
 */
export default async function setup(project: TestProject): Promise<Stop> {
  const stops: Stop[] = [];
  const services = await import('./services.js');
  try {
    // AGENT_SESSIONS_SERVICES=postgres,redis starts only those (for a quick local run).
    const only = process.env.AGENT_SESSIONS_SERVICES?.split(',').map((s) => s.trim());
    for (const { name, start } of services.ALL) {
      if (only && !only.includes(name)) continue;
      const started = await start();
      for (const [key, value] of Object.entries(started.provide)) {
        project.provide(key as never, value as never);
      }
      stops.push(started.stop);
    }
  } catch (err) {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    throw err;
  }
  return async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  };
}
