import type { PruneResult } from '@agent-sessions/core/store';
import type { SqlRunner } from './client.js';
import type { DeletedRow, PruneRow } from './rows.js';
import { DELETE_BATCH, type Statements } from './sql.js';

// Deletes that may touch many rows run as several statements of at most DELETE_BATCH rows each,
// so none holds a shared server for long (see sql.ts). The header always goes first, in one
// statement: readers see the session gone at once, whatever is left to delete.

/** Deletes a session (absent for this caller: false) with all its runs. */
export async function deleteSession(sql: SqlRunner, q: Statements, params: unknown[]): Promise<boolean> {
  const [row] = await sql.query<DeletedRow>(q.deleteSession, params);
  if (!row) return false;
  await deleteRest(sql, q, row);
  return true;
}

/** Deletes a session if it is (still) expired, with all its runs. */
export async function purgeExpired(sql: SqlRunner, q: Statements, agentId: string, sessionId: string, now: number): Promise<void> {
  const [row] = await sql.query<DeletedRow>(q.purgeExpired, [agentId, sessionId, now]);
  if (row) await deleteRest(sql, q, row);
}

/**
 * The runs a header delete left: more than one batch, or one an append committed after the
 * delete's snapshot (the header's last_seq, read after any lock wait, is above the newest run
 * the delete saw).
 */
async function deleteRest(sql: SqlRunner, q: Statements, row: DeletedRow): Promise<void> {
  if (Number(row.n) < DELETE_BATCH && Number(row.last_seq) <= Number(row.top ?? 0)) return;
  for (;;) {
    const [r] = await sql.query<{ n: string | number }>(q.deleteRuns, [row.id]);
    if (Number(r?.n ?? 0) < DELETE_BATCH) return;
  }
}

/** Runs under a header id that no header has (an import that did not finish), batch after batch. */
export async function deleteOrphanRuns(sql: SqlRunner, q: Statements, id: number): Promise<void> {
  for (;;) {
    const [r] = await sql.query<{ n: string | number }>(q.deleteRuns, [id]);
    if (Number(r?.n ?? 0) < DELETE_BATCH) return;
  }
}

/** prune, batch after batch, until a batch finds nothing more to do. */
export async function prune(sql: SqlRunner, q: Statements, params: unknown[]): Promise<PruneResult> {
  const total = { sessions: 0, runs: 0 };
  for (;;) {
    const [row] = await sql.query<PruneRow>(q.prune, params);
    const sessions = Number(row?.sessions ?? 0);
    const deadRuns = Number(row?.dead_runs ?? 0);
    const oldRuns = Number(row?.old_runs ?? 0);
    total.sessions += sessions;
    total.runs += deadRuns + oldRuns;
    // Runs of expired sessions went: their headers go in the next batch.
    if (deadRuns === 0 && sessions < DELETE_BATCH && oldRuns < DELETE_BATCH) return total;
  }
}
