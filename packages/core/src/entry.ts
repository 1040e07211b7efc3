import { NotImplementedError } from './errors.js';

/**
 * Framework adapters add themselves here by declaration merging, which makes the return type
 * of `withSessionStorage` follow the agent's framework. `A` is the agent being wrapped, so the
 * wrapped type can keep the agent's own types (its output type, its state):
 *
 * ```ts
 * declare module '@agent-sessions/core' {
 *   interface SessionAdapters<A> {
 *     'my-framework': { agent: MyAgent; options: MyOptions; wrapped: A extends MyAgent ? MyWrapped<A> : never };
 *   }
 * }
 * ```
 *
 * Every declaration must name the type parameter `A` (TypeScript requires identical parameters).
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface, @typescript-eslint/no-unused-vars
export interface SessionAdapters<A = unknown> {}

type Entry = { agent: unknown; options: unknown; wrapped: unknown };
type Known<A> = { [K in keyof SessionAdapters<A>]: SessionAdapters<A>[K] extends Entry ? SessionAdapters<A>[K] : never };

/** The adapter entry whose agent type `A` is. */
export type AdapterFor<A> = {
  [K in keyof Known<A>]: A extends Known<A>[K]['agent'] ? Known<A>[K] : never;
}[keyof Known<A>];

/** The adapter package for an agent of a known framework, recognised by shape (no framework types in core). */
type PackageFor<A> = A extends { lc_namespace: readonly string[] } | { graph: unknown; invoke: unknown; stream: unknown }
  ? "import '@agent-sessions/langchain'"
  : A extends { handoffs: unknown; toolUseBehavior: unknown }
    ? "import '@agent-sessions/openai-agents'"
    : "import '@agent-sessions/langchain' or '@agent-sessions/openai-agents'";

/**
 * The options type of an agent no imported adapter recognises: a string, so the type error on
 * the options prints the import that is missing instead of "parameter of type 'never'".
 */
export type MissingAdapter<A> = `agent-sessions: no adapter is imported for this agent; add ${PackageFor<A>}`;

export type WrapOptionsFor<A> = [AdapterFor<A>] extends [never] ? MissingAdapter<A> : AdapterFor<A>['options'];
export type WrappedFor<A> = [AdapterFor<A>] extends [never] ? never : AdapterFor<A>['wrapped'];

/** What a framework adapter registers: how to recognise its agents and how to wrap one. */
export interface FrameworkAdapter<A = unknown, O = unknown, W = unknown> {
  /** The framework's name, as shown in errors: `langchain`, `openai-agents`. */
  readonly name: string;
  /** True when `agent` belongs to this framework. Must not throw. */
  detect(agent: unknown): agent is A;
  wrap(agent: A, options: O): W;
}

// On globalThis so the ESM and CommonJS builds of core (and several copies of it) share one list.
const REGISTRY = Symbol.for('@agent-sessions/core/adapters');
type Registry = Map<string, FrameworkAdapter>;

function registry(): Registry {
  const g = globalThis as { [REGISTRY]?: Registry };
  return (g[REGISTRY] ??= new Map());
}

/** Makes `withSessionStorage` accept this framework's agents. Importing an adapter package calls it. */
export function registerAdapter<A, O, W>(adapter: FrameworkAdapter<A, O, W>): void {
  registry().set(adapter.name, adapter as FrameworkAdapter);
}

/** The names of the registered adapters. */
export function registeredAdapters(): string[] {
  return [...registry().keys()];
}

/** The frameworks agent-sessions has adapters for, registered or not. */
export const SUPPORTED_FRAMEWORKS: Readonly<Record<string, string>> = {
  langchain: '@agent-sessions/langchain',
  'openai-agents': '@agent-sessions/openai-agents',
};

function describeAgent(agent: unknown): string {
  if (agent === null) return 'null';
  if (typeof agent === 'function') return `a function${agent.name ? ` (${agent.name})` : ''}`;
  if (typeof agent !== 'object') return `a ${typeof agent}`;
  const name = (agent as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? `an object of class ${name}` : 'a plain object';
}

/**
 * Wraps an agent of any framework whose adapter is registered (import the adapter package
 * once: `import '@agent-sessions/langchain'`). Anything else throws NotImplementedError.
 */
export function withSessionStorage<A>(agent: A, options: WrapOptionsFor<A>): WrappedFor<A> {
  for (const adapter of registry().values()) {
    let match = false;
    try {
      match = adapter.detect(agent);
    } catch {
      match = false;
    }
    if (match) return adapter.wrap(agent, options) as WrappedFor<A>;
  }
  const registered = registeredAdapters();
  const supported = Object.entries(SUPPORTED_FRAMEWORKS)
    .map(([name, pkg]) => `${name} (${pkg})`)
    .join(', ');
  throw new NotImplementedError(
    `withSessionStorage cannot wrap ${describeAgent(agent)}: no registered adapter recognises it. ` +
      `Supported frameworks: ${supported}. ` +
      (registered.length === 0
        ? 'No adapter is registered: import the adapter package for your framework first.'
        : `Registered now: ${registered.join(', ')}.`),
  );
}

