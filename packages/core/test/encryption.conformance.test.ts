import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, type JsonValue, type Run, type SessionHeader } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { reencryptSession } from '../src/ops/reencrypt.js';
import { SECRET, rejectsInternal } from '../../../test/support/encryption.js';

// The whole conformance suite with encryption on: sealing and opening in the base class must
// leave every guarantee (windowing, listing, isolation, popItem, idempotency) unchanged.

const key = randomBytes(32);
const shared = new MemoryStore({ encryption: key });

runConformanceSuite({
  name: 'memory (encrypted)',
  createStore: () => shared,
  destroyStore: async () => {},
  test: { describe, it, beforeAll, afterAll },
});

// What the memory store really holds (its private map), to check what was sealed.
interface Entry {
  header: SessionHeader;
  runs: Run[];
}
function stored(store: MemoryStore, agentId: string, sessionId: string): Entry {
  const map = (store as unknown as { sessions: Map<string, Entry> }).sessions;
  return map.get(`${agentId}\u0000${sessionId}`) as Entry;
}

const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });

describe('memory: what encryption stores', () => {
  it('keeps items, state, summary, title and preview sealed; every method returns them open', async () => {
    const store = new MemoryStore({ encryption: key });
    const r = ref();
    const appended = await store.appendRun({ ...r, runId: 'r1', format: 't', items: [{ content: SECRET }, 2], metadata: { m: 1 } });
    expect(appended.run.items).toEqual([{ content: SECRET }, 2]);
    const updated = await store.updateSession({ ...r, expectedVersion: appended.session.version, state: { s: SECRET }, summary: SECRET });
    expect(updated.state).toEqual({ s: SECRET });
    expect(updated.summary).toBe(SECRET);
    const raw = stored(store, r.agentId, r.sessionId);
    expect(JSON.stringify(raw)).not.toContain('launch code');
    expect(raw.runs[0]!.metadata).toEqual({ m: 1 });
    expect(raw.runs[0]!.runId).toBe('r1');
    expect((await store.readHistory({ ...r, limit: 5 })).runs[0]!.items).toEqual([{ content: SECRET }, 2]);
    expect((await store.listSessions({ agentId: r.agentId })).sessions.find((s) => s.sessionId === r.sessionId)!.state).toEqual({ s: SECRET });
    expect(await store.popItem(r)).toMatchObject({ item: 2, runId: 'r1', seq: 1 });
    expect(await store.popItem(r)).toMatchObject({ item: { content: SECRET } });
    const created = await store.createSession({ ...ref(), state: { fresh: SECRET } });
    expect(created.session.state).toEqual({ fresh: SECRET });
  });

  it('items moved between sessions inside the store fail with a typed error', async () => {
    const store = new MemoryStore({ encryption: key });
    const a = ref();
    const b = ref();
    await store.appendRun({ ...a, runId: 'x', format: 't', items: [SECRET] });
    await store.appendRun({ ...b, runId: 'x', format: 't', items: ['other'] });
    stored(store, b.agentId, b.sessionId).runs[0]!.items = structuredClone(stored(store, a.agentId, a.sessionId).runs[0]!.items) as JsonValue[];
    await rejectsInternal(store.listRuns({ ...b, limit: 1 }), /does not decrypt/);
  });

  it('a store with another key gets a typed error, never garbage', async () => {
    const store = new MemoryStore({ encryption: key });
    const r = ref();
    await store.appendRun({ ...r, format: 't', items: [SECRET] });
    const thief = new MemoryStore({ encryption: randomBytes(32) });
    (thief as unknown as { sessions: unknown }).sessions = (store as unknown as { sessions: unknown }).sessions;
    await rejectsInternal(thief.listRuns({ ...r, limit: 1 }), /does not decrypt/);
    await rejectsInternal(thief.popItem(r), /does not decrypt/);
  });
});

describe('reencryptSession', () => {
  it('seals the header again with the current key, counts runs still on the old one, and keeps everything readable', async () => {
    const old = randomBytes(32);
    const next = randomBytes(32);
    const before = new MemoryStore({ encryption: old });
    const r = ref();
    for (let i = 0; i < 5; i++) await before.appendRun({ ...r, format: 't', items: [`m${i}`] });
    const h = await before.getSession(r);
    await before.updateSession({ ...r, expectedVersion: h!.version, state: { step: 5 }, summary: 'five runs' });

    const after = new MemoryStore({ encryption: { keys: { default: old, k2: next }, current: 'k2' } });
    (after as unknown as { sessions: unknown }).sessions = (before as unknown as { sessions: unknown }).sessions;
    await after.appendRun({ ...r, format: 't', items: ['m5'] });

    const result = await reencryptSession(after, r, { pageSize: 2 });
    expect(result).toMatchObject({ found: true, currentKeyId: 'k2', headerRewritten: true, runsChecked: 6, runsOnOtherKeys: 5 });
    expect(result).toMatchObject({ runsRewritten: 5, runsSkipped: 0 });
    const raw = stored(after, r.agentId, r.sessionId).header;
    expect((raw.state as { $as_enc: string }).$as_enc.split(':')[1]).toBe('k2');
    expect((raw.summary as string).split(':')[2]).toBe('k2');
    const header = await after.getSession(r);
    expect(header).toMatchObject({ state: { step: 5 }, summary: 'five runs' });
    expect((await after.listRuns({ ...r, limit: 10 })).map((x) => x.items[0])).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    // Every run is now on k2: a store with only the new key reads the whole session.
    for (const run of stored(after, r.agentId, r.sessionId).runs) {
      for (const item of run.items) expect((item as { $as_enc: string }).$as_enc.split(':')[1]).toBe('k2');
    }
    const onlyNew = new MemoryStore({ encryption: { keys: { k2: next }, current: 'k2' } });
    (onlyNew as unknown as { sessions: unknown }).sessions = (after as unknown as { sessions: unknown }).sessions;
    expect((await onlyNew.listRuns({ ...r, limit: 10 })).map((x) => x.items[0])).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    expect(await onlyNew.getSession(r)).toMatchObject({ state: { step: 5 }, summary: 'five runs' });
    // A second pass finds everything current and rewrites nothing (before rewriting runs, it found the same 5).
    expect(await reencryptSession(after, r)).toMatchObject({ headerRewritten: false, runsOnOtherKeys: 0, runsRewritten: 0 });
    // An absent session, and a store without encryption.
    expect(await reencryptSession(after, ref())).toMatchObject({ found: false, headerRewritten: false });
    await expect(reencryptSession(new MemoryStore(), r)).rejects.toThrow(/needs a store made with the encryption option/);
  });
});

describe('reencryptSession rewrites runs, title and preview', () => {
  const old = randomBytes(32);
  const next = randomBytes(32);
  const ring = { keys: { default: old, k2: next }, current: 'k2' };
  const share = (from: MemoryStore, to: MemoryStore): void => {
    (to as unknown as { sessions: unknown }).sessions = (from as unknown as { sessions: unknown }).sessions;
  };
  const keyOf = (sealed: string): string => sealed.split(':')[sealed.startsWith('as_enc:') ? 2 : 1] as string;

  it('seals title, preview and every run with the new key: a store holding only the new key reads it all', async () => {
    const before = new MemoryStore({ encryption: old });
    const r = ref();
    await before.appendRun({ ...r, format: 't', items: ['a', { b: SECRET }], title: 'first title', preview: 'first preview' });
    await before.appendRun({ ...r, format: 't', items: ['c'], preview: 'latest preview' });
    const after = new MemoryStore({ encryption: ring });
    share(before, after);
    const versionBefore = (await after.getSession(r))!.version;
    const result = await reencryptSession(after, r);
    expect(result).toMatchObject({ found: true, headerRewritten: true, runsChecked: 2, runsOnOtherKeys: 2, runsRewritten: 2, runsSkipped: 0, headerFieldsOnOtherKeys: [] });
    const raw = stored(after, r.agentId, r.sessionId);
    expect(keyOf(raw.header.title as string)).toBe('k2');
    expect(keyOf(raw.header.preview as string)).toBe('k2');
    // Title, preview and runs were rewritten in place: no version bump for them.
    expect(raw.header.version).toBe(versionBefore);
    const onlyNew = new MemoryStore({ encryption: { keys: { k2: next }, current: 'k2' } });
    share(after, onlyNew);
    expect(await onlyNew.getSession(r)).toMatchObject({ title: 'first title', preview: 'latest preview' });
    expect((await onlyNew.listRuns({ ...r, limit: 10 })).map((x) => x.items)).toEqual([['a', { b: SECRET }], ['c']]);
    expect(await onlyNew.popItem(r)).toMatchObject({ item: 'c', seq: 2 });
    // The old key alone no longer opens anything.
    share(after, before);
    await rejectsInternal(before.listRuns({ ...r, limit: 1 }), /key 'k2', which is not in the key ring/);
  });

  it('a pop racing the rewrite of its run is not undone: the run is read again and rewritten without the popped item', async () => {
    const before = new MemoryStore({ encryption: old });
    const r = ref();
    await before.appendRun({ ...r, format: 't', items: ['x1', 'x2', 'x3'] });
    let raced = 0;
    class Racing extends MemoryStore {
      protected override async doRewriteRun(input: Parameters<MemoryStore['doRewriteRun']>[0]): Promise<boolean> {
        // Another writer pops between the read and the compare-and-set of the first attempt.
        if (raced++ === 0) expect(await this.popItem(r)).toMatchObject({ item: 'x3' });
        return super.doRewriteRun(input);
      }
    }
    const after = new Racing({ encryption: ring });
    share(before, after);
    const result = await reencryptSession(after, r);
    expect(raced).toBe(2);
    expect(result).toMatchObject({ runsOnOtherKeys: 1, runsRewritten: 1, runsSkipped: 0 });
    const raw = stored(after, r.agentId, r.sessionId);
    expect(raw.runs[0]!.items).toHaveLength(2);
    expect((await after.listRuns({ ...r, limit: 5 }))[0]!.items).toEqual(['x1', 'x2']);
    for (const item of raw.runs[0]!.items) expect(keyOf((item as { $as_enc: string }).$as_enc)).toBe('k2');
  });

  it('a run that keeps changing is skipped after one retry and stays readable with the ring', async () => {
    const before = new MemoryStore({ encryption: old });
    const r = ref();
    await before.appendRun({ ...r, format: 't', items: ['y1'] });
    await before.appendRun({ ...r, format: 't', items: ['y2', 'y3', 'y4'] });
    class Busy extends MemoryStore {
      protected override async doRewriteRun(input: Parameters<MemoryStore['doRewriteRun']>[0]): Promise<boolean> {
        if (input.seq === 2) await this.popItem(r);
        return super.doRewriteRun(input);
      }
    }
    const after = new Busy({ encryption: ring });
    share(before, after);
    const result = await reencryptSession(after, r);
    expect(result).toMatchObject({ runsOnOtherKeys: 2, runsRewritten: 1, runsSkipped: 1 });
    expect((await after.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['y1'], ['y2']]);
    // The next pass finishes it.
    const plain = new MemoryStore({ encryption: ring });
    share(after, plain);
    expect(await reencryptSession(plain, r)).toMatchObject({ runsOnOtherKeys: 1, runsRewritten: 1, runsSkipped: 0 });
  });

  it('doRewriteRun is a compare-and-set: a changed, moved or absent run is refused; version, updatedAt and TTL stay', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ clock: () => now, ttl: '1h' });
    const r = ref();
    await store.appendRun({ ...r, runId: 'r1', format: 't', items: ['a', 'b'] });
    await store.appendRun({ ...r, runId: 'r2', format: 't', items: ['c'] });
    const h0 = await store.getSession(r);
    const access = (store as unknown as Record<symbol, () => { rewriteRun(i: object): Promise<boolean>; rewriteText(i: object): Promise<boolean> }>)[
      Symbol.for('@agent-sessions/core/rewrite-access')
    ]!();
    const base = { ...r, userId: null, now: (now += 10) };
    expect(await access.rewriteRun({ ...base, runId: 'r1', seq: 1, expected: ['a', 'x'], items: ['A', 'B'] })).toBe(false);
    expect(await access.rewriteRun({ ...base, runId: 'r1', seq: 2, expected: ['a', 'b'], items: ['A', 'B'] })).toBe(false);
    expect(await access.rewriteRun({ ...base, runId: 'nope', seq: 1, expected: ['a', 'b'], items: ['A', 'B'] })).toBe(false);
    expect(await access.rewriteRun({ ...base, userId: 'someone', runId: 'r1', seq: 1, expected: ['a', 'b'], items: ['A', 'B'] })).toBe(false);
    expect(await access.rewriteRun({ ...ref(), userId: null, now, runId: 'r1', seq: 1, expected: ['a', 'b'], items: ['A', 'B'] })).toBe(false);
    expect(await access.rewriteRun({ ...base, runId: 'r1', seq: 1, expected: ['a', 'b'], items: ['A', 'B'] })).toBe(true);
    expect((await store.listRuns({ ...r, limit: 5 })).map((x) => x.items)).toEqual([['A', 'B'], ['c']]);
    expect(await access.rewriteText({ ...base, expected: { title: 'x', preview: null }, title: 'T', preview: null })).toBe(false);
    expect(await access.rewriteText({ ...base, expected: { title: null, preview: null }, title: 'T', preview: 'P' })).toBe(true);
    const h1 = await store.getSession(r);
    expect(h1).toMatchObject({ version: h0!.version, updatedAt: h0!.updatedAt, expiresAt: h0!.expiresAt, lastSeq: 2, title: 'T', preview: 'P' });
    // An expired session is absent.
    now += 3_600_000;
    expect(await access.rewriteRun({ ...base, now, runId: 'r2', seq: 2, expected: ['c'], items: ['C'] })).toBe(false);
  });
});
