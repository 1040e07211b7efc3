import { invalidInput } from './errors.js';
import type { SessionStore } from './session-store.js';
import type { Run, SessionRef } from './types.js';

export interface RunPagesOptions {
  /** `desc`: newest first (the default); `asc`: oldest first. Runs inside a page follow the same order. */
  order?: 'asc' | 'desc' | undefined;
  /** Runs per read, 1 to 1000. Default 100. */
  pageSize?: number | undefined;
  /** Double the page size after each read, up to 1000 (newest-first only). Default false. */
  grow?: boolean | undefined;
  /** Stop after this many reads. Default: none. */
  maxPages?: number | undefined;
}

/**
 * A session's runs in bounded pages: each page is one `listRuns` call, so memory and each read
 * stay bounded however long the session is. Newest first pages backwards by `beforeSeq`; oldest
 * first walks forward in seq windows up to the newest run when it started. An absent session
 * yields nothing.
 */
export async function* runPages(store: SessionStore, ref: SessionRef, options: RunPagesOptions = {}): AsyncGenerator<Run[]> {
  const order = options.order ?? 'desc';
  let size = options.pageSize ?? 100;
  if (!Number.isInteger(size) || size < 1 || size > 1000) throw invalidInput('pageSize must be a whole number from 1 to 1000');
  if (order !== 'asc' && order !== 'desc') throw invalidInput("order must be 'asc' or 'desc'");
  const maxPages = options.maxPages ?? Number.POSITIVE_INFINITY;
  const base = { agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId };
  if (order === 'desc') {
    let beforeSeq: number | undefined;
    for (let page = 0; page < maxPages; page++) {
      const runs = await store.listRuns({ ...base, limit: size, beforeSeq });
      if (runs.length > 0) yield runs.reverse();
      const oldest = runs[runs.length - 1];
      if (runs.length < size || !oldest || oldest.seq <= 1) return;
      beforeSeq = oldest.seq;
      if (options.grow) size = Math.min(size * 2, 1000);
    }
    return;
  }
  const header = await store.getSession(base);
  if (!header) return;
  const last = header.lastSeq;
  let after = 0;
  for (let page = 0; page < maxPages && after < last; page++) {
    const upTo = Math.min(after + size, last);
    const runs = await store.listRuns({ ...base, limit: upTo - after, beforeSeq: upTo + 1 });
    const fresh = runs.filter((r) => r.seq > after);
    if (fresh.length > 0) yield fresh;
    after = upTo;
  }
}

/** Every run of a session, one at a time, in bounded pages (see `runPages`). */
export async function* iterateRuns(store: SessionStore, ref: SessionRef, options: RunPagesOptions = {}): AsyncGenerator<Run> {
  for await (const page of runPages(store, ref, options)) yield* page;
}
