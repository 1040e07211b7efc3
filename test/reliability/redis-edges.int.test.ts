import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { RedisStore, KeyLayout, type RedisClient } from '@agent-sessions/redis';
import { Tally } from './backends.js';

// The Redis edges of issue 14 (items 1, 2, 4, 7), standalone and on the harness's cluster. The
// tests read and damage the keys directly, then check what the store did with them.
const tally = new Tally('redis edges');
afterAll(() => tally.print());

interface Target {
  name: string;
  raw: () => RedisClient;
}

const targets: Target[] = [
  // A client of the store package's own ioredis (the tests' root cannot import it), opened by URL.
  { name: 'standalone', raw: () => RedisStore.fromConnectionString(inject('redisUrl')).client },
  { name: 'cluster', raw: () => RedisStore.fromConnectionString(`redis+cluster://${inject('redisClusterNodes').join(',')}`).client },
];

type Snapshot = Record<string, unknown>;

describe.each(targets)('redis edges ($name)', ({ name, raw: makeRaw }) => {
  const prefix = `rel:edges:${name}:${randomBytes(4).toString('hex')}:`;
  const keys = new KeyLayout(prefix);
  let raw: RedisClient;
  let store: SessionStore;
  let touching: SessionStore;
  let n = 0;
  const fresh = () => `s-${++n}`;

  beforeAll(async () => {
    raw = makeRaw();
    store = new RedisStore({ client: raw, prefix });
    touching = new RedisStore({ client: raw, prefix, touchOnRead: true });
    await store.setup();
  });
  afterAll(async () => {
    await store?.close();
    await raw?.quit();
  });

  /** Everything stored for a session: its four keys and the agent's index. */
  async function snapshot(agentId: string, sessionId: string): Promise<Snapshot> {
    const [h, d, q, c] = keys.session(agentId, sessionId);
    const out: Snapshot = {};
    out.h = await raw.hgetall(h);
    out.d = await raw.hgetall(d);
    out.q = await raw.zrange(q, '0', '-1', 'WITHSCORES');
    out.c = await raw.zrange(c, '0', '-1', 'WITHSCORES');
    out.index = await raw.zscore(keys.agentIndex(agentId), sessionId);
    return out;
  }

  async function seqs(agentId: string, sessionId: string): Promise<number[]> {
    return (await store.listRuns({ agentId, sessionId, limit: 100 })).map((r) => r.seq);
  }

  async function rejectsCode(p: Promise<unknown>, code: string): Promise<Error> {
    try {
      await p;
    } catch (err) {
      expect(isAgentSessionsError(err), String(err)).toBe(true);
      expect((err as { code: string }).code, String(err)).toBe(code);
      return err as Error;
    }
    throw new Error(`expected a rejection with ${code}`);
  }

  describe('item 1: TTLs core refuses leave the history as it was', () => {
    for (const ttl of ['0.4ms', '0.0001s', 1e19, Number.MAX_SAFE_INTEGER, '200y' as const]) {
      it(`ttl ${String(ttl)}: invalid_input, earlier runs intact, the next append gets the next seq`, async () => {
        const ref = { agentId: 'ttl', sessionId: fresh() };
        for (let i = 0; i < 3; i++) await store.appendRun({ ...ref, format: 'plain', items: [`r${i}`], ttl: '1h' });
        const before = await snapshot(ref.agentId, ref.sessionId);
        await rejectsCode(store.appendRun({ ...ref, format: 'plain', items: ['bad'], ttl: ttl as never }), 'invalid_input');
        await rejectsCode(store.createSession({ agentId: 'ttl', sessionId: fresh(), ttl: ttl as never }), 'invalid_input');
        tally.faults += 2;
        expect(await snapshot(ref.agentId, ref.sessionId)).toEqual(before);
        expect(await seqs(ref.agentId, ref.sessionId)).toEqual([1, 2, 3]);
        const next = await store.appendRun({ ...ref, format: 'plain', items: ['after'] });
        expect(next.run.seq).toBe(4);
        expect(next.session.expiresAt).toBeGreaterThan(Date.now() + 3_500_000);
        tally.operations += 7;
      });
    }

    it('the longest TTL (100 years) is stored and expires where the header says', async () => {
      const ref = { agentId: 'ttl', sessionId: fresh() };
      const res = await store.appendRun({ ...ref, format: 'plain', items: ['x'], ttl: 100 * 365 * 86_400_000 });
      const pttl = await raw.pttl(keys.session(ref.agentId, ref.sessionId)[1]);
      expect(Math.abs((res.session.expiresAt as number) - Date.now() - pttl)).toBeLessThan(60_000);
      expect(await seqs(ref.agentId, ref.sessionId)).toEqual([1]);
    });
  });

  describe('item 2: a write that fails leaves nothing behind (injected faults)', () => {
    // Header fields damaged one at a time; each write must fail before its first write.
    const faults: [field: string, value: string][] = [
      ['version', 'x'],
      ['lastSeq', 'seven'],
      ['updatedAt', '1e400'],
      ['createdAt', ''],
      ['expiresAt', 'soon'],
      ['ttlMs', '-5'],
      ['metadata', '{"broken'],
      ['state', '[1,'],
    ];
    const ops: [string, (ref: { agentId: string; sessionId: string }) => Promise<unknown>][] = [
      ['appendRun', (ref) => store.appendRun({ ...ref, format: 'plain', items: ['during'] })],
      ['appendRun (explicit ttl)', (ref) => store.appendRun({ ...ref, format: 'plain', items: ['during'], ttl: '2h' })],
      ['appendRun (expectedLastSeq)', (ref) => store.appendRun({ ...ref, format: 'plain', items: ['during'], expectedLastSeq: 3 })],
      ['updateSession', (ref) => store.updateSession({ ...ref, expectedVersion: 3, state: { x: 1 } })],
      ['popItem', (ref) => store.popItem(ref)],
      ['createSession', (ref) => store.createSession(ref)],
      ['listRuns with touchOnRead', (ref) => touching.listRuns({ ...ref, limit: 2 })],
    ];
    for (const [field, value] of faults) {
      for (const [op, call] of ops) {
        it(`header ${field}='${value}': ${op} fails naming the session, writes nothing; repaired, the next append gets seq 4`, async () => {
          const ref = { agentId: 'faults', sessionId: fresh() };
          for (let i = 1; i <= 3; i++) await store.appendRun({ ...ref, format: 'plain', items: [`r${i}`, `r${i}b`], ttl: '1h' });
          const [h] = keys.session(ref.agentId, ref.sessionId);
          const original = await raw.hget(h, field);
          await raw.hset(h, field, value);
          tally.faults++;
          const damaged = await snapshot(ref.agentId, ref.sessionId);
          const err = await rejectsCode(call(ref), 'internal');
          expect(err.message).toContain(`'${ref.sessionId}'`);
          expect(err.message).toContain(`'${ref.agentId}'`);
          expect(err.message).toContain(field);
          expect(await snapshot(ref.agentId, ref.sessionId)).toEqual(damaged);
          await raw.hset(h, field, original as string);
          expect(await seqs(ref.agentId, ref.sessionId)).toEqual([1, 2, 3]);
          const runs = await store.listRuns({ ...ref, limit: 10 });
          expect(runs.map((r) => r.items)).toEqual([1, 2, 3].map((i) => [`r${i}`, `r${i}b`]));
          expect((await store.appendRun({ ...ref, format: 'plain', items: ['after'] })).run.seq).toBe(4);
          tally.operations += 6;
        });
      }
    }

    for (const [what, damage] of [
      ['a blob without items', 'r-3\n{"createdAt":1}'],
      ['a blob that is no run at all', 'garbage'],
    ] as const) {
      it(`the newest run is ${what}: popItem fails naming seq 3 and removes nothing`, async () => {
        const ref = { agentId: 'faults', sessionId: fresh() };
        for (let i = 1; i <= 3; i++) await store.appendRun({ ...ref, format: 'plain', items: [`r${i}`] });
        const [, d] = keys.session(ref.agentId, ref.sessionId);
        const original = await raw.hget(d, 's3');
        await raw.hset(d, 's3', damage);
        tally.faults++;
        const damaged = await snapshot(ref.agentId, ref.sessionId);
        const err = await rejectsCode(store.popItem(ref), 'internal');
        expect(err.message).toContain('seq 3');
        expect(await snapshot(ref.agentId, ref.sessionId)).toEqual(damaged);
        await raw.hset(d, 's3', original as string);
        expect((await store.popItem(ref))?.item).toBe('r3');
        expect((await store.appendRun({ ...ref, format: 'plain', items: ['after'] })).run.seq).toBe(3);
        expect(await seqs(ref.agentId, ref.sessionId)).toEqual([1, 2, 3]);
      });
    }

    it('a damaged header does not stop deleteSession, and prune skips that session', async () => {
      const ref = { agentId: 'faults-del', sessionId: fresh() };
      const other = { agentId: 'faults-del', sessionId: fresh() };
      for (const r of [ref, other]) await store.appendRun({ ...r, format: 'plain', items: ['x'] });
      await raw.hset(keys.session(ref.agentId, ref.sessionId)[0], 'metadata', '{oops', 'lastSeq', 'x');
      tally.faults++;
      await new Promise((r) => setTimeout(r, 20));
      expect(await store.prune({ agentId: ref.agentId, runsOlderThan: 5 })).toEqual({ sessions: 0, runs: 1 });
      expect(await store.deleteSession(ref)).toBe(true);
      expect(await raw.exists(...keys.session(ref.agentId, ref.sessionId))).toBe(0);
      expect((await store.listSessions({ agentId: ref.agentId })).sessions.map((s) => s.sessionId)).toEqual([other.sessionId]);
    });
  });

  describe('item 4: listing never loses live sessions below stale index entries', () => {
    for (const stale of [50, 60, 250]) {
      it(`${stale} stale entries above 3 live sessions: pages of 2 list all 3, then a null cursor`, async () => {
        const agentId = `list-${stale}-${fresh()}`;
        const live: string[] = [];
        for (let i = 0; i < 3; i++) {
          const sessionId = `live-${i}`;
          await store.appendRun({ agentId, sessionId, userId: 'u', format: 'plain', items: ['x'] });
          live.push(sessionId);
        }
        // Entries of sessions that are gone, scored above every live one (what a lost delete leaves).
        const top = Date.now() + 1_000_000;
        const args: (string | number)[] = [];
        for (let i = 0; i < stale; i++) args.push(top + i, `gone-${i}`);
        await raw.zadd(keys.agentIndex(agentId), ...args);
        await raw.zadd(keys.userIndex(agentId, 'u'), ...args);
        tally.faults += stale;
        for (const userId of [undefined, 'u']) {
          const first = await store.listSessions({ agentId, userId, limit: 2 });
          expect(first.sessions.map((s) => s.sessionId)).toEqual(['live-2', 'live-1']);
          expect(first.nextCursor).not.toBeNull();
          const second = await store.listSessions({ agentId, userId, limit: 2, cursor: first.nextCursor as string });
          expect(second.sessions.map((s) => s.sessionId)).toEqual(['live-0']);
          expect(second.nextCursor).toBeNull();
        }
        // And the listing cleaned up what it passed.
        expect(await raw.zcard(keys.agentIndex(agentId))).toBe(3);
        expect(await raw.zcard(keys.userIndex(agentId, 'u'))).toBe(3);
        tally.operations += 4;
      });
    }
  });

  describe('item 7: one bad record stays local', () => {
    it('a malformed header fails only that session\'s calls, naming it; the listing and other sessions go on', async () => {
      const agentId = `local-${fresh()}`;
      for (const s of ['a', 'bad', 'c']) await store.appendRun({ agentId, sessionId: s, userId: 'u', format: 'plain', items: [s] });
      // The header is stored twice: the header hash, and the copy in the data hash (field 'h')
      // that window loads read with the runs. Damage both, as a bad writer would.
      const [h, d] = keys.session(agentId, 'bad');
      await raw.hset(h, 'metadata', 'not json');
      const copy = JSON.parse((await raw.hget(d, 'h')) as string) as unknown[];
      copy[7] = 'not json';
      await raw.hset(d, 'h', JSON.stringify(copy));
      tally.faults++;
      const err = await rejectsCode(store.getSession({ agentId, sessionId: 'bad' }), 'internal');
      expect(err.message).toMatch(/session 'bad' of agent 'local-.*'.*metadata/);
      const read = await rejectsCode(store.readHistory({ agentId, sessionId: 'bad', limit: 5 }), 'internal');
      expect(read.message).toMatch(/session 'bad' of agent 'local-.*'.*metadata/);
      await rejectsCode(store.listRuns({ agentId, sessionId: 'bad', limit: 5 }), 'internal');
      await rejectsCode(store.appendRun({ agentId, sessionId: 'bad', userId: 'u', format: 'plain', items: ['more'] }), 'internal');
      // A copy that is not JSON at all is reported the same way.
      await raw.hset(d, 'h', '[not json');
      await rejectsCode(store.listRuns({ agentId, sessionId: 'bad', limit: 5 }), 'internal');
      for (const userId of [undefined, 'u']) {
        const page = await store.listSessions({ agentId, userId });
        expect(page.sessions.map((s) => s.sessionId).sort()).toEqual(['a', 'c']);
      }
      expect((await store.listRuns({ agentId, sessionId: 'a', limit: 5 })).map((r) => r.items)).toEqual([['a']]);
    });

    it('a malformed run fails only the reads that include it, naming its seq', async () => {
      const agentId = `local-${fresh()}`;
      const ref = { agentId, sessionId: 'runs' };
      for (let i = 1; i <= 3; i++) await store.appendRun({ ...ref, format: 'plain', items: [i] });
      await store.appendRun({ agentId, sessionId: 'other', format: 'plain', items: ['ok'] });
      await raw.hset(keys.session(agentId, 'runs')[1], 's2', 'r\n{"createdAt":1,"status":"completed"}\n{nope');
      tally.faults++;
      const err = await rejectsCode(store.listRuns({ ...ref, limit: 10 }), 'internal');
      expect(err.message).toContain("session 'runs'");
      expect(err.message).toContain('seq 2');
      expect((await store.listRuns({ ...ref, limit: 1 })).map((r) => r.seq)).toEqual([3]);
      expect((await store.listRuns({ ...ref, limit: 5, beforeSeq: 2 })).map((r) => r.seq)).toEqual([1]);
      expect((await store.readHistory({ ...ref, limit: 1 })).runs.map((r) => r.seq)).toEqual([3]);
      expect((await store.appendRun({ ...ref, format: 'plain', items: [4] })).run.seq).toBe(4);
      expect((await store.listRuns({ agentId, sessionId: 'other', limit: 5 })).map((r) => r.items)).toEqual([['ok']]);
      expect((await store.listSessions({ agentId })).sessions).toHaveLength(2);
    });

    it('malformed index entries (a key of another type, an infinite score) never fail the listing', async () => {
      const agentId = `local-${fresh()}`;
      for (const s of ['a', 'b']) await store.appendRun({ agentId, sessionId: s, format: 'plain', items: [s] });
      // A member whose header key is a string, and one scored +inf.
      await raw.set(keys.session(agentId, 'wrongtype')[0], 'not a hash');
      await raw.zadd(keys.agentIndex(agentId), Date.now() + 5000, 'wrongtype', '+inf', 'infinite');
      tally.faults += 2;
      const page = await store.listSessions({ agentId });
      expect(page.sessions.map((s) => s.sessionId).sort()).toEqual(['a', 'b']);
      await rejectsCode(store.getSession({ agentId, sessionId: 'wrongtype' }), 'internal');
      await raw.del(keys.session(agentId, 'wrongtype')[0]);
    });
  });
});
