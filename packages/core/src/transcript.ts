import { iterateRuns, type RunPagesOptions } from './runs.js';
import type { SessionStore } from './session-store.js';
import type { JsonObject, JsonValue, RunStatus, SessionRef } from './types.js';

/** One turn of a conversation as a UI shows it: the run's facts and its items in the framework's own type. */
export interface TranscriptTurn<Item> {
  runId: string;
  seq: number;
  createdAt: number;
  status: RunStatus;
  /** How the turn ended when it did not complete: `failed`, `aborted`, `cancelled`, `interrupted`. */
  outcome: string | null;
  /** The error of a failed turn, as stored. */
  error: JsonObject | null;
  items: Item[];
}

/**
 * Every turn of a session, oldest first by default, in bounded pages, each decoded by the
 * adapter (`decode`): failed and interrupted turns included and marked by `status` / `outcome`.
 */
export async function* transcript<Item>(
  store: SessionStore,
  ref: SessionRef,
  decode: (items: JsonValue[]) => Item[],
  options: RunPagesOptions = {},
): AsyncGenerator<TranscriptTurn<Item>> {
  for await (const run of iterateRuns(store, ref, { order: 'asc', ...options })) {
    const meta = run.metadata ?? {};
    const outcome = typeof meta.outcome === 'string' ? meta.outcome : run.status === 'completed' ? null : run.status;
    const error = meta.error && typeof meta.error === 'object' && !Array.isArray(meta.error) ? (meta.error as JsonObject) : null;
    yield { runId: run.runId, seq: run.seq, createdAt: run.createdAt, status: run.status, outcome, error, items: decode(run.items) };
  }
}
