import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync, type KeyObject } from 'node:crypto';
import { AgentSessionsError, invalidInput } from '../errors.js';
import type { JsonObject, JsonValue } from '../types.js';

// Encryption at rest: each item of a run, and the header's state, summary, title and preview, are
// sealed with AES-256-GCM before a store sees them. The ids a value belongs to are bound as
// associated data, so a ciphertext copied to another session, run or item position fails to
// decrypt instead of turning up where it does not belong. Everything a store indexes or filters
// on (ids, seq, times, status, owner, metadata, usage) stays clear.

/** A 256-bit key: 32 bytes, or their base64/base64url (43-44 characters) or hex (64 characters) text. */
export type EncryptionKey = Uint8Array | string;

/** Several keys by id: new data is sealed with `current`, old data opens with the key its id names. */
export interface EncryptionKeyRing {
  keys: { [id: string]: EncryptionKey };
  current: string;
}

/**
 * The `encryption` store option: a key (its id is `default`), or a key ring for rotation.
 * To rotate from a single key, name it `default` in the ring.
 */
export type EncryptionOption = EncryptionKey | EncryptionKeyRing;

/** The one field of an encrypted item or state. */
export const ENVELOPE_FIELD = '$as_enc';
/** The prefix of an encrypted string (summary, title, preview). */
export const STRING_ENVELOPE_PREFIX = 'as_enc:';
/** The id of a key given on its own. */
export const DEFAULT_KEY_ID = 'default';

const VERSION = 'v1';
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Opened values kept per store, so a window read again (every turn) is not decrypted again. */
const CACHE_ENTRIES = 4096;
const CACHE_CHARS = 8 * 1024 * 1024;

/** A value that cannot be opened: wrong key, unknown key id, altered, or moved from elsewhere. Code `internal`. */
export class DecryptionError extends AgentSessionsError {
  constructor(message: string, options: { source?: string | undefined; cause?: unknown } = {}) {
    super('internal', message, options);
    this.name = 'DecryptionError';
  }
}

/** What a sealed value is part of: the associated data binds all of it. */
export type SealedKind = 'item' | 'state' | 'summary' | 'title' | 'preview';

interface Place {
  kind: SealedKind;
  agentId: string;
  sessionId: string;
  /** Items only. */
  runId?: string | undefined;
  /** Items only: the position in the run; null when the caller does not know it (a popped item). */
  index?: number | null | undefined;
}

function describePlace(p: Place, pos?: string): string {
  const session = `session '${p.sessionId}' of agent '${p.agentId}'`;
  if (p.kind !== 'item') return `the ${p.kind} of ${session}`;
  return `item ${p.index ?? pos ?? '?'} of run '${p.runId ?? ''}' in ${session}`;
}

function keyBytes(id: string, key: EncryptionKey): Buffer {
  let bytes: Buffer | undefined;
  if (key instanceof Uint8Array) bytes = Buffer.from(key);
  else if (typeof key === 'string') {
    if (/^[0-9a-fA-F]{64}$/.test(key)) bytes = Buffer.from(key, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(key)) bytes = Buffer.from(key.replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url');
  }
  if (!bytes || bytes.length !== 32) {
    throw invalidInput(
      `encryption key '${id}' must be 32 bytes (a Uint8Array, or 64 hex or 43 base64 characters); generate one with crypto.randomBytes(32)`,
    );
  }
  return bytes;
}

/**
 * The keys of one store and the sealing and opening of values. Built once from the `encryption`
 * option; throws `invalid_input` for a malformed key or ring.
 */
export class Encryption {
  readonly currentKeyId: string;
  readonly #keys = new Map<string, KeyObject>();
  // Sealed text at its place -> plaintext JSON, least recently used first. A hit needs the very
  // envelope at the very place it was authenticated at, so a copied or altered value still fails.
  readonly #opened = new Map<string, { aad: string; plain: string }>();
  #openedChars = 0;
  readonly #sourceOf: () => string | undefined;

  /** `source` names the store in errors; a function is read when an error is made (a subclass's name is set after the base constructor). */
  constructor(option: EncryptionOption, source?: string | (() => string)) {
    this.#sourceOf = typeof source === 'function' ? source : () => source;
    const src = this.#sourceOf();
    if (typeof option === 'string' || option instanceof Uint8Array) {
      this.#keys.set(DEFAULT_KEY_ID, createSecretKey(keyBytes(DEFAULT_KEY_ID, option)));
      this.currentKeyId = DEFAULT_KEY_ID;
      return;
    }
    if (typeof option !== 'object' || option === null || typeof option.keys !== 'object' || option.keys === null) {
      throw invalidInput('encryption must be a key or { keys: { [id]: key }, current: id }', src);
    }
    for (const [id, key] of Object.entries(option.keys)) {
      if (!KEY_ID.test(id)) throw invalidInput(`encryption key id '${id}' must be 1 to 32 of A-Z a-z 0-9 _ -`, src);
      this.#keys.set(id, createSecretKey(keyBytes(id, key)));
    }
    if (typeof option.current !== 'string' || !this.#keys.has(option.current)) {
      throw invalidInput(`encryption.current ('${String(option.current)}') must name one of the keys`, src);
    }
    this.currentKeyId = option.current;
  }

  /** True when `id` is in the ring. */
  hasKey(id: string): boolean {
    return this.#keys.has(id);
  }

  // --- items -------------------------------------------------------------------------------

  /** A run's items, each sealed on its own (so popItem removes one whole item), bound to its position. */
  sealItems(agentId: string, sessionId: string, runId: string, items: readonly JsonValue[]): JsonValue[] {
    return items.map((item, index) => ({
      [ENVELOPE_FIELD]: this.#seal(JSON.stringify(item), { kind: 'item', agentId, sessionId, runId, index }),
    }));
  }

  /** The items of a stored run, opened; fails with DecryptionError on any item that does not open. */
  openItems(agentId: string, sessionId: string, runId: string, items: readonly JsonValue[]): JsonValue[] {
    return items.map((item, index) => this.openItem(item, { agentId, sessionId, runId, index }));
  }

  /**
   * One stored item. A popped item's position is not known to the caller, so `index` may be
   * null: the envelope's own position is used (it is bound, so it cannot be changed either).
   */
  openItem(item: JsonValue, place: { agentId: string; sessionId: string; runId: string; index: number | null }): JsonValue {
    const at: Place = { kind: 'item', ...place };
    const text = envelopeText(item);
    if (text === undefined) throw this.#notSealed(at);
    return JSON.parse(this.#open(text, at)) as JsonValue;
  }

  // --- header fields -----------------------------------------------------------------------

  /** The header's state as one sealed object. */
  sealState(agentId: string, sessionId: string, state: JsonObject): JsonObject {
    return { [ENVELOPE_FIELD]: this.#seal(JSON.stringify(state), { kind: 'state', agentId, sessionId }) };
  }

  /** A stored state, opened. `{}` is what a store writes for a session an append created: it stays `{}`. */
  openState(agentId: string, sessionId: string, state: JsonObject): JsonObject {
    const text = envelopeText(state);
    if (text === undefined) {
      if (Object.keys(state).length === 0) return {};
      throw this.#notSealed({ kind: 'state', agentId, sessionId });
    }
    return JSON.parse(this.#open(text, { kind: 'state', agentId, sessionId })) as JsonObject;
  }

  /** A header string (summary, title, preview), sealed; null stays null. */
  sealText(kind: 'summary' | 'title' | 'preview', agentId: string, sessionId: string, text: string | null): string | null {
    if (text === null) return null;
    return STRING_ENVELOPE_PREFIX + this.#seal(JSON.stringify(text), { kind, agentId, sessionId });
  }

  openText(kind: 'summary' | 'title' | 'preview', agentId: string, sessionId: string, text: string | null): string | null {
    if (text === null) return null;
    if (!text.startsWith(STRING_ENVELOPE_PREFIX)) throw this.#notSealed({ kind, agentId, sessionId });
    return JSON.parse(this.#open(text.slice(STRING_ENVELOPE_PREFIX.length), { kind, agentId, sessionId })) as string;
  }

  // --- the cipher --------------------------------------------------------------------------

  /** `v1:<kid>:<pos>:<iv>:<ciphertext+tag>`, base64url; `pos` is the item position (`-` elsewhere). */
  #seal(plain: string, place: Place): string {
    const kid = this.currentKeyId;
    const pos = place.kind === 'item' ? String(place.index) : '-';
    const iv = nextIv();
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(kid) as KeyObject, iv);
    cipher.setAAD(Buffer.from(associatedData(kid, pos, place), 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}:${kid}:${pos}:${iv.toString('base64url')}:${body.toString('base64url')}`;
  }

  #open(sealed: string, place: Place): string {
    const parts = sealed.split(':');
    const [version, kid, pos, ivText, bodyText] = parts;
    if (parts.length !== 5 || version !== VERSION || !kid || !pos || !ivText || !bodyText) {
      throw new DecryptionError(`${describePlace(place, pos)} is not a valid ${VERSION} envelope`, { source: this.#sourceOf() });
    }
    const key = this.#keys.get(kid);
    if (!key) {
      throw new DecryptionError(
        `${describePlace(place, pos)} was encrypted with key '${kid}', which is not in the key ring: add it to encryption.keys`,
        { source: this.#sourceOf() },
      );
    }
    // An item's position is bound; a caller that knows where the item sits also checks it.
    const expected = place.kind === 'item' ? (place.index === null || place.index === undefined ? pos : String(place.index)) : '-';
    if (pos !== expected) throw this.#moved(place, pos);
    const aad = associatedData(kid, pos, place);
    const hit = this.#opened.get(sealed);
    if (hit !== undefined && hit.aad === aad) {
      this.#opened.delete(sealed);
      this.#opened.set(sealed, hit);
      return hit.plain;
    }
    let plain: string;
    try {
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw new Error('truncated envelope');
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(aad, 'utf8'));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      plain = Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch (err) {
      throw this.#moved(place, pos, err);
    }
    this.#remember(sealed, aad, plain);
    return plain;
  }

  #remember(sealed: string, aad: string, plain: string): void {
    const size = sealed.length + aad.length + plain.length;
    if (size > CACHE_CHARS / 16) return;
    const before = this.#opened.get(sealed);
    if (before) this.#openedChars -= sealed.length + before.aad.length + before.plain.length;
    this.#opened.delete(sealed);
    this.#opened.set(sealed, { aad, plain });
    this.#openedChars += size;
    for (const [oldest, entry] of this.#opened) {
      if (this.#opened.size <= CACHE_ENTRIES && this.#openedChars <= CACHE_CHARS) break;
      this.#openedChars -= oldest.length + entry.aad.length + entry.plain.length;
      this.#opened.delete(oldest);
    }
  }

  #moved(place: Place, pos: string, cause?: unknown): DecryptionError {
    return new DecryptionError(
      `${describePlace(place, pos)} does not decrypt: a wrong key under its id, or the stored value was altered or copied from another session, run or position`,
      { source: this.#sourceOf(), cause },
    );
  }

  #notSealed(place: Place): DecryptionError {
    return new DecryptionError(`${describePlace(place)} is stored unencrypted, but this store has encryption on`, {
      source: this.#sourceOf(),
    });
  }
}

// Random IVs drawn from the CSPRNG in blocks: one call per 512 IVs instead of one per value.
const IV_POOL = Buffer.alloc(IV_BYTES * 512);
let ivAt = IV_POOL.length;
function nextIv(): Buffer {
  if (ivAt === IV_POOL.length) {
    randomFillSync(IV_POOL);
    ivAt = 0;
  }
  const iv = Buffer.from(IV_POOL.subarray(ivAt, ivAt + IV_BYTES));
  // Each IV is used once: wipe it from the pool as it is taken.
  IV_POOL.fill(0, ivAt, ivAt + IV_BYTES);
  ivAt += IV_BYTES;
  return iv;
}

/** Version, key id, position, kind and the ids, JSON-encoded so no two places share a text. */
function associatedData(kid: string, pos: string, p: Place): string {
  const ids = p.kind === 'item' ? [p.agentId, p.sessionId, p.runId ?? ''] : [p.agentId, p.sessionId];
  return JSON.stringify([VERSION, kid, pos, p.kind, ...ids]);
}

/** The sealed text of an item or state envelope, or undefined when `value` is not one. */
export function envelopeText(value: JsonValue): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  const text = value[ENVELOPE_FIELD];
  return keys.length === 1 && typeof text === 'string' ? text : undefined;
}

/** The key id a stored item, state or string was sealed with, or undefined for a clear value. */
export function sealedKeyId(value: JsonValue): string | undefined {
  const text = typeof value === 'string' ? (value.startsWith(STRING_ENVELOPE_PREFIX) ? value.slice(STRING_ENVELOPE_PREFIX.length) : undefined) : envelopeText(value);
  if (text === undefined) return undefined;
  const [version, kid] = text.split(':');
  return version === VERSION ? kid : undefined;
}
