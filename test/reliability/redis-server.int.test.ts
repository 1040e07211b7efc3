import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { createStore, isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { KeyLayout, RedisStore } from '@agent-sessions/redis';
import { findBinary, freePort, startProcess, tempDir, waitFor, type Started } from '../services/util.js';
import { Tally } from './backends.js';

// Issue 14 items 3, 8, 9, 11 on redis-servers of this file's own (paused, misconfigured, with a
// password): the harness's shared server is never touched.
const tally = new Tally('redis servers');
afterAll(() => tally.print());

interface OwnServer {
  url: string;
  port: number;
  proc: Started;
  stop(): Promise<void>;
}

const servers: OwnServer[] = [];
afterAll(async () => {
  for (const s of servers) {
    s.proc.child.kill('SIGCONT');
    await s.stop();
  }
});

async function ownServer(args: string[] = []): Promise<OwnServer> {
  const bin = await findBinary('redis-server', ['/usr/bin', '/usr/local/bin']);
  if (!bin) throw new Error('redis-server is not installed');
  const port = await freePort();
  const dir = tempDir('redis-own');
  const proc = startProcess(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args]);
  const probe = RedisStore.fromConnectionString(`redis://127.0.0.1:${port}`, { redis: { password: args.includes('--requirepass') ? args[args.indexOf('--requirepass') + 1] : undefined } });
  await waitFor(`redis-server on ${port}`, async () => (await probe.client.ping()) === 'PONG', { timeoutMs: 20_000, output: proc.output });
  await probe.close();
  const server = {
    url: `redis://127.0.0.1:${port}`,
    port,
    proc,
    stop: async () => {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  servers.push(server);
  return server;
}

async function failure(p: Promise<unknown>): Promise<{ code: string; message: string; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    expect(isAgentSessionsError(err), String(err)).toBe(true);
    return { code: (err as { code: string }).code, message: (err as Error).message, ms: Date.now() - t0 };
  }
  throw new Error('expected the call to fail');
}

const ref = { agentId: 'a', sessionId: 's', userId: 'u' };

describe('item 3: a paused server (SIGSTOP) never hangs a call, with the library defaults', () => {
  it('every call fails with unavailable within the 5 s driver bound; after SIGCONT the same store serves again', async () => {
    const server = await ownServer();
    const store = await createStore(server.url);
    try {
      await store.appendRun({ ...ref, format: 'plain', items: ['before'] });
      server.proc.child.kill('SIGSTOP');
      // A store created while the server is paused: its setup is bounded too.
      const late = await createStore(server.url, { prefix: 'late:' });
      const results = await Promise.all([
        failure(store.appendRun({ ...ref, runId: 'during', format: 'plain', items: ['during'] })),
        failure(store.listRuns({ ...ref, limit: 10 })),
        failure(store.readHistory({ ...ref, limit: 10 })),
        failure(store.getSession(ref)),
        failure(store.listSessions({ agentId: ref.agentId })),
        failure(store.updateSession({ ...ref, expectedVersion: 1, state: { x: 1 } })),
        failure(store.popItem(ref)),
        failure(late.appendRun({ ...ref, format: 'plain', items: ['x'] })),
      ]);
      tally.faults++;
      for (const r of results) {
        expect(r.code, r.message).toBe('unavailable');
        // The documented default: ioredis commandTimeout 5000 ms (core's timeoutMs, 10000, is the outer bound).
        expect(r.ms, r.message).toBeLessThan(6500);
        expect(r.message).toContain(`127.0.0.1:${server.port}`);
      }
      server.proc.child.kill('SIGCONT');
      await waitFor('the same store after SIGCONT', async () => (await store.getSession(ref)) !== null, { timeoutMs: 15_000 });
      const after = await store.appendRun({ ...ref, format: 'plain', items: ['after'] });
      // The append sent during the pause may land once the server runs again (never twice).
      const runs = await store.listRuns({ ...ref, limit: 10 });
      expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
      expect(runs.filter((r) => r.runId === 'during').length).toBeLessThanOrEqual(1);
      expect(runs[runs.length - 1]?.runId).toBe(after.run.runId);
      expect((await late.appendRun({ ...ref, format: 'plain', items: ['late'] })).created).toBe(true);
      await late.close();
      tally.operations += 12;
    } finally {
      server.proc.child.kill('SIGCONT');
      await store.close();
    }
  }, 60_000);
});

describe('item 8: a server that may evict keys is refused', () => {
  it("maxmemory-policy volatile-lru: every call fails with invalid_input explaining why; evictionPolicy 'warn' warns and works", async () => {
    const server = await ownServer(['--maxmemory-policy', 'volatile-lru']);
    const strict = await createStore(server.url);
    const first = await failure(strict.appendRun({ ...ref, format: 'plain', items: ['x'] }));
    expect(first.code).toBe('invalid_input');
    expect(first.message).toContain("maxmemory-policy 'volatile-lru'");
    expect(first.message).toContain('noeviction');
    expect(first.message).toContain("evictionPolicy: 'warn'");
    // Setup is retried on every call, and fails the same way: nothing was written.
    expect((await failure(strict.getSession(ref))).code).toBe('invalid_input');
    await strict.close();
    const raw = RedisStore.fromConnectionString(server.url);
    expect(await raw.client.dbsize()).toBe(0);

    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    try {
      const lenient = await createStore(server.url, { evictionPolicy: 'warn' });
      expect((await lenient.appendRun({ ...ref, format: 'plain', items: ['x'] })).run.seq).toBe(1);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(String(warn.mock.calls[0]?.[0])).toContain("maxmemory-policy 'volatile-lru'");
      await lenient.close();
      // The URL query takes it too.
      const byUrl = await createStore(`${server.url}?evictionPolicy=warn`);
      expect((await byUrl.appendRun({ ...ref, format: 'plain', items: ['y'] })).run.seq).toBe(2);
      await byUrl.close();
    } finally {
      warn.mockRestore();
    }
    // Once the server is fixed, the same strict store works (setup is retried).
    await raw.client.config('SET', 'maxmemory-policy', 'noeviction');
    const fixed = await createStore(server.url);
    expect((await fixed.appendRun({ ...ref, format: 'plain', items: ['z'] })).run.seq).toBe(3);
    await fixed.close();
    await raw.close();
    tally.faults++;
  });

  it('a server that refuses CONFIG is read through INFO memory', async () => {
    const server = await ownServer(['--maxmemory-policy', 'allkeys-lru', '--rename-command', 'CONFIG', '""']);
    const store = await createStore(server.url);
    const err = await failure(store.getSession(ref));
    expect(err.code).toBe('invalid_input');
    expect(err.message).toContain("maxmemory-policy 'allkeys-lru'");
    await store.close();
  });
});

describe('item 9: huge sessions are deleted and pruned in steps that never block the server for long', () => {
  /** Writes a session of `runs` runs directly, in the store's layout (appending 100,000 runs one by one takes minutes). */
  async function bigSession(store: RedisStore, agentId: string, sessionId: string, runs: number, createdAt: number): Promise<void> {
    await store.appendRun({ agentId, sessionId, format: 'plain', items: ['seed'], runId: 'r1' });
    const [h, d, q, c] = new KeyLayout(store.prefix).session(agentId, sessionId);
    const client = store.client;
    const meta = JSON.stringify({ createdAt, status: 'completed', format: 'plain', usage: null, metadata: null });
    for (let from = 1; from <= runs; from += 5000) {
      const pipe = client.pipeline();
      const to = Math.min(from + 4999, runs);
      const fields: string[] = [];
      const seqs: (string | number)[] = [];
      const times: (string | number)[] = [];
      for (let s = from; s <= to; s++) {
        fields.push(`s${s}`, `r${s}\n${meta}\n"item ${s} ${'x'.repeat(200)}"`, `ir${s}`, String(s));
        seqs.push(s, s);
        times.push(createdAt, s);
      }
      pipe.hset(d, ...fields);
      pipe.zadd(q, ...seqs);
      pipe.zadd(c, ...times);
      await pipe.exec();
    }
    await client.hset(h, 'lastSeq', String(runs));
  }

  /** The longest single command (a script call counts as one) the server ran since the last reset, in ms. */
  async function slowest(store: RedisStore): Promise<{ ms: number; cmd: string }> {
    const log = (await store.client.call('SLOWLOG', 'GET', '1000')) as [number, number, number, string[]][];
    let worst = { ms: 0, cmd: '' };
    for (const [, , micros, args] of log) {
      if (micros / 1000 > worst.ms) worst = { ms: micros / 1000, cmd: String(args[0]) };
    }
    return worst;
  }

  it('deleteSession of a 100,000-run session: no script runs longer than 100 ms, and everything is gone', async () => {
    const server = await ownServer(['--slowlog-log-slower-than', '0', '--slowlog-max-len', '100000']);
    const store = RedisStore.fromConnectionString(server.url, { prefix: 'big:' });
    try {
      await bigSession(store, 'a', 'huge', 100_000, Date.now());
      await store.client.call('SLOWLOG', 'RESET');
      const t0 = Date.now();
      expect(await store.deleteSession({ agentId: 'a', sessionId: 'huge' })).toBe(true);
      const wall = Date.now() - t0;
      const worst = await slowest(store);
      process.stdout.write(`[reliability] redis delete of 100,000 runs: longest command ${worst.ms.toFixed(1)} ms (${worst.cmd}), call ${wall} ms\n`);
      expect(worst.ms).toBeLessThan(100);
      await waitFor('the keys freed', async () => (await store.client.dbsize()) === 0, { timeoutMs: 10_000 });
      expect(await store.getSession({ agentId: 'a', sessionId: 'huge' })).toBeNull();
    } finally {
      await store.close();
    }
  });

  it('prune of 100,000 old runs and of an expired 100,000-run session: no script runs longer than 100 ms', async () => {
    const server = await ownServer(['--slowlog-log-slower-than', '0', '--slowlog-max-len', '100000']);
    const store = RedisStore.fromConnectionString(server.url, { prefix: 'big:' });
    try {
      const old = Date.now() - 86_400_000;
      await bigSession(store, 'a', 'old-runs', 100_000, old);
      await store.appendRun({ agentId: 'a', sessionId: 'old-runs', format: 'plain', items: ['new'] });
      await bigSession(store, 'a', 'expiring', 100_000, old);
      await store.client.hset(new KeyLayout('big:').session('a', 'expiring')[0], 'expiresAt', String(Date.now() - 1));
      await store.client.call('SLOWLOG', 'RESET');
      const res = await store.prune({ agentId: 'a', runsOlderThan: '1h' });
      const worst = await slowest(store);
      process.stdout.write(`[reliability] redis prune of 200,000 runs: longest command ${worst.ms.toFixed(1)} ms (${worst.cmd})\n`);
      expect(worst.ms).toBeLessThan(100);
      expect(res.sessions).toBe(1);
      expect(res.runs).toBeGreaterThanOrEqual(100_000);
      expect((await store.listRuns({ agentId: 'a', sessionId: 'old-runs', limit: 5 })).map((r) => r.items)).toEqual([['new']]);
    } finally {
      await store.close();
    }
  }, 120_000);
});

describe('item 11: errors a user can act on', () => {
  it('a wrong or missing password is access_denied (never retried as unavailable), naming the server', async () => {
    const server = await ownServer(['--requirepass', 'right']);
    for (const url of [`redis://:wrong@127.0.0.1:${server.port}`, server.url]) {
      const store = await createStore(url);
      const err = await failure(store.getSession(ref));
      expect(err.code, err.message).toBe('access_denied');
      expect(err.message).toContain(`127.0.0.1:${server.port}`);
      expect(err.message).not.toContain('wrong');
      await store.close();
    }
    const ok = await createStore(`redis://:right@127.0.0.1:${server.port}`);
    expect((await ok.appendRun({ ...ref, format: 'plain', items: ['x'] })).run.seq).toBe(1);
    await ok.close();
  });

  it('an ACL user without a command it needs is access_denied', async () => {
    const server = await ownServer();
    const admin = RedisStore.fromConnectionString(server.url);
    await admin.client.call('ACL', 'SETUSER', 'reader', 'on', '>pw', '~*', '+@all', '-evalsha', '-eval');
    const store = await createStore(`redis://reader:pw@127.0.0.1:${server.port}`);
    const err = await failure(store.appendRun({ ...ref, format: 'plain', items: ['x'] }));
    expect(err.code, err.message).toBe('access_denied');
    await store.close();
    await admin.close();
  });

  it('a server that is not there: unavailable naming host, port and the cause', async () => {
    const port = await freePort();
    const store = await createStore(`redis://127.0.0.1:${port}`);
    const err = await failure(store.getSession(ref));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).toMatch(/ECONNREFUSED/);
    await store.close();
  });

  it('malformed URLs and unknown query options are invalid_input naming the scheme', async () => {
    for (const [url, scheme] of [
      ['redis://:@@:x', 'redis://'],
      ['redis://host:99999', 'redis://'],
      ['redis://h1:1,h2:2', 'redis://'],
      ['rediss+cluster://h1:1,:', 'rediss+cluster://'],
      ['redis://localhost:6379/notanumber', 'redis://'],
    ] as const) {
      let caught: unknown;
      try {
        await createStore(url);
      } catch (err) {
        caught = err;
      }
      expect(isAgentSessionsError(caught, 'invalid_input'), `${url}: ${String(caught)}`).toBe(true);
      expect((caught as Error).message).toContain(scheme);
    }
    await expect(createStore('redis://localhost:6379?family=6')).rejects.toThrow(/query parameter 'family'/);
    await expect(createStore('redis://localhost:6379?ttl=1h', { ttl: '2h' })).rejects.toThrow(/both in the URL/);
  });

  it('URL query options are applied: ttl, prefix, timeoutMs', async () => {
    const server = await ownServer();
    const prefix = `q${randomBytes(3).toString('hex')}:`;
    const store = (await createStore(`${server.url}?ttl=1h&prefix=${prefix}&timeoutMs=3000`)) as RedisStore;
    expect(store.prefix).toBe(prefix);
    const res = await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    expect(res.session.ttlMs).toBe(3_600_000);
    expect((store.client.options as { commandTimeout?: number }).commandTimeout).toBe(3000);
    await store.close();
  });
});

export type { SessionStore };
