import { randomBytes } from 'node:crypto';
import IORedis, { Cluster } from 'ioredis';
import { inject } from 'vitest';

/** A key prefix of its own for each test file, so files never see each other's data. */
export function randomPrefix(tag: string): string {
  return `test:${tag}:${randomBytes(4).toString('hex')}:`;
}

/** The seed nodes of the harness's three-master cluster. */
export function clusterNodes(): { host: string; port: number }[] {
  return inject('redisClusterNodes').map((n) => {
    const i = n.lastIndexOf(':');
    return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
  });
}

/** A Cluster client with the same fail-fast settings fromConnectionString uses. */
export function clusterClient(): Cluster {
  const client = new Cluster(clusterNodes(), {
    redisOptions: { maxRetriesPerRequest: 1, commandTimeout: 5000, connectTimeout: 5000 },
  });
  client.on('error', () => {});
  return client;
}

export interface SeenCommand {
  /** The command name, lower case, and its arguments. */
  name: string;
  args: string[];
  /** `ip:port` of the client that sent it, or `lua` for a command a script ran. */
  source: string;
}

/**
 * Watches what one server receives with MONITOR on a connection of its own. `take()` returns
 * everything seen since the last `take()`: it first sends a marker from a third connection
 * and waits for it, and the server logs commands in the order it runs them, so nothing that
 * ran before is still on its way.
 */
export async function watchServer(target: string | { host: string; port: number }) {
  const make = () => (typeof target === 'string' ? new IORedis(target) : new IORedis(target));
  // The marker connects first, so its handshake is over before MONITOR starts (see round-trips.test.ts).
  const marker = make();
  await marker.ping();
  const base = make();
  const mon = await base.monitor();
  let seen: SeenCommand[] = [];
  mon.on('monitor', (_time: string, args: string[], source: string) => {
    seen.push({ name: (args[0] ?? '').toLowerCase(), args: args.slice(1), source });
  });
  return {
    async take(): Promise<SeenCommand[]> {
      const tag = `mark-${randomBytes(6).toString('hex')}`;
      await marker.echo(tag);
      const deadline = Date.now() + 5000;
      while (!seen.some((c) => c.name === 'echo' && c.args[0] === tag)) {
        if (Date.now() > deadline) throw new Error('MONITOR never showed the marker');
        await new Promise((r) => setTimeout(r, 5));
      }
      const i = seen.findIndex((c) => c.name === 'echo' && c.args[0] === tag);
      const out = seen.slice(0, i);
      seen = seen.slice(i + 1);
      return out;
    },
    async close(): Promise<void> {
      mon.disconnect();
      base.disconnect();
      marker.disconnect();
    },
  };
}

/** `ip:port` of a connection as the server sees it (the source MONITOR reports). */
export async function clientAddress(client: IORedis): Promise<string> {
  const info = String(await client.call('CLIENT', 'INFO'));
  const m = /\baddr=(\S+)/.exec(info);
  if (!m?.[1]) throw new Error(`no addr in CLIENT INFO: ${info}`);
  return m[1];
}
