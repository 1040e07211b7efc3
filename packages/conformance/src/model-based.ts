import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isAgentSessionsError, type SessionStore } from '@agent-sessions/core/store';
import { part, rid, type ConformanceOptions } from './context.js';

// A reference model of the contract, independent of every store: what a caller should observe.
interface ModelRun {
  runId: string;
  seq: number;
  items: string[];
}
interface ModelSession {
  owner: string | null;
  runs: ModelRun[];
  lastSeq: number;
  version: number;
}
type Model = Map<string, ModelSession>;
interface Real {
  store: SessionStore;
  agentId: string;
}

const SESSIONS = ['s0', 's1'];
const USERS = [null, 'u1', 'u2'] as const;
type User = (typeof USERS)[number];

function visible(m: Model, s: string, user: User): ModelSession | undefined {
  const x = m.get(s);
  return x && (user === null || x.owner === user) ? x : undefined;
}
function refOf(r: Real, s: string, user: User) {
  return user === null ? { agentId: r.agentId, sessionId: s } : { agentId: r.agentId, sessionId: s, userId: user };
}
async function outcome<T>(p: Promise<T>): Promise<{ ok: T } | { code: string }> {
  try {
    return { ok: await p };
  } catch (err) {
    if (isAgentSessionsError(err)) return { code: err.code };
    throw err;
  }
}

class Append implements fc.AsyncCommand<Model, Real> {
  constructor(readonly s: string, readonly user: User, readonly runId: string, readonly items: string[]) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = await outcome(r.store.appendRun({ ...refOf(r, this.s, this.user), runId: this.runId, format: 'plain', items: this.items }));
    const existing = m.get(this.s);
    if (existing && !visible(m, this.s, this.user)) {
      assert.deepEqual(got, { code: 'not_found' });
      return;
    }
    assert.ok('ok' in got, `append failed: ${JSON.stringify(got)}`);
    const sess = existing ?? { owner: this.user, runs: [], lastSeq: 0, version: 0 };
    m.set(this.s, sess);
    const prior = sess.runs.find((x) => x.runId === this.runId);
    if (prior) {
      assert.equal(got.ok.created, false);
      assert.equal(got.ok.run.seq, prior.seq);
      assert.deepEqual(got.ok.run.items, prior.items);
    } else {
      sess.lastSeq += 1;
      sess.version += 1;
      sess.runs.push({ runId: this.runId, seq: sess.lastSeq, items: this.items });
      assert.equal(got.ok.created, true);
      assert.equal(got.ok.run.seq, sess.lastSeq);
    }
    assert.equal(got.ok.session.lastSeq, sess.lastSeq);
    assert.equal(got.ok.session.version, sess.version);
  }
  toString = () => `append(${this.s}, ${this.user}, ${this.runId}, ${JSON.stringify(this.items)})`;
}

class ListRuns implements fc.AsyncCommand<Model, Real> {
  constructor(readonly s: string, readonly user: User, readonly limit: number, readonly before: number | undefined) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = await r.store.listRuns({ ...refOf(r, this.s, this.user), limit: this.limit, beforeSeq: this.before });
    const sess = visible(m, this.s, this.user);
    const pool = (sess?.runs ?? []).filter((x) => this.before === undefined || x.seq < this.before);
    const want = pool.slice(-this.limit);
    assert.deepEqual(
      got.map((x) => ({ runId: x.runId, seq: x.seq, items: x.items })),
      want,
    );
  }
  toString = () => `listRuns(${this.s}, ${this.user}, ${this.limit}, ${this.before})`;
}

class Pop implements fc.AsyncCommand<Model, Real> {
  constructor(readonly s: string, readonly user: User) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = await r.store.popItem(refOf(r, this.s, this.user));
    const sess = visible(m, this.s, this.user);
    const last = sess?.runs[sess.runs.length - 1];
    if (!sess || !last) {
      assert.equal(got, null);
      return;
    }
    const item = last.items[last.items.length - 1];
    assert.deepEqual(got, { item, runId: last.runId, seq: last.seq });
    last.items = last.items.slice(0, -1);
    if (last.items.length === 0) {
      sess.runs.pop();
      sess.lastSeq = last.seq - 1;
    }
    sess.version += 1;
  }
  toString = () => `pop(${this.s}, ${this.user})`;
}

class Delete implements fc.AsyncCommand<Model, Real> {
  constructor(readonly s: string, readonly user: User) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = await r.store.deleteSession(refOf(r, this.s, this.user));
    const sess = visible(m, this.s, this.user);
    assert.equal(got, sess !== undefined);
    if (sess) m.delete(this.s);
  }
  toString = () => `delete(${this.s}, ${this.user})`;
}

class Update implements fc.AsyncCommand<Model, Real> {
  constructor(readonly s: string, readonly user: User, readonly stale: boolean, readonly value: number) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const sess = visible(m, this.s, this.user);
    const expectedVersion = (sess?.version ?? 1) + (this.stale ? 1 : 0);
    const got = await outcome(r.store.updateSession({ ...refOf(r, this.s, this.user), expectedVersion, state: { v: this.value } }));
    if (!sess) return assert.deepEqual(got, { code: 'not_found' });
    if (this.stale) return assert.deepEqual(got, { code: 'conflict' });
    assert.ok('ok' in got, `update failed: ${JSON.stringify(got)}`);
    sess.version += 1;
    assert.equal(got.ok.version, sess.version);
    assert.deepEqual(got.ok.state, { v: this.value });
  }
  toString = () => `update(${this.s}, ${this.user}, stale=${this.stale})`;
}

class Get implements fc.AsyncCommand<Model, Real> {
  constructor(readonly s: string, readonly user: User) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const got = await r.store.getSession(refOf(r, this.s, this.user));
    const sess = visible(m, this.s, this.user);
    if (!sess) return assert.equal(got, null);
    assert.ok(got);
    assert.equal(got.lastSeq, sess.lastSeq);
    assert.equal(got.version, sess.version);
    assert.equal(got.userId, sess.owner);
  }
  toString = () => `get(${this.s}, ${this.user})`;
}

/** Random operation sequences against the store and a reference model must observe the same results. */
export function modelBasedTests(options: ConformanceOptions): void {
  part(options, 'model-based', ({ it, store, options: o }) => {
    it('random operation sequences match a reference model', async () => {
      const s = fc.constantFrom(...SESSIONS);
      // Mostly calls that name no user or the same user, so sessions are reached, sometimes another.
      const u = fc.constantFrom<User>(null, null, 'u1', 'u1', 'u2');
      const commands = [
        fc.tuple(s, u, fc.constantFrom('r0', 'r1', 'r2', 'r3'), fc.array(fc.string({ maxLength: 4 }), { minLength: 1, maxLength: 3 }))
          .map(([a, b, c, d]) => new Append(a, b, c, d)),
        fc.tuple(s, u, fc.integer({ min: 1, max: 5 }), fc.option(fc.integer({ min: 1, max: 8 }), { nil: undefined }))
          .map(([a, b, c, d]) => new ListRuns(a, b, c, d)),
        fc.tuple(s, u).map(([a, b]) => new Pop(a, b)),
        fc.tuple(s, u).map(([a, b]) => new Delete(a, b)),
        fc.tuple(s, u, fc.boolean(), fc.integer()).map(([a, b, c, d]) => new Update(a, b, c, d)),
        fc.tuple(s, u).map(([a, b]) => new Get(a, b)),
      ];
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'large' }), async (cmds) => {
          const real: Real = { store: store(), agentId: rid('model') };
          await fc.asyncModelRun(() => ({ model: new Map(), real }), cmds);
        }),
        { numRuns: o.modelRuns },
      );
    }, Math.max(o.timeout, 120_000));
  });
}
