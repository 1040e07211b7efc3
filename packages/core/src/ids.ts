import { randomFillSync } from 'node:crypto';

// Random bytes are drawn from the system generator in blocks and handed out 16 at a time (each
// byte used once), as crypto.randomUUID does: one call to the generator per 256 ids, not per id.
const ID_BYTES = 16;
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;

/** 128 random bits, base64url: unguessable, safe in URLs and keys. */
export function generateId(prefix = ''): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const id = pool.toString('base64url', offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return prefix + id;
}

/** A new session id: `sess_` and 128 random bits. */
export function generateSessionId(): string {
  return generateId('sess_');
}

/** A new run id: `run_` and 128 random bits. */
export function generateRunId(): string {
  return generateId('run_');
}
