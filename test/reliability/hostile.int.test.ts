import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAgentSessionsError, type JsonValue, type SessionStore } from '@agent-sessions/core';
import { backends, open, Tally } from './backends.js';

const tally = new Tally('hostile input');
afterAll(() => tally.print());

// Strings that have broken stores before: operators, key patterns, SQL, path and escape
// characters, lone surrogates, NUL, huge and empty strings.
const nasty = fc.constantFrom(
  '$where',
  '$gt',
  '{"$gt": ""}',
  '$',
  '*',
  '{',
  '}',
  '{tag}',
  ':',
  'a:*',
  '\\',
  '%',
  '_',
  "'; DROP TABLE sessions; --",
  "' OR '1'='1",
  '" OR ""="',
  '../../etc/passwd',
  'a.b',
  '__proto__',
  'constructor',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\u0000',
  '\u0007',
  ' ',
  '',
  'x'.repeat(257),
  'ü🙂日本',
);
const str = fc.oneof(
  { weight: 2, arbitrary: nasty },
  { weight: 2, arbitrary: fc.string({ maxLength: 16 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.tuple(nasty, fc.string({ maxLength: 4 }), nasty).map((p) => p.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 200, maxLength: 300 }) },
);
const deep = fc.integer({ min: 1, max: 80 }).map((n) => {
  let v: JsonValue = 'leaf';
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { $where: v };
  return v;
});
// Mostly valid JSON with hostile content; now and then something JSON cannot hold.
const notJson = fc.constantFrom<unknown>(10n, undefined, new Date(0), Number.NaN, () => 1);
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 4, arbitrary: str },
    { weight: 2, arbitrary: fc.integer() },
    { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
    { weight: 1, arbitrary: fc.boolean() },
    { weight: 1, arbitrary: fc.constant(null) },
    { weight: 2, arbitrary: fc.constantFrom({ $gt: '' }, { $where: 'sleep(1000)' }, { 'a.b': { $ne: null } }) },
    { weight: 1, arbitrary: deep },
    { weight: 1, arbitrary: notJson },
    { weight: 3, arbitrary: fc.array(tie('v'), { maxLength: 4 }) },
    { weight: 3, arbitrary: fc.dictionary(str, tie('v'), { maxKeys: 4 }) },
  ),
})).v;

/** The only outcomes allowed: success that round-trips exactly, or invalid_input. */
async function tryOne(store: SessionStore, canary: { agentId: string; sessionId: string }, input: {
  agentId: string;
  sessionId: unknown;
  userId: unknown;
  items: unknown;
  metadata: unknown;
}): Promise<void> {
  tally.inputs += 1;
  let appended: Awaited<ReturnType<SessionStore['appendRun']>> | undefined;
  try {
    appended = await store.appendRun({
      agentId: input.agentId,
      sessionId: input.sessionId as string,
      userId: input.userId as string | undefined,
      format: 'fuzz',
      items: input.items as JsonValue[],
      metadata: input.metadata as never,
    });
  } catch (err) {
    if (!isAgentSessionsError(err, 'invalid_input')) throw err;
  }
  const ref = { agentId: input.agentId, sessionId: input.sessionId as string, userId: input.userId as string | undefined };
  if (appended) {
    const runs = await store.listRuns({ ...ref, limit: 10 });
    expect(runs).toHaveLength(1);
    expect(runs[0]?.items).toEqual(JSON.parse(JSON.stringify(input.items)));
    expect(runs[0]?.metadata ?? null).toEqual(input.metadata == null ? null : JSON.parse(JSON.stringify(input.metadata)));
    const listed = await store.listSessions({ agentId: input.agentId, userId: input.userId as string | undefined });
    expect(listed.sessions.map((s) => s.sessionId)).toEqual([input.sessionId]);
    expect(await store.deleteSession(ref)).toBe(true);
    tally.operations += 4;
  } else {
    // Nothing was written under this agent.
    const listed = await store.listSessions({ agentId: input.agentId });
    expect(listed.sessions).toEqual([]);
    tally.operations += 2;
  }
  // Another session's data is never touched.
  const c = await store.listRuns({ ...canary, limit: 5 });
  expect(c.map((r) => r.items)).toEqual([['canary']]);
}

const targets = [{ name: 'memory', url: 'memory://', options: () => ({}) }, ...backends()];

describe.each(targets)('$name: hostile input', (b) => {
  let store: SessionStore;
  const ns = `rel_${randomBytes(4).toString('hex')}`;
  const canary = { agentId: `canary-${ns}`, sessionId: 'canary' };

  beforeAll(async () => {
    store = b.name === 'memory' ? await (await import('@agent-sessions/core')).createStore('memory://') : await open(b, ns);
    await store.appendRun({ ...canary, format: 'plain', items: ['canary'] });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('arbitrary ids, users, metadata and items either round-trip exactly or fail with invalid_input', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        str,
        fc.option(str, { nil: undefined }),
        fc.array(value, { minLength: 1, maxLength: 5 }),
        fc.option(fc.dictionary(str, value, { maxKeys: 3 }), { nil: undefined }),
        async (sessionId, userId, items, metadata) => {
          n += 1;
          await tryOne(store, canary, { agentId: `fuzz-${ns}-${n}`, sessionId, userId, items, metadata });
        },
      ),
      { numRuns: 150 },
    );
  }, 300_000);
});
