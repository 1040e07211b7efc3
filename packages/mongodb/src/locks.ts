import { LOST_RACE, retryContention } from '@agent-sessions/core/store';
import type { Collection } from 'mongodb';
import type { MongoContext } from './context.js';
import { newGen } from './documents.js';
import { isDuplicateKey } from './errors.js';

/** A per-session lease lock: a document whose unique `_id` only one writer can insert. */
export interface LockDoc {
  _id: string;
  token: string;
  /** Wall-clock time after which another writer may break the lock (its holder died). */
  expiresAt: Date;
}

/**
 * Whether conditional single-document updates are atomic on this server. Several updates race
 * on one document, each requiring the value they all read: on MongoDB exactly one matches.
 * FerretDB 1.x reads, filters and rewrites documents in separate steps, so several "win".
 * A few rounds, since a race can by chance come out serialized.
 */
export async function probeAtomicUpdates(locks: Collection<LockDoc>): Promise<boolean> {
  const _id = `probe:${newGen()}`;
  try {
    for (let round = 0; round < 3; round++) {
      await locks.deleteOne({ _id });
      await locks.insertOne({ _id, token: 'start', expiresAt: new Date(0) });
      const results = await Promise.all(
        Array.from({ length: 16 }, (_, i) => locks.updateOne({ _id, token: 'start' }, { $set: { token: `w${i}` } })),
      );
      const won = results.reduce((sum, r) => sum + r.modifiedCount, 0);
      if (won !== 1) return false;
    }
    return true;
  } finally {
    await locks.deleteOne({ _id });
  }
}

/**
 * Runs `fn` while holding the session's lock. Used only on servers without atomic conditional
 * updates: there, two writers of one session must not overlap at all. The holder renews its
 * lease every third of it while `fn` runs, so a slow live writer keeps its lock; a lock whose
 * lease ran out belongs to a writer that died and is broken. The lease is short (3 s by default)
 * so the next writer gets past a dead one well within its wait budget. Waiting for a lock is a
 * lost race like any other: the same backoff and budget, then `conflict`.
 */
export async function withLock<T>(ctx: MongoContext, key: string, fn: () => Promise<T>): Promise<T> {
  const { locks } = ctx;
  const token = newGen();
  await retryContention(
    async () => {
      try {
        await locks.insertOne({ _id: key, token, expiresAt: new Date(Date.now() + ctx.lockLeaseMs) });
        return true;
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const held = await locks.findOne({ _id: key });
      if (held && held.expiresAt.getTime() < Date.now()) await locks.deleteOne({ _id: key, token: held.token });
      return LOST_RACE;
    },
    { op: 'waiting for the session lock', source: ctx.name, onLostRace: (_n, err) => ctx.lostRace('lock', err) },
    // A lock wait is bounded by time only: with many writers queued, 100 short waits are not a lost race.
    { ...ctx.contention, attempts: Number.MAX_SAFE_INTEGER, maxDelayMs: 20 },
  );
  const lease = ctx.lockLeaseMs;
  // Renewed only while the call can still be waited for: once its time bound (`timeoutMs`) has
  // passed, the caller was told `unavailable` and has moved on (perhaps to retry). A write still
  // running then must not keep the lock alive: it lapses after one more lease.
  const renewUntil = Date.now() + ctx.maxTimeMS;
  const renew = setInterval(() => {
    if (Date.now() > renewUntil) {
      clearInterval(renew);
      return;
    }
    locks.updateOne({ _id: key, token }, { $set: { expiresAt: new Date(Date.now() + lease) } }).catch(() => {});
  }, Math.max(1, Math.floor(lease / 3)));
  renew.unref?.();
  try {
    return await fn();
  } finally {
    clearInterval(renew);
    await locks.deleteOne({ _id: key, token }).catch(() => {});
  }
}
