import type { Runnable, RunnableConfig } from '@langchain/core/runnables';
import type { CheckedConfigurable } from './configurable.js';
import type { AgentLike } from './detect.js';
import type { SessionStorageOptions } from './options.js';
import type { SessionRunnable } from './wrap.js';

// The types `withSessionStorage` returns: the wrapped runnable's or agent's own input, output and
// call options, with `sessionId: string` on every state it returns.

/** Options of `withSessionStorage`. */
export type WithSessionStorageOptions = SessionStorageOptions;

/** The field a wrapped agent (or graph) adds to the state it returns. */
export interface SessionResult {
  /** The session the run used: the one the call named, or the one generated for it. */
  sessionId: string;
}

/** A state output (an object with `messages`) gains `sessionId: string`; a message or string stays as it is. */
export type WithSession<O> = O extends { messages: unknown } ? O & SessionResult : O;

/**
 * Call options whose `configurable` is checked: a key that looks like a misspelling of
 * `sessionId`, `userId` or `thread_id` does not compile (see `CheckedConfigurable`).
 */
export type SessionCallOptions<CallOptions, C> = Partial<Omit<CallOptions, 'configurable'>> & {
  configurable?: CheckedConfigurable<C>;
};

/** What `withSessionStorage` returns for a `createAgent` agent: its own `invoke` result plus `sessionId`, and its own `stream`. */
export type SessionAgent<A extends AgentLike> = Omit<
  SessionRunnable<AgentInput<A>, AgentState<A> & SessionResult, AgentConfig<A>>,
  'stream'
> & {
  stream: A['stream'];
};

type AgentInput<A extends AgentLike> = A extends { invoke(state: infer S, ...rest: never[]): unknown } ? S : never;
type AgentState<A extends AgentLike> = A extends { invoke(...args: never[]): Promise<infer O> } ? O : never;
type AgentConfig<A extends AgentLike> = A extends { invoke(state: never, config?: infer C): unknown }
  ? RunnableConfig & NonNullable<C>
  : RunnableConfig;

/** What `invoke` resolves to: a compiled LangGraph graph declares its state there, not in its Runnable type. */
type InvokeOutput<R, Fallback> = R extends { invoke(...args: never[]): Promise<infer O> } ? O : Fallback;

/** What `withSessionStorage` returns for a Runnable: the same Runnable type with sessions. */
export type SessionWrapped<R> = R extends Runnable<infer I, infer O, infer C>
  ? SessionRunnable<I, WithSession<InvokeOutput<R, O>>, C>
  : R extends AgentLike
    ? SessionAgent<R>
    : never;
