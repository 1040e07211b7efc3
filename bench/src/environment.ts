import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem, type } from 'node:os';
import { Redis } from 'ioredis';
import { MongoClient } from 'mongodb';
import pg from 'pg';
import type { Backend } from './contender.js';
import type { Servers } from './services.js';

export interface Environment {
  date: string;
  commit: string | null;
  machine: { cpu: string; cores: number; memoryGiB: number; os: string };
  node: string;
  servers: Record<string, string>;
  /** Notes our stores gave about how they run on these servers. */
  storeNotes: Record<string, string>;
  /** How each server's CPU per turn is read (see cpu.ts). */
  serverCpu: Record<string, string>;
  /** The machine's 1/5/15-minute load averages when the run started and ended: how shared the machine was. */
  load?: { start: number[]; end?: number[] };
  packages: Record<string, string>;
}

const require = createRequire(import.meta.url);

function version(pkg: string): string {
  try {
    // Read package.json from the resolved entry's directory upwards: not every package exports it.
    const main = require.resolve(pkg);
    let dir = main;
    for (let i = 0; i < 6; i++) {
      dir = dir.slice(0, dir.lastIndexOf('/'));
      try {
        const json = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as { name?: string; version?: string };
        if (json.name === pkg) return json.version ?? '?';
      } catch {
        // keep going up
      }
    }
  } catch {
    // not installed
  }
  return 'not installed';
}

/** Where the numbers come from: the machine, the servers and their durability settings, the versions. */
export async function describeEnvironment(servers: Servers, backends: readonly Backend[]): Promise<Environment> {
  const out: Record<string, string> = {};
  for (const b of ['postgres', 'postgres-fsync'] as const) {
    const url = servers[b];
    if (!backends.includes(b) || !url) continue;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const show = async (name: string) => (await c.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name]!;
    const v = await show('server_version');
    const settings = [];
    for (const name of ['fsync', 'synchronous_commit', 'full_page_writes', 'wal_sync_method', 'shared_buffers']) settings.push(`${name}=${await show(name)}`);
    await c.end();
    out[b] = `PostgreSQL ${v} (${settings.join(', ')}), loopback TCP`;
  }
  if (backends.includes('redis') && servers.redis) {
    const r = new Redis(servers.redis);
    const info = await r.info('server');
    const aof = ((await r.config('GET', 'appendonly')) as string[])[1];
    const save = ((await r.config('GET', 'save')) as string[])[1];
    r.disconnect();
    out.redis = `Redis ${/redis_version:(\S+)/.exec(info)?.[1] ?? '?'} (no persistence: appendonly=${aof}, save="${save}"), loopback TCP`;
  }
  if (backends.includes('mongodb') && servers.mongodb) {
    const m = new MongoClient(servers.mongodb);
    await m.connect();
    const info = await m.db('admin').command({ buildInfo: 1 });
    await m.close();
    const ferret = (info as { ferretdbVersion?: string; ferretdbFeatures?: unknown }).ferretdbVersion;
    out.mongodb = `${ferret ? `FerretDB ${ferret}` : `MongoDB ${String(info.version)}`} (wire version of MongoDB ${String(info.version)}; server: ${servers.mongodbServer ?? '?'}), loopback TCP`;
  }
  if (backends.includes('pglite')) out.pglite = `PGlite ${version('@electric-sql/pglite')} in this process, in memory`;
  if (backends.includes('memory')) out.memory = 'MemoryStore in this process';
  // BENCH_COMMIT: what was measured, when it is not this checkout's HEAD (e.g. a snapshot of a working tree).
  let commit: string | null = process.env.BENCH_COMMIT ?? null;
  if (!commit) {
    try {
      commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      commit = null;
    }
  }
  const cpu = cpus();
  return {
    date: new Date().toISOString(),
    commit,
    machine: {
      cpu: cpu[0]?.model.trim() ?? 'unknown',
      cores: cpu.length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${type()} ${release()}`,
    },
    node: process.version,
    servers: out,
    storeNotes: {},
    serverCpu: {},
    load: { start: loadavg().map((x) => Math.round(x * 100) / 100) },
    packages: Object.fromEntries(
      [
        'pg',
        '@electric-sql/pglite',
        'ioredis',
        'mongodb',
        'redis',
        '@langchain/core',
        '@langchain/redis',
        '@langchain/mongodb',
        '@langchain/community',
        '@langchain/langgraph-checkpoint-postgres',
        '@langchain/langgraph-checkpoint-mongodb',
      ].map((p) => [p, version(p)]),
    ),
  };
}
