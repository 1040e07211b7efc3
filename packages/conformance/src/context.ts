import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { isAgentSessionsError, type ErrorCode, type SessionStore } from '@agent-sessions/core/store';

/** The test functions of your runner (Vitest, Jest, node:test, ...). */
export interface TestApi {
  describe: (name: string, fn: () => void) => void;
  it: (name: string, fn: () => Promise<void>, timeout?: number) => void;
  beforeAll: (fn: () => Promise<void> | void, timeout?: number) => void;
  afterAll: (fn: () => Promise<void> | void, timeout?: number) => void;
}

export interface ConformanceOptions {
  /** Shown in the top-level describe: `conformance: <name>`. */
  name: string;
  /** A new store over the shared backend. Called once per part, and again where two instances must agree. */
  createStore: () => SessionStore | Promise<SessionStore>;
  /** Ends a store made by createStore. Default: `store.close()`. */
  destroyStore?: ((store: SessionStore) => Promise<void>) | undefined;
  test: TestApi;
  /** The short TTL the ttl tests use, in ms. Default 1000. Raise it for slow backends. */
  ttlMs?: number | undefined;
  /** How many concurrent writers the concurrency tests use. Default 32. */
  concurrency?: number | undefined;
  /** Runs of the model-based property test. Default 30. */
  modelRuns?: number | undefined;
  /** Per-test timeout in ms. Default 30000. */
  timeout?: number | undefined;
}

export interface SuiteContext {
  readonly options: Required<Pick<ConformanceOptions, 'ttlMs' | 'concurrency' | 'modelRuns' | 'timeout'>> &
    ConformanceOptions;
  /** The part's store, made in beforeAll. */
  store(): SessionStore;
  /** Another store instance over the same backend, closed after the part. */
  another(): Promise<SessionStore>;
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  describe(name: string, fn: () => void): void;
}

/** Random ids, so tests never see each other's data and can run concurrently. */
export function rid(prefix = 'id'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

export function ref(userId?: string): { agentId: string; sessionId: string; userId?: string } {
  const r: { agentId: string; sessionId: string; userId?: string } = { agentId: rid('agent'), sessionId: rid('sess') };
  if (userId !== undefined) r.userId = userId;
  return r;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Asserts that `fn` rejects with an AgentSessionsError of this code. */
export async function rejectsWith(fn: () => Promise<unknown>, code: ErrorCode): Promise<void> {
  try {
    await fn();
  } catch (err) {
    assert.ok(isAgentSessionsError(err), `expected an AgentSessionsError, got ${String(err)}`);
    assert.equal(err.code, code, `expected code ${code}, got ${err.code}: ${err.message}`);
    return;
  }
  assert.fail(`expected a rejection with code ${code}, but the call succeeded`);
}

/** Builds the per-part context: one store for the part, plus any extra instances it asks for. */
export function part(options: ConformanceOptions, name: string, body: (ctx: SuiteContext) => void): void {
  const opts = {
    ttlMs: 1000,
    concurrency: 32,
    modelRuns: 30,
    timeout: 30_000,
    ...options,
  };
  const { test } = options;
  const destroy = options.destroyStore ?? ((s: SessionStore) => s.close());
  test.describe(name, () => {
    let store: SessionStore | undefined;
    const extra: SessionStore[] = [];
    test.beforeAll(async () => {
      store = await options.createStore();
    }, opts.timeout);
    test.afterAll(async () => {
      for (const s of extra.splice(0)) await destroy(s);
      if (store) await destroy(store);
    }, opts.timeout);
    body({
      options: opts,
      store: () => {
        if (!store) throw new Error('the store is not ready: createStore failed or beforeAll did not run');
        return store;
      },
      another: async () => {
        const s = await options.createStore();
        extra.push(s);
        return s;
      },
      it: (n, fn, timeout) => test.it(n, fn, timeout ?? opts.timeout),
      describe: (n, fn) => test.describe(n, fn),
    });
  });
}

export function items(n: number, tag = 'm'): { role: string; content: string }[] {
  return Array.from({ length: n }, (_, i) => ({ role: i % 2 === 0 ? 'user' : 'assistant', content: `${tag}-${i}` }));
}
