import { Runnable } from '@langchain/core/runnables';

/**
 * What the wrapper needs of a `createAgent` agent. `ReactAgent` is not a LangChain Runnable (no
 * `lc_runnable`, no `batch`), so it is recognised by shape: `invoke`, `stream` and a compiled
 * LangGraph `graph` that is a Runnable.
 */
export interface AgentLike {
  invoke(state: never, config?: never): Promise<unknown>;
  stream(state: never, config?: never): Promise<unknown>;
  readonly graph: unknown;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A LangChain Runnable: a chat model, an LCEL chain, a compiled LangGraph graph. */
export function isLangChainRunnable(value: unknown): value is Runnable {
  return isObject(value) && Runnable.isRunnable(value) === true && typeof value.invoke === 'function';
}

/** A `createAgent` agent (`ReactAgent`). */
export function isLangChainAgent(value: unknown): value is AgentLike {
  if (!isObject(value) || typeof value.invoke !== 'function' || typeof value.stream !== 'function') return false;
  return 'graph' in value && isLangChainRunnable(value.graph);
}

/** A compiled LangGraph graph (its messages channel takes LangGraph's RemoveMessage markers). */
export function isGraph(value: unknown): boolean {
  return isLangChainAgent(value) || (isObject(value) && value.lg_is_pregel === true);
}

/** The graph's checkpointer, if it has one. */
export function hasCheckpointer(value: unknown): boolean {
  return isGraph(value) && Boolean((value as { checkpointer?: unknown }).checkpointer);
}

/** A LangGraph `Command` (resume, goto): it continues a checkpointed run rather than starting one. */
export function isCommand(value: unknown): boolean {
  return isObject(value) && value.lg_name === 'Command';
}
