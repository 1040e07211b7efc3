// Type-level tests of core's `withSessionStorage` when no adapter recognises the agent: compiled
// by `pnpm run typecheck` (the `@ts-expect-error` lines fail the build if the error disappears)
// and run by vitest (the calls throw NotImplementedError at run time).
import { MemoryStore, NotImplementedError, withSessionStorage, type MissingAdapter, type WrapOptionsFor } from '@agent-sessions/core';
import { describe, expect, expectTypeOf, it } from 'vitest';

/** Shaped like a LangChain runnable, but not one any registered adapter's types accept. */
class LangChainShaped {
  lc_namespace = ['x'];
  notAMethodOfRunnable(): void {}
}
/** Shaped like an OpenAI Agents agent. */
class OpenAIShaped {
  handoffs: unknown[] = [];
  toolUseBehavior = 'run_llm_again';
}
class SomethingElse {
  run(): void {}
}

describe('withSessionStorage types when no adapter is imported for the agent', () => {
  it('the options type is a message naming the import to add, not never', () => {
    expectTypeOf<WrapOptionsFor<LangChainShaped>>().toEqualTypeOf<"agent-sessions: no adapter is imported for this agent; add import '@agent-sessions/langchain'">();
    expectTypeOf<WrapOptionsFor<OpenAIShaped>>().toEqualTypeOf<"agent-sessions: no adapter is imported for this agent; add import '@agent-sessions/openai-agents'">();
    expectTypeOf<MissingAdapter<SomethingElse>>().toEqualTypeOf<"agent-sessions: no adapter is imported for this agent; add import '@agent-sessions/langchain' or '@agent-sessions/openai-agents'">();
    expectTypeOf<WrapOptionsFor<SomethingElse>>().not.toBeNever();
  });

  it('passing options is a type error at compile time and NotImplementedError at run time', () => {
    const store = new MemoryStore();
    // @ts-expect-error: Argument of type '{ store }' is not assignable to "agent-sessions: no adapter is imported for this agent; add import '@agent-sessions/langchain'"
    expect(() => withSessionStorage(new LangChainShaped(), { store })).toThrow(NotImplementedError);
    // @ts-expect-error: ... add import '@agent-sessions/openai-agents'
    expect(() => withSessionStorage(new OpenAIShaped(), { store })).toThrow(NotImplementedError);
    // @ts-expect-error: ... add import '@agent-sessions/langchain' or '@agent-sessions/openai-agents'
    expect(() => withSessionStorage(new SomethingElse(), { store })).toThrow(NotImplementedError);
  });
});
