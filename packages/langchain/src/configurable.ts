import { refuseMisspeltKeys } from '@agent-sessions/core/adapter';

// The keys of `configurable` the wrapper and the middleware read. A misspelt one (`sesionId`)
// would otherwise be ignored by LangChain and by us, and the call would silently start a new
// session: a key that looks like one of ours is refused, at compile time where the literal is
// visible and at run time always.

/** The keys of `configurable` agent-sessions reads. */
export const CONFIGURABLE_KEYS = ['sessionId', 'userId', 'thread_id'] as const;
export type ConfigurableKey = (typeof CONFIGURABLE_KEYS)[number];

/** What a wrapped call may put in `configurable` for agent-sessions (anything else passes through). */
export interface SessionConfigurable {
  /** The session to continue; absent: a new session (its id is returned). */
  sessionId?: string | undefined;
  /** The session's owner. */
  userId?: string | undefined;
  /** LangGraph's thread id: names the session when `sessionId` is absent. */
  thread_id?: string | undefined;
}

type Strip<S extends string> = S extends `${infer A}_${infer B}` ? Strip<`${A}${B}`> : S extends `${infer A}-${infer B}` ? Strip<`${A}${B}`> : S;
type Norm<K extends string> = Strip<Lowercase<K>>;
/** Every string made by deleting one character of S. */
type Deletions<S extends string> = S extends `${infer H}${infer T}` ? T | `${H}${Deletions<T>}` : never;
type Target<K extends ConfigurableKey> = Norm<K>;
type LooksLike<N extends string, K extends ConfigurableKey> = N extends Target<K>
  ? true
  : N extends Deletions<Target<K>>
    ? true
    : Target<K> extends Deletions<N>
      ? true
      : false;
/** Which of our keys K looks like (K itself excluded); never when none. */
export type IntendedKey<K extends string> = string extends K
  ? never
  : K extends ConfigurableKey
    ? never
    : { [T in ConfigurableKey]: LooksLike<Norm<K>, T> extends true ? T : never }[ConfigurableKey];

/**
 * `configurable` with every key that looks like a misspelling of ours turned into a message:
 * `{ sesionId: 'x' }` fails to compile with "agent-sessions: configurable.sesionId is not read; did you mean 'sessionId'?".
 */
export type CheckedConfigurable<C> = C extends object
  ? {
      [K in keyof C]: K extends string
        ? [IntendedKey<K>] extends [never]
          ? C[K]
          : `agent-sessions: configurable.${K} is not read; did you mean '${IntendedKey<K>}'?`
        : C[K];
    }
  : C;

/**
 * Refuses a `configurable` holding a key that looks like a misspelling of one we read
 * (`sesionId`, `session_id`, `userid`, `threadId`), unless the app listed it in `allowed` (a key
 * of its own that happens to look like ours). The rule of `CheckedConfigurable`, plus two swapped
 * neighbouring letters (which the type cannot see).
 */
export function checkConfigurable(configurable: Record<string, unknown> | undefined, allowed: readonly string[] | undefined, source: string): void {
  refuseMisspeltKeys(configurable, CONFIGURABLE_KEYS, { what: 'configurable', source, allowed, allowedOption: 'allowedConfigurableKeys' });
}
