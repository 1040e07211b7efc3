import { describe, expect, it } from 'vitest';
import { AgentSessionsError, MAX_TTL_MS, MemoryStore, createStore, isAgentSessionsError } from '@agent-sessions/core';
import {
  LOST_RACE,
  classifyError,
  retryContention,
  type DriverErrorTable,
  type NormalizedRead,
  type StoredHeader,
} from '@agent-sessions/core/store';
import { parseDuration } from '@agent-sessions/core/store';

const codeOf = async (p: Promise<unknown>): Promise<string | undefined> => {
  try {
    await p;
  } catch (err) {
    return isAgentSessionsError(err) ? err.code : `not ours: ${String(err)}`;
  }
  return undefined;
};

describe('TTL bounds', () => {
  it('refuses durations under 1 ms and over 100 years', () => {
    for (const bad of ['0.4ms', '0.0001s', 0, -5, 1.5, MAX_TTL_MS + 1, 1e19, '101000d']) {
      expect(() => parseDuration(bad as number, 'ttl', MAX_TTL_MS)).toThrow(AgentSessionsError);
    }
    expect(parseDuration('1ms', 'ttl', MAX_TTL_MS)).toBe(1);
    expect(parseDuration('0.6ms', 'ttl', MAX_TTL_MS)).toBe(1);
    expect(parseDuration(MAX_TTL_MS, 'ttl', MAX_TTL_MS)).toBe(MAX_TTL_MS);
    expect(parseDuration('1h30m')).toBe(5_400_000);
  });

  it('a store refuses them with invalid_input', async () => {
    const store = new MemoryStore();
    expect(await codeOf(store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'], ttl: '0.4ms' }))).toBe('invalid_input');
    expect(() => new MemoryStore({ ttl: 1e19 })).toThrow(AgentSessionsError);
  });
});

/** A store whose reads never answer until released, and whose setup fails the first time. */
class Stuck extends MemoryStore {
  hang = true;
  setups = 0;
  failSetup = true;
  protected override async doSetup(): Promise<void> {
    this.setups += 1;
    await new Promise((r) => setTimeout(r, 10));
    if (this.failSetup) {
      this.failSetup = false;
      throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    }
  }
  protected override doGetSession(input: NormalizedRead): Promise<StoredHeader | null> {
    if (this.hang) return new Promise(() => {});
    return super.doGetSession(input);
  }
}

describe('the call guard', () => {
  it('setup runs once for concurrent first calls and again after a failure', async () => {
    const store = new Stuck({ timeoutMs: 2000 });
    store.hang = false;
    const ref = { agentId: 'a', sessionId: 's' };
    const first = await Promise.all([codeOf(store.getSession(ref)), codeOf(store.getSession(ref)), codeOf(store.getSession(ref))]);
    expect(first).toEqual(['unavailable', 'unavailable', 'unavailable']);
    expect(store.setups).toBe(1);
    await Promise.all([store.getSession(ref), store.getSession(ref)]);
    expect(store.setups).toBe(2);
    await store.setup();
    expect(store.setups).toBe(2);
  });

  it('a call that never answers fails with unavailable after timeoutMs, and the store works after', async () => {
    const store = new Stuck({ timeoutMs: 200 });
    store.failSetup = false;
    const started = Date.now();
    expect(await codeOf(store.getSession({ agentId: 'a', sessionId: 's' }))).toBe('unavailable');
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(2000);
    store.hang = false;
    expect(await store.getSession({ agentId: 'a', sessionId: 's' })).toBeNull();
  });

  it('timeoutMs must be a whole number of ms', () => {
    expect(() => new MemoryStore({ timeoutMs: 0 })).toThrow(AgentSessionsError);
    expect(() => new MemoryStore({ timeoutMs: 1.5 })).toThrow(AgentSessionsError);
  });
});

describe('classifyError', () => {
  const table: DriverErrorTable = {
    conflict: { codes: ['23505', 112], labels: ['TransientTransactionError'] },
    accessDenied: { codes: ['28P01'], messages: [/^WRONGPASS/] },
    unavailable: { codePrefixes: ['08'], names: ['MongoNetworkError'] },
  };
  it('maps by code, prefix, name, message and label, looking through causes', () => {
    expect(classifyError({ code: '23505' }, table)).toBe('conflict');
    expect(classifyError({ code: 112 }, table)).toBe('conflict');
    expect(classifyError({ hasErrorLabel: (l: string) => l === 'TransientTransactionError' }, table)).toBe('conflict');
    expect(classifyError({ errorLabels: ['TransientTransactionError'] }, table)).toBe('conflict');
    expect(classifyError({ code: '28P01' }, table)).toBe('access_denied');
    expect(classifyError(new Error('WRONGPASS invalid username-password pair'), table)).toBe('access_denied');
    expect(classifyError({ code: '08006' }, table)).toBe('unavailable');
    expect(classifyError(new Error('outer', { cause: { name: 'MongoNetworkError' } }), table)).toBe('unavailable');
    expect(classifyError(new AggregateError([{ code: 'ECONNREFUSED' }]), table)).toBe('unavailable');
    expect(classifyError({ lastNodeError: { code: 'ETIMEDOUT' } }, table)).toBe('unavailable');
    expect(classifyError(new Error('syntax error'), table)).toBe('internal');
  });
  it('checks conflict before access_denied before unavailable', () => {
    expect(classifyError({ code: '23505', cause: { code: 'ECONNRESET' } }, table)).toBe('conflict');
  });
});

describe('retryContention', () => {
  it('retries lost races with backoff and returns the first win', async () => {
    const lost: number[] = [];
    const result = await retryContention(async (n) => (n < 4 ? LOST_RACE : `won at ${n}`), { op: 'appendRun', source: 'test', onLostRace: (n) => lost.push(n) });
    expect(result).toBe('won at 4');
    expect(lost).toEqual([1, 2, 3]);
  });
  it('treats matching errors as lost races and rethrows the rest', async () => {
    let n = 0;
    const dup = Object.assign(new Error('E11000'), { code: 11000 });
    const res = await retryContention(async () => {
      n += 1;
      if (n < 3) throw dup;
      return 'ok';
    }, { op: 'appendRun', source: 'test', isLostRace: (e) => (e as { code?: number }).code === 11000 });
    expect(res).toBe('ok');
    await expect(retryContention(async () => { throw new Error('boom'); }, { op: 'x', source: 'test', isLostRace: () => false })).rejects.toThrow('boom');
  });
  it('gives up with conflict after its attempts or its time budget', async () => {
    const err = await retryContention(async () => LOST_RACE, { op: 'appendRun', source: 'test' }, { attempts: 5 }).catch((e: unknown) => e);
    expect(isAgentSessionsError(err, 'conflict')).toBe(true);
    const started = Date.now();
    const late = await retryContention(async () => LOST_RACE, { op: 'appendRun', source: 'test' }, { attempts: 1e6, budgetMs: 100 }).catch((e: unknown) => e);
    expect(isAgentSessionsError(late, 'conflict')).toBe(true);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('createStore options', () => {
  it('refuses an option the scheme does not take', async () => {
    // @ts-expect-error a misspelt option does not compile
    expect(await codeOf(createStore('memory://', { shema: 'x' }))).toBe('invalid_input');
    // @ts-expect-error postgres options are not memory's
    expect(await codeOf(createStore('memory://', { schema: 'x' }))).toBe('invalid_input');
    expect(await codeOf(createStore('memory://', { ttl: '1h' }))).toBeUndefined();
  });
  it('a literal URL types its scheme options', () => {
    const typed = (): void => {
      void createStore('postgres://localhost/db', { schema: 'app', tablePrefix: 'p' });
      void createStore('redis://localhost', { prefix: 'x:' });
      // @ts-expect-error redis takes no schema
      void createStore('redis://localhost', { schema: 'x' });
      void createStore(String(process.env.URL), { schema: 'x', prefix: 'y' });
    };
    expect(typeof typed).toBe('function');
  });
});
