/** The key prefix used when none is given. */
export const DEFAULT_PREFIX = 'as:';

/**
 * An id as it appears inside a key: base64url of its UTF-8 bytes. The alphabet is
 * `A-Z a-z 0-9 - _`, so no id can close a hash tag, add a key segment or become a glob
 * pattern, whatever it holds (`*`, `:`, `{`, `}`, spaces, any Unicode).
 */
export function encodeId(id: string): string {
  return Buffer.from(id, 'utf8').toString('base64url');
}

export function decodeId(encoded: string): string {
  return Buffer.from(encoded, 'base64url').toString('utf8');
}

/** The four keys of one session, in the order the Lua scripts expect them. */
export type SessionKeys = [header: string, data: string, seqs: string, created: string];

/**
 * The key layout under a prefix (default `as:`). `A`, `S`, `U` are encoded agent, session
 * and user ids; `.` never occurs in an encoded id, so the parts cannot run into each other.
 *
 * - `{s.A.S}:h` hash: the session header
 * - `{s.A.S}:d` hash: `s<seq>` → run, `i<runId>` → seq (the idempotency map)
 * - `{s.A.S}:q` sorted set: seqs scored by seq (range reads of the newest runs)
 * - `{s.A.S}:c` sorted set: seqs scored by createdAt (prune by age)
 * - `{a.A}:all` sorted set: the agent's session ids scored by updatedAt
 * - `{a.A}:u.U` sorted set: one user's session ids of that agent, scored by updatedAt
 * - `{u.U}:s` sorted set: one user's sessions across agents, members `agentId \0 sessionId`
 *   (score 0, read in order with ZRANGEBYLEX)
 *
 * Everything between braces is the cluster hash tag: all keys of a session share one slot, an
 * agent's indexes share another, and a user's index across agents has a slot of its own.
 */
export class KeyLayout {
  constructor(readonly prefix: string = DEFAULT_PREFIX) {
    if (/[{}]/.test(prefix)) {
      throw new Error(`prefix '${prefix}' must not contain '{' or '}': they would change the cluster hash tag`);
    }
  }

  session(agentId: string, sessionId: string): SessionKeys {
    return this.sessionEncoded(encodeId(agentId), sessionId);
  }

  /** Session keys from an already encoded agent id (prune walks indexes found by SCAN). */
  sessionEncoded(agent: string, sessionId: string): SessionKeys {
    const base = `${this.prefix}{s.${agent}.${encodeId(sessionId)}}:`;
    return [`${base}h`, `${base}d`, `${base}q`, `${base}c`];
  }

  agentIndex(agentId: string): string {
    return this.agentIndexEncoded(encodeId(agentId));
  }

  agentIndexEncoded(agent: string): string {
    return `${this.prefix}{a.${agent}}:all`;
  }

  userIndex(agentId: string, userId: string): string {
    return this.userIndexEncoded(encodeId(agentId), userId);
  }

  userIndexEncoded(agent: string, userId: string): string {
    return `${this.prefix}{a.${agent}}:u.${encodeId(userId)}`;
  }

  /** One user's sessions across agents (members `agentId \0 sessionId`). */
  userSessions(userId: string): string {
    return `${this.prefix}{u.${encodeId(userId)}}:s`;
  }

  /** A SCAN pattern matching every agent index under this prefix (prune without an agent only). */
  agentIndexPattern(keyPrefix = ''): string {
    return `${escapeGlob(keyPrefix + this.prefix)}{a.*}:all`;
  }

  /** The encoded agent id of an agent index key SCAN returned, or undefined. */
  agentOfIndexKey(key: string, keyPrefix = ''): string | undefined {
    const head = `${keyPrefix}${this.prefix}{a.`;
    if (!key.startsWith(head) || !key.endsWith('}:all')) return undefined;
    const agent = key.slice(head.length, -'}:all'.length);
    return /^[A-Za-z0-9_-]+$/.test(agent) ? agent : undefined;
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
