import { randomBytes } from 'node:crypto';

/** 128 random bits, base64url: unguessable, safe in URLs and keys. */
export function generateId(prefix = ''): string {
  return prefix + randomBytes(16).toString('base64url');
}

/** A new session id: `sess_` and 128 random bits. */
export function generateSessionId(): string {
  return generateId('sess_');
}

/** A new run id: `run_` and 128 random bits. */
export function generateRunId(): string {
  return generateId('run_');
}
