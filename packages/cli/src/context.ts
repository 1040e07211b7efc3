import { AgentSessionsError, type SessionRef, type SessionStore } from '@agent-sessions/core';
import { ONE_SESSION, sessionRef, type OptionSpec, type Values } from './args.js';
import { Progress, type CliIO } from './io.js';

/** What a command gets: its parsed arguments, the store (opened on first use) and the streams. */
export interface Context {
  io: CliIO;
  values: Values;
  positionals: string[];
  store(): Promise<SessionStore>;
  /** Whether the store is opened with an encryption key (AGENT_SESSIONS_ENCRYPTION). */
  encrypted: boolean;
  progress: Progress;
  /** Writes to stdout, waiting when a pipe is full so a large export never piles up in memory. */
  out(text: string): Promise<void>;
  /** A note for a person on stderr (counts, confirmations): never mixed into stdout's data. */
  note(text: string): void;
}

export interface Command {
  name: string;
  /** The arguments after the command name, for the usage line. */
  usage: string;
  summary: string;
  /** Lines of help after the usage line. */
  help: string[];
  options: OptionSpec;
  positionals: { min: number; max: number; names: string };
  run(ctx: Context): Promise<void>;
}

/** Writes to a stream and waits for `drain` when it asks to. */
export async function writeAll(stream: CliIO['stdout'], text: string): Promise<void> {
  const ok = stream.write(text);
  const s = stream as { once?: (e: string, f: () => void) => unknown; writableNeedDrain?: boolean };
  if (ok === false && typeof s.once === 'function') {
    await new Promise<void>((resolve) => s.once?.('drain', resolve));
  }
}

/** The `not_found` failure (exit 3) of a command on one session. */
export function sessionNotFound(ref: SessionRef, store: SessionStore): AgentSessionsError {
  return new AgentSessionsError('not_found', `session '${ref.sessionId}' of agent '${ref.agentId}' not found`, { source: store.name });
}

/**
 * A command on one session (`<sessionId> --agent <agentId> [--user <userId>]`): `run` gets the
 * session it names and the store.
 */
export function sessionCommand(
  spec: Pick<Command, 'name' | 'summary' | 'help'>,
  run: (ctx: Context, ref: SessionRef, store: SessionStore) => Promise<void>,
): Command {
  return { ...spec, ...ONE_SESSION, run: async (ctx) => run(ctx, sessionRef(ctx), await ctx.store()) };
}
