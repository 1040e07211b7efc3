import type { SessionStore } from './session-store.js';
import type { SessionKey, UserDataCount, UserDataInput } from './types.js';

export interface EraseOptions extends UserDataInput {
  /** Sessions per page. Default 100. */
  pageSize?: number | undefined;
  /** Called after each page with the totals so far. */
  onProgress?: ((done: UserDataCount) => void) | undefined;
}

async function walk(store: SessionStore, o: EraseOptions, each: (agentId: string, sessionId: string, runs: number) => Promise<boolean>): Promise<UserDataCount> {
  const total: UserDataCount = { sessions: 0, runs: 0 };
  let after: SessionKey | null = null;
  for (;;) {
    const page = await store.listUserSessions({ userId: o.userId, agentId: o.agentId, limit: o.pageSize ?? 100, after });
    for (const h of page) {
      if (await each(h.agentId, h.sessionId, h.runCount)) {
        total.sessions += 1;
        total.runs += h.runCount;
      }
    }
    o.onProgress?.({ ...total });
    const last = page[page.length - 1];
    if (!last || page.length < (o.pageSize ?? 100)) return total;
    after = { agentId: last.agentId, sessionId: last.sessionId };
  }
}

/** How many sessions (and runs) a user owns, across every agent of the store or in one agent. Reads page by page. */
export function countUserData(store: SessionStore, options: EraseOptions): Promise<UserDataCount> {
  return walk(store, options, async () => true);
}

/**
 * Deletes every session a user owns, across every agent of the store (or of one agent), page by
 * page, and returns how many sessions and runs went. Safe to run again after a failure: it
 * resumes with what is left.
 */
export function deleteUserData(store: SessionStore, options: EraseOptions): Promise<UserDataCount> {
  return walk(store, options, (agentId, sessionId) => store.deleteSession({ agentId, sessionId, userId: options.userId }));
}
