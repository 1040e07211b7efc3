import { invalidInput } from './errors.js';

/** The keyset position of a listing page: the last session returned. */
export interface ListCursor {
  updatedAt: number;
  sessionId: string;
}

export function encodeCursor(c: ListCursor): string {
  return Buffer.from(JSON.stringify([c.updatedAt, c.sessionId]), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string, source?: string): ListCursor {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && Number.isFinite(v[0]) && typeof v[1] === 'string') {
      return { updatedAt: v[0] as number, sessionId: v[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw invalidInput('cursor is not one this library issued', source);
}

/** True when (updatedAt, sessionId) sorts after the cursor in newest-first order. */
export function isAfterCursor(s: ListCursor, c: ListCursor): boolean {
  return s.updatedAt < c.updatedAt || (s.updatedAt === c.updatedAt && s.sessionId < c.sessionId);
}
