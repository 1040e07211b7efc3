import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createStore, isAgentSessionsError, type CreateStoreOptions, type SessionStore } from '@agent-sessions/core';
import { startFerretdb } from '../services/mongodb.js';
import { startPostgresServer } from '../services/postgres.js';
import { startRedisServer } from '../services/redis.js';
import { allRuns, Tally } from './backends.js';

const tally = new Tally('outage');
afterAll(() => tally.print());

/** How long one call may take while the server is down before it counts as a hang. */
const FAIL_FAST_MS = 10_000;
const ITEMS = 6;

interface OwnedServer {
  url: string;
  stop(): Promise<void>;
  /** Brings the stopped server back on the same port and data. */
  start(): Promise<void>;
  destroy(): Promise<void>;
}

// Servers this file starts itself, so it can stop them: each keeps its data across a restart.
const servers: { name: string; options: (ns: string) => CreateStoreOptions; start: () => Promise<OwnedServer> }[] = [
  {
    name: 'postgres',
    options: (ns) => ({ schema: ns }),
    start: async () => {
      const s = await startPostgresServer();
      return { url: s.url, stop: () => s.stop(), start: () => s.start(), destroy: () => s.destroy() };
    },
  },
  {
    name: 'redis',
    options: (ns) => ({ prefix: `${ns}:` }),
    start: async () => {
      // Append-only file synced on every write, so a restart keeps what was acknowledged.
      const s = await startRedisServer({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
      return { url: s.url, stop: () => s.stop(), start: () => s.restart(), destroy: () => s.destroy() };
    },
  },
  {
    name: 'mongodb',
    // On a server without atomic updates (FerretDB) a write the outage cut off leaves its session
    // lock behind; it is broken after the lease. A short lease keeps recovery within the bound.
    options: (ns) => ({ database: ns, lockLeaseMs: 2000 }),
    start: async () => {
      const s = await startFerretdb();
      return { url: s.url, stop: () => s.stop(), start: () => s.restart(), destroy: () => s.destroy() };
    },
  },
];

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const t0 = Date.now();
  try {
    const value = await fn();
    return { ms: Date.now() - t0, value };
  } catch (error) {
    return { ms: Date.now() - t0, error };
  }
}

describe.each(servers)('$name: the server stops during a stream of operations', (backend) => {
  it('calls fail fast with unavailable, nothing is half-written, and the same store works once it is back', async () => {
    const server = await backend.start();
    const ns = `rel_${randomBytes(4).toString('hex')}`;
    let store: SessionStore | undefined;
    try {
      store = await createStore(server.url, backend.options(ns));
      const ref = { agentId: `agent-${ns}`, sessionId: 'outage' };
      const items = (runId: string) => Array.from({ length: ITEMS }, (_, k) => ({ runId, k }));
      const acked = new Set<string>();
      for (let i = 0; i < 10; i++) {
        await store.appendRun({ ...ref, runId: `before-${i}`, format: 'plain', items: items(`before-${i}`) });
        acked.add(`before-${i}`);
        tally.operations += 1;
      }

      // A stream of appends and reads is under way when the server goes down.
      let streaming = true;
      const stream = (async () => {
        let i = 0;
        while (streaming) {
          const runId = `during-${i++}`;
          const r = await timed(() => store!.appendRun({ ...ref, runId, format: 'plain', items: items(runId) }));
          tally.operations += 1;
          if (r.error === undefined) acked.add(runId);
        }
      })();
      await new Promise((r) => setTimeout(r, 50));
      await server.stop();
      tally.faults += 1;
      streaming = false;
      await stream;

      for (let i = 0; i < 3; i++) {
        const runId = `down-${i}`;
        const append = await timed(() => store!.appendRun({ ...ref, runId, format: 'plain', items: items(runId) }));
        const read = await timed(() => store!.listRuns({ ...ref, limit: 5 }));
        tally.operations += 2;
        for (const r of [append, read]) {
          expect(r.error, 'a call succeeded while the server was down').toBeDefined();
          expect(isAgentSessionsError(r.error, 'unavailable'), String(r.error)).toBe(true);
          expect(r.ms).toBeLessThan(FAIL_FAST_MS);
        }
      }

      await server.start();
      // The same store object recovers by itself: its pool or client reconnects.
      const deadline = Date.now() + 30_000;
      let back = false;
      while (!back && Date.now() < deadline) {
        const r = await timed(() => store!.appendRun({ ...ref, runId: 'after', format: 'plain', items: items('after') }));
        tally.operations += 1;
        back = r.error === undefined;
        if (!back) expect(isAgentSessionsError(r.error, 'unavailable'), String(r.error)).toBe(true);
      }
      expect(back, 'the store did not recover within 30 s of the server coming back').toBe(true);
      process.stdout.write(`[reliability] outage ${backend.name}: recovered ${30_000 - (deadline - Date.now())} ms after the restart\n`);
      acked.add('after');

      const runs = await allRuns(store, ref);
      expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
      for (const r of runs) {
        expect(r.items).toHaveLength(ITEMS);
        expect(r.items.every((it) => (it as { runId: string }).runId === r.runId)).toBe(true);
      }
      const stored = new Set(runs.map((r) => r.runId));
      const lost = [...acked].filter((id) => !stored.has(id));
      tally.runsLost += lost.length;
      expect(lost).toEqual([]);
      for (let i = 0; i < 3; i++) expect(stored.has(`down-${i}`)).toBe(false);
    } finally {
      await store?.close().catch(() => {});
      await server.destroy();
    }
  }, 180_000);
});
