import { describe, expect, it } from 'vitest';
import { AgentSessionsError, MemoryStore, NotImplementedError, generateSessionId, isAgentSessionsError, withSessionStorage } from '@agent-sessions/core';
import { parseDuration } from '@agent-sessions/core/store';

describe('parseDuration', () => {
  it.each([
    [1500, 1500],
    ['30s', 30_000],
    ['30m', 1_800_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
  ])('parses %s', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '10', '5 minutes', '-1h', '0s'])('rejects %j with invalid_input', (input) => {
    expect(() => parseDuration(input)).toThrowError(expect.objectContaining({ code: 'invalid_input' }));
  });
});

describe('errors', () => {
  it('carry a code, the source and the cause', () => {
    const cause = new Error('socket closed');
    const err = new AgentSessionsError('unavailable', 'listRuns failed', { source: 'redis', cause });
    expect(err.message).toBe('[agent-sessions] [redis] listRuns failed');
    expect(err.code).toBe('unavailable');
    expect(err.cause).toBe(cause);
    expect(isAgentSessionsError(err, 'unavailable')).toBe(true);
    expect(isAgentSessionsError(err, 'internal')).toBe(false);
  });

  it('NotImplementedError is an AgentSessionsError with code not_implemented', () => {
    const err = new NotImplementedError('nope');
    expect(err).toBeInstanceOf(AgentSessionsError);
    expect(err.code).toBe('not_implemented');
  });

  it('a driver failure inside a store comes out as one AgentSessionsError with the cause', async () => {
    class Broken extends MemoryStore {
      protected override async doGetSession(): Promise<never> {
        throw new Error('boom');
      }
    }
    const err = await new Broken().getSession({ agentId: 'a', sessionId: 's' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AgentSessionsError);
    expect((err as AgentSessionsError).code).toBe('internal');
    expect((err as AgentSessionsError).message).toBe('[agent-sessions] [memory] getSession failed: boom');
  });
});

describe('ids', () => {
  it('session ids are unguessable: 128 random bits, distinct', () => {
    const ids = new Set(Array.from({ length: 1000 }, generateSessionId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^sess_[A-Za-z0-9_-]{22}$/);
  });
});

describe('MemoryStore', () => {
  it('keeps a store out of serialized output', () => {
    expect(JSON.stringify({ store: new MemoryStore() })).toBe('{"store":{"store":"memory"}}');
  });

  it('uses the injected clock for TTL arithmetic', async () => {
    let now = 1_000_000;
    const store = new MemoryStore({ ttl: '1m', clock: () => now });
    const ref = { agentId: 'a', sessionId: 's' };
    const res = await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    expect(res.session.expiresAt).toBe(1_000_000 + 60_000);
    now += 60_000;
    expect(await store.getSession(ref)).toBeNull();
  });

  it('touchOnRead refreshes the TTL on reads', async () => {
    let now = 0;
    const store = new MemoryStore({ ttl: 1000, touchOnRead: true, clock: () => now });
    const ref = { agentId: 'a', sessionId: 's' };
    await store.appendRun({ ...ref, format: 'plain', items: ['x'] });
    now = 900;
    await store.listRuns({ ...ref, limit: 1 });
    now = 1800;
    expect(await store.getSession(ref)).not.toBeNull();
  });
});

describe('withSessionStorage without an adapter', () => {
  it.each([
    ['a plain function', () => 'hi'],
    ['a plain object', { run: () => 'hi' }],
    ['null', null],
    ['a string', 'agent'],
    ['a class instance', new (class VercelAgent { generate() {} })()],
  ])('throws NotImplementedError for %s', (_what, agent) => {
    expect(() => withSessionStorage(agent as never, { store: new MemoryStore() } as never)).toThrowError(NotImplementedError);
  });
});
