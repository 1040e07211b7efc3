import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { StartedService } from './services.js';
import { findBinary, freePort, startProcess, tempDir, waitFor, type Started } from './util.js';

const run = promisify(execFile);

/** A redis-server this harness started; `stop` and `restart` let a test take it down and bring it back. */
export interface RedisServer {
  url: string;
  host: string;
  port: number;
  /** Stops the server (SIGTERM); calls fail until `restart`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. Data is gone unless `args` keep it. */
  restart(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

export interface StartRedisOptions {
  /** Default: a free port on 127.0.0.1. */
  port?: number | undefined;
  /** Extra `redis-server` arguments, appended after the harness's own (later ones win). */
  args?: string[] | undefined;
}

async function binary(name: string): Promise<string> {
  const path = await findBinary(name, ['/usr/bin', '/usr/local/bin', '/usr/sbin']);
  if (!path) {
    throw new Error(
      `${name} is not installed: run 'node scripts/install-services.mjs' (apt redis-server) or set REDIS_URL and REDIS_CLUSTER_NODES`,
    );
  }
  return path;
}

/** Sends one command with redis-cli and returns its raw output. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run(await binary('redis-cli'), ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5000,
  });
  return stdout;
}

/** PONG means loaded and serving; LOADING or a refused connection is not ready yet. */
const answersPing = async (port: number): Promise<boolean> => (await cli(port, 'PING')).trim() === 'PONG';

/** Starts one `redis-server` on loopback with no persistence, in its own temp directory. */
export async function startRedisServer(options: StartRedisOptions = {}): Promise<RedisServer> {
  const server = await binary('redis-server');
  const port = options.port ?? (await freePort());
  const dir = tempDir('redis');
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--loglevel', 'warning',
    ...(options.args ?? []),
  ];
  let proc: Started | undefined;
  const start = async () => {
    proc = startProcess(server, args);
    const p = proc;
    await waitFor(`redis-server on port ${port}`, () => answersPing(port), { timeoutMs: 30_000, output: p.output });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    host: '127.0.0.1',
    port,
    stop: async () => {
      await proc?.stop();
    },
    restart: async () => {
      await proc?.stop();
      await start();
    },
    destroy: async () => {
      await proc?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisCluster {
  /** `127.0.0.1:port` of each master. */
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * Starts a three-master Redis Cluster on loopback (no replicas) and waits until every node
 * reports `cluster_state:ok`. Each node gets its own directory (nodes.conf) and an explicit
 * cluster bus port, so no port above 55535 can push the default bus port (+10000) out of range.
 */
export async function startRedisCluster(): Promise<RedisCluster> {
  const server = await binary('redis-server');
  const dir = tempDir('redis-cluster');
  const procs: Started[] = [];
  const ports: number[] = [];
  const stop = async () => {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      let bus = await freePort();
      while (bus === port || ports.includes(bus)) bus = await freePort();
      const nodeDir = join(dir, `node-${i}`);
      mkdirSync(nodeDir);
      ports.push(port);
      procs.push(
        startProcess(server, [
          '--port', String(port),
          '--cluster-port', String(bus),
          '--bind', '127.0.0.1',
          '--cluster-enabled', 'yes',
          '--cluster-config-file', join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout', '5000',
          '--save', '',
          '--appendonly', 'no',
          '--dir', nodeDir,
          '--daemonize', 'no',
          '--loglevel', 'warning',
        ]),
      );
    }
    const output = () => procs.map((p, i) => `--- node ${ports[i]}\n${p.output()}`).join('\n');
    for (const port of ports) {
      await waitFor(`cluster node on port ${port}`, () => answersPing(port), { timeoutMs: 30_000, output });
    }
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run(await binary('redis-cli'), ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes'], {
      timeout: 60_000,
    });
    for (const port of ports) {
      await waitFor(
        `cluster_state:ok on port ${port}`,
        async () => (await cli(port, 'CLUSTER', 'INFO')).includes('cluster_state:ok'),
        { timeoutMs: 60_000, output },
      );
    }
    return { nodes, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * The `redis` service: `redisUrl` (REDIS_URL, else a fresh redis-server) and
 * `redisClusterNodes` (REDIS_CLUSTER_NODES as comma-separated host:port, else a fresh
 * three-master cluster).
 */
export async function startRedisService(): Promise<StartedService> {
  const stops: (() => Promise<void>)[] = [];
  try {
    let redisUrl = process.env.REDIS_URL;
    if (!redisUrl) {
      const server = await startRedisServer();
      stops.push(server.destroy);
      redisUrl = server.url;
    }
    let redisClusterNodes = process.env.REDIS_CLUSTER_NODES?.split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!redisClusterNodes || redisClusterNodes.length === 0) {
      const cluster = await startRedisCluster();
      stops.push(cluster.stop);
      redisClusterNodes = cluster.nodes;
    }
    return {
      provide: { redisUrl, redisClusterNodes },
      stop: async () => {
        for (const s of stops.reverse()) await s().catch(() => {});
      },
    };
  } catch (err) {
    for (const s of stops.reverse()) await s().catch(() => {});
    throw err;
  }
}
