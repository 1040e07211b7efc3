import { homedir } from 'node:os';
import { join } from 'node:path';
import { rmSync } from 'node:fs';
import { MongoClient } from 'mongodb';
import type { StartedService } from './services.js';
import { findBinary, freePort, startProcess, tempDir, waitFor, type Started } from './util.js';

export const FERRETDB_VERSION = '1.24.2';
const FERRETDB_LABEL = `ferretdb ${FERRETDB_VERSION} (sqlite)`;
const MEMORY_SERVER_LABEL = 'mongod (mongodb-memory-server)';

/** How long mongodb-memory-server may take to download and start mongod before FerretDB is used. */
const MEMORY_SERVER_TIMEOUT_MS = Number(process.env.AGENT_SESSIONS_MONGOMS_TIMEOUT_MS ?? 20_000);

/** True once the server answers a real `ping` through the driver (not just an open port). */
export async function pingMongo(url: string, timeoutMs = 2000): Promise<boolean> {
  const client = new MongoClient(url, { serverSelectionTimeoutMS: timeoutMs, connectTimeoutMS: timeoutMs });
  try {
    const res = await client.db('admin').command({ ping: 1 });
    return res.ok === 1;
  } finally {
    await client.close().catch(() => {});
  }
}

export interface FerretdbServer {
  url: string;
  port: number;
  /** Stops the server; its data stays in its directory for `restart()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data (after `stop()`, for outage tests). */
  restart(): Promise<void>;
  /** Stops it and removes its data. */
  destroy(): Promise<void>;
  /** Pauses the process (SIGSTOP): connections stay open and nothing answers. */
  pause(): void;
  /** Resumes a paused process (SIGCONT). */
  resume(): void;
}

async function ferretdbBinary(): Promise<string> {
  const dir = process.env.AGENT_SESSIONS_TOOLS ?? join(homedir(), '.cache', 'agent-sessions', 'bin');
  const bin = await findBinary('ferretdb', [dir]);
  if (!bin) {
    throw new Error(
      `FerretDB ${FERRETDB_VERSION} is not installed: run 'node scripts/install-services.mjs' (builds it with Go into ${dir}), or set MONGODB_URL`,
    );
  }
  return bin;
}

/**
 * Starts FerretDB on its SQLite backend on a free loopback port (or `port`), in a temporary
 * directory, with telemetry off and the debug listener on a random port (its defaults bind fixed
 * ports and phone home). Ready once a `ping` through the driver succeeds.
 */
export async function startFerretdb({ port }: { port?: number } = {}): Promise<FerretdbServer> {
  const bin = await ferretdbBinary();
  const dir = tempDir('ferretdb');
  const p = port ?? (await freePort());
  const url = `mongodb://127.0.0.1:${p}/`;
  let proc: Started | null = null;
  const start = async () => {
    const started = startProcess(bin, [
      '--handler=sqlite',
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${p}`,
      '--debug-addr=127.0.0.1:0',
      '--telemetry=disable',
      '--log-level=warn',
    ]);
    proc = started;
    let exited = false;
    started.child.once('exit', () => {
      exited = true;
    });
    await waitFor(
      `FerretDB on port ${p}`,
      async () => {
        if (exited) throw new Error(`FerretDB exited with ${started.child.exitCode ?? started.child.signalCode}`);
        return pingMongo(url, 1000);
      },
      { timeoutMs: 30_000, output: started.output },
    );
  };
  const stop = async () => {
    const current = proc;
    proc = null;
    if (current) await current.stop();
  };
  await start();
  return {
    url,
    port: p,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    destroy: async () => {
      (proc as Started | null)?.child.kill('SIGCONT');
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
    pause: () => void (proc as Started | null)?.child.kill('SIGSTOP'),
    resume: () => void (proc as Started | null)?.child.kill('SIGCONT'),
  };
}

/**
 * A real mongod through mongodb-memory-server, where its binary can be had (downloaded once into
 * its cache, or MONGOMS_SYSTEM_BINARY). Gives up after a short timeout: on machines with no route
 * to the download host it fails in about a second (one attempt, no retries).
 */
async function startMemoryServer(): Promise<{ url: string; stop: () => Promise<void> }> {
  process.env.MONGOMS_MAX_RETRIES ??= '0';
  const { MongoMemoryServer } = await import('mongodb-memory-server-core');
  // Its own failure report is a full stack trace on the console; ours is one line (below).
  const quiet = { warn: console.warn, error: console.error };
  console.warn = () => {};
  console.error = () => {};
  const creating = MongoMemoryServer.create({ instance: { ip: '127.0.0.1', launchTimeout: MEMORY_SERVER_TIMEOUT_MS } });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`not started within ${MEMORY_SERVER_TIMEOUT_MS} ms`)), MEMORY_SERVER_TIMEOUT_MS);
  });
  try {
    const server = await Promise.race([creating, timeout]);
    const url = server.getUri();
    await waitFor('mongod', () => pingMongo(url), { timeoutMs: 30_000 });
    return { url, stop: async () => void (await server.stop({ doCleanup: true, force: true })) };
  } catch (err) {
    // A start that finishes after the timeout must not leave a mongod behind.
    creating.then((s) => s.stop({ doCleanup: true, force: true })).catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
    console.warn = quiet.warn;
    console.error = quiet.error;
  }
}

function say(msg: string): void {
  process.stdout.write(`[test-services] mongodb: ${msg}\n`);
}

/**
 * The MongoDB wire-protocol server the store suites use: MONGODB_URL if set, else a real mongod
 * from mongodb-memory-server, else FerretDB over SQLite. Provides `mongodbUrl` and
 * `mongodbServer` (which of the three it is). Each test file uses its own random database.
 */
export async function startMongodb(): Promise<StartedService> {
  const external = process.env.MONGODB_URL;
  if (external) {
    await waitFor('the server at MONGODB_URL', () => pingMongo(external), { timeoutMs: 15_000 });
    say(`using MONGODB_URL (external)`);
    return { provide: { mongodbUrl: external, mongodbServer: 'external' }, stop: async () => {} };
  }
  if (process.env.AGENT_SESSIONS_MONGOMS !== '0') {
    try {
      const mem = await startMemoryServer();
      say(`using ${MEMORY_SERVER_LABEL} at ${mem.url}`);
      return { provide: { mongodbUrl: mem.url, mongodbServer: MEMORY_SERVER_LABEL }, stop: mem.stop };
    } catch (err) {
      say(`mongodb-memory-server unavailable (${String((err as Error).message).split('\n')[0]}); falling back to FerretDB`);
    }
  }
  const ferret = await startFerretdb();
  say(`using ${FERRETDB_LABEL} at ${ferret.url}`);
  return { provide: { mongodbUrl: ferret.url, mongodbServer: FERRETDB_LABEL }, stop: ferret.destroy };
}
