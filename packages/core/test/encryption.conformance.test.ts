import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAgentSessionsError, MemoryStore, type JsonValue, type Run, type SessionHeader } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';
import { reencryptSession } from '../src/ops/reencrypt.js';

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

async function rejectsInternal(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAgentSessionsError(err, 'internal'), `expected an internal error, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}

const ref = () => ({ agentId: 'agent', sessionId: `s-${randomBytes(4).toString('hex')}` });
const SECRET = 'the launch code is 0000';

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
    const raw = stored(after, r.agentId, r.sessionId).header;
    expect((raw.state as { $as_enc: string }).$as_enc.split(':')[1]).toBe('k2');
    expect((raw.summary as string).split(':')[2]).toBe('k2');
    const header = await after.getSession(r);
    expect(header).toMatchObject({ state: { step: 5 }, summary: 'five runs' });
    expect((await after.listRuns({ ...r, limit: 10 })).map((x) => x.items[0])).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
    // A second pass finds the header current and rewrites nothing.
    expect(await reencryptSession(after, r)).toMatchObject({ headerRewritten: false, runsOnOtherKeys: 5 });
    // An absent session, and a store without encryption.
    expect(await reencryptSession(after, ref())).toMatchObject({ found: false, headerRewritten: false });
    await expect(reencryptSession(new MemoryStore(), r)).rejects.toThrow(/needs a store made with the encryption option/);
  });
});
