export type JsonPrimitive = string | number | boolean | null;
/** Plain JSON: what every store can keep and give back unchanged. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** How a run ended. Only `completed` runs enter the default history window. */
export type RunStatus = 'completed' | 'failed' | 'interrupted';
export const RUN_STATUSES: readonly RunStatus[] = ['completed', 'failed', 'interrupted'];

/** A duration in milliseconds, or a string such as `30s`, `30m`, `24h`, `7d`. */
export type Duration = number | string;

/**
 * Addresses one session. `agentId` scopes it (two agents' sessions named "test" never meet);
 * `userId`, when given, must match the session's owner or the session behaves as absent.
 */
export interface SessionRef {
  agentId: string;
  sessionId: string;
  userId?: string | undefined;
}

/** A session's header record. Times are epoch milliseconds. */
export interface SessionHeader {
  agentId: string;
  sessionId: string;
  /** The owner, or null for a session that belongs to no user. */
  userId: string | null;
  createdAt: number;
  updatedAt: number;
  /** When the session expires, or null when it never does. */
  expiresAt: number | null;
  /** The session's time to live, refreshed on write; null for none. */
  ttlMs: number | null;
  metadata: JsonObject;
  state: JsonObject;
  summary: string | null;
  /** The newest run folded into `summary`, 0 when there is none. */
  summarySeq: number;
  /** Bumped by every write; `updateSession` must name the current one. */
  version: number;
  /** The sequence number of the newest run, 0 before the first. */
  lastSeq: number;
  /** The session's title: set by `renameSession`, else taken from its first run (the first user text). */
  title: string | null;
  /** A short text of the latest message, kept by every append that gives one. */
  preview: string | null;
  /** How many turns the conversation holds (appended, less popped): equals `lastSeq`. */
  runCount: number;
  /** Usage summed over every run appended: the numeric `requests`, `inputTokens`, `outputTokens`, `totalTokens` of each run's `usage`. */
  usage: UsageTotals;
}

/** What a session has used, summed from its runs' `usage`. */
export interface UsageTotals {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** The longest title kept, in UTF-16 code units; longer ones are cut at a character boundary with an ellipsis. */
export const MAX_TITLE_LENGTH = 200;
/** The longest preview kept. */
export const MAX_PREVIEW_LENGTH = 500;

/** One turn: the input and everything generated for it, in the framework's own item format. */
export interface Run {
  runId: string;
  /** Per-session, gapless, strictly increasing from 1. The only order runs have. */
  seq: number;
  createdAt: number;
  status: RunStatus;
  /** The item codec's format tag, e.g. `openai-agents` or `langchain`. */
  format: string;
  items: JsonValue[];
  usage: JsonObject | null;
  metadata: JsonObject | null;
}

export interface AppendRunInput extends SessionRef {
  /** Idempotency key within the session; generated when absent. A retry with the same id returns the stored run. */
  runId?: string | undefined;
  /** Default `completed`. */
  status?: RunStatus | undefined;
  format: string;
  items: JsonValue[];
  usage?: JsonObject | null | undefined;
  metadata?: JsonObject | null | undefined;
  /** Sets the session's TTL (null: never expires). Absent: keep the session's, or the store default for a new one. */
  ttl?: Duration | null | undefined;
  /** Metadata for a session this append creates; ignored for an existing one. */
  sessionMetadata?: JsonObject | undefined;
  /**
   * Append only if the session's `lastSeq` is still this (0: the session must not exist yet, or
   * be expired); otherwise fail with `conflict` and write nothing. A turn passes the `lastSeq` of
   * the history it read, so a turn whose history went stale is refused instead of interleaved.
   * A retry of an already stored run id still returns the stored run.
   */
  expectedLastSeq?: number | undefined;
  /** The session's title when it has none yet (an adapter passes the first user text). */
  title?: string | undefined;
  /** The latest message's text, shown in a session list. */
  preview?: string | undefined;
}

export interface ReadHistoryInput extends ListRunsInput {}

export interface History {
  /** The session's header, or null when it does not exist for this caller. */
  session: SessionHeader | null;
  /** The last `limit` runs before `beforeSeq` (or the newest), oldest first. */
  runs: Run[];
}

export interface AppendRunResult {
  run: Run;
  /** False when the run id was already stored and the stored run is returned. */
  created: boolean;
  session: SessionHeader;
}

export interface ListRunsInput extends SessionRef {
  /** How many runs at most (1 to 1000). */
  limit: number;
  /** Only runs with a smaller sequence number: page backwards from here. */
  beforeSeq?: number | undefined;
}

export interface CreateSessionInput extends SessionRef {
  metadata?: JsonObject | undefined;
  state?: JsonObject | undefined;
  ttl?: Duration | null | undefined;
}

export interface UpdateSessionInput extends SessionRef {
  /** The version read; a stale one fails with `conflict`. */
  expectedVersion: number;
  metadata?: JsonObject | undefined;
  state?: JsonObject | undefined;
  summary?: string | null | undefined;
  /** With `summary`: the newest run it covers. */
  summarySeq?: number | undefined;
}

export interface RenameSessionInput extends SessionRef {
  /** The new title; null clears it (the next append's title is taken again). */
  title: string | null;
}

export interface UserDataInput {
  userId: string;
  /** Only this agent's sessions; every agent's when absent. */
  agentId?: string | undefined;
}

export interface UserDataCount {
  sessions: number;
  runs: number;
}

/** A session named by agent and id, as the per-user listing returns it. */
export interface SessionKey {
  agentId: string;
  sessionId: string;
}

export interface ListSessionsInput {
  agentId: string;
  /** Only this user's sessions. */
  userId?: string | undefined;
  /** Page size, 1 to 1000, default 20. */
  limit?: number | undefined;
  /** From the previous page's `nextCursor`. */
  cursor?: string | null | undefined;
  /** Only sessions updated at or after this time (epoch ms). */
  updatedAfter?: number | undefined;
  /** Only sessions updated before this time (epoch ms). */
  updatedBefore?: number | undefined;
  /** Only sessions whose metadata has each of these keys with exactly this value (strings, numbers, booleans). */
  metadata?: { [key: string]: string | number | boolean } | undefined;
}

export interface SessionPage {
  /** Newest first, by updatedAt then sessionId. */
  sessions: SessionHeader[];
  nextCursor: string | null;
}

export interface PruneInput {
  /** Only this agent's sessions; all agents when absent. */
  agentId?: string | undefined;
  /** Also remove runs created longer ago than this. */
  runsOlderThan?: Duration | undefined;
}

export interface PruneResult {
  sessions: number;
  runs: number;
}

export interface PoppedItem {
  item: JsonValue;
  runId: string;
  seq: number;
}
