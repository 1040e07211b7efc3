import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isAgentSessionsError } from '@agent-sessions/core';
import { DecryptionError, Encryption, ENVELOPE_FIELD, sealedKeyId, STRING_ENVELOPE_PREFIX } from '../src/ops/encryption.js';

const key = randomBytes(32);
const A = 'agent-1';
const S = 'sess-1';

function expectDecryptionError(fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'expected a DecryptionError').toBeInstanceOf(DecryptionError);
  expect(isAgentSessionsError(caught, 'internal')).toBe(true);
  if (pattern) expect((caught as Error).message).toMatch(pattern);
}

describe('Encryption: keys', () => {
  it('takes 32 bytes, 64 hex characters, or base64/base64url text of 32 bytes', () => {
    expect(new Encryption(key).currentKeyId).toBe('default');
    expect(new Encryption(key.toString('hex')).currentKeyId).toBe('default');
    expect(new Encryption(key.toString('base64')).currentKeyId).toBe('default');
    expect(new Encryption(key.toString('base64url')).currentKeyId).toBe('default');
    // The same key in every spelling opens the same ciphertext.
    const sealed = new Encryption(key).sealItems(A, S, 'r1', [{ a: 1 }]);
    expect(new Encryption(key.toString('base64')).openItems(A, S, 'r1', sealed)).toEqual([{ a: 1 }]);
  });

  it('refuses short keys, passphrases, and a ring whose current key is missing or whose ids are bad', () => {
    for (const bad of [randomBytes(16), 'correct horse battery staple', '', key.toString('hex').slice(2)]) {
      expect(() => new Encryption(bad as Uint8Array)).toThrow(/must be 32 bytes/);
    }
    expect(() => new Encryption({ keys: { a: key }, current: 'b' })).toThrow(/must name one of the keys/);
    expect(() => new Encryption({ keys: { 'a:b': key }, current: 'a:b' })).toThrow(/key id/);
    expect(() => new Encryption({} as never)).toThrow(/encryption must be a key/);
  });
});

describe('Encryption: items', () => {
  const enc = new Encryption(key);
  const items = [{ role: 'user', content: 'the secret plan' }, 'plain string', 42, null, [1, { nested: true }]];

  it('seals each item as a one-field envelope holding no plaintext, and opens them back exactly', () => {
    const sealed = enc.sealItems(A, S, 'run-1', items);
    expect(sealed).toHaveLength(items.length);
    for (const s of sealed) {
      expect(Object.keys(s as object)).toEqual([ENVELOPE_FIELD]);
      expect(JSON.stringify(s)).not.toContain('secret');
      expect(sealedKeyId(s)).toBe('default');
    }
    expect(enc.openItems(A, S, 'run-1', sealed)).toEqual(items);
  });

  it('uses a fresh IV each time: the same item never seals to the same text', () => {
    const a = enc.sealItems(A, S, 'r', ['x']);
    const b = enc.sealItems(A, S, 'r', ['x']);
    expect(a).not.toEqual(b);
  });

  it('refuses an item moved to another run, session, agent or position', () => {
    const sealed = enc.sealItems(A, S, 'run-1', ['a', 'b']);
    expectDecryptionError(() => enc.openItems(A, S, 'run-2', sealed), /copied from another/);
    expectDecryptionError(() => enc.openItems(A, 'sess-2', 'run-1', sealed));
    expectDecryptionError(() => enc.openItems('agent-2', S, 'run-1', sealed));
    expectDecryptionError(() => enc.openItems(A, S, 'run-1', [sealed[1]!, sealed[0]!]));
    // Dropping an item from the middle shifts the next one into the wrong position.
    const three = enc.sealItems(A, S, 'run-1', ['a', 'b', 'c']);
    expectDecryptionError(() => enc.openItems(A, S, 'run-1', [three[0]!, three[2]!]));
  });

  it('a value already opened (and cached) at its place still fails anywhere else', () => {
    const sealed = enc.sealItems(A, S, 'run-1', ['a', 'b']);
    expect(enc.openItems(A, S, 'run-1', sealed)).toEqual(['a', 'b']);
    expect(enc.openItems(A, S, 'run-1', sealed)).toEqual(['a', 'b']);
    expectDecryptionError(() => enc.openItems(A, S, 'run-2', sealed));
    expectDecryptionError(() => enc.openItems(A, 'sess-2', 'run-1', sealed));
    expectDecryptionError(() => enc.openItems(A, S, 'run-1', [sealed[1]!, sealed[0]!]));
    const state = enc.sealState(A, S, { x: 1 });
    expect(enc.openState(A, S, state)).toEqual({ x: 1 });
    expectDecryptionError(() => enc.openState(A, 'sess-2', state));
    // Each open returns a fresh object: changing one never changes what the next read returns.
    const one = enc.sealItems(A, S, 'run-1', [{ k: 1 }]);
    const first = enc.openItems(A, S, 'run-1', one);
    (first[0] as { k: number }).k = 2;
    expect(enc.openItems(A, S, 'run-1', one)).toEqual([{ k: 1 }]);
  });

  it('opens a popped item (position unknown) by the position it is bound to, and only in its run', () => {
    const sealed = enc.sealItems(A, S, 'run-1', ['a', 'b', 'c']);
    expect(enc.openItem(sealed[2]!, { agentId: A, sessionId: S, runId: 'run-1', index: null })).toBe('c');
    expectDecryptionError(() => enc.openItem(sealed[2]!, { agentId: A, sessionId: S, runId: 'run-9', index: null }));
  });

  it('refuses an altered ciphertext, IV, tag, position or key id, and a clear item', () => {
    const [sealed] = enc.sealItems(A, S, 'r', [{ content: 'hello' }]) as [{ [ENVELOPE_FIELD]: string }];
    const text = sealed[ENVELOPE_FIELD];
    const [v, kid, pos, iv, body] = text.split(':') as [string, string, string, string, string];
    const flip = (s: string, at: number): string => {
      const b = Buffer.from(s, 'base64url');
      b[at] = (b[at] as number) ^ 1;
      return b.toString('base64url');
    };
    const variants = [
      [v, kid, pos, iv, flip(body, 0)],
      [v, kid, pos, iv, flip(body, Buffer.from(body, 'base64url').length - 1)],
      [v, kid, pos, flip(iv, 0), body],
      [v, kid, '1', iv, body],
      [v, 'other', pos, iv, body],
      ['v2', kid, pos, iv, body],
      [v, kid, pos, iv, body.slice(0, 10)],
    ];
    for (const parts of variants) {
      expectDecryptionError(() => enc.openItems(A, S, 'r', [{ [ENVELOPE_FIELD]: parts.join(':') }]));
    }
    expectDecryptionError(() => enc.openItems(A, S, 'r', [{ content: 'hello' }]), /stored unencrypted/);
    expectDecryptionError(() => enc.openItems(A, S, 'r', [{ [ENVELOPE_FIELD]: text, extra: 1 }]), /stored unencrypted/);
  });

  it('a wrong key under the same id fails with a typed error, never garbage', () => {
    const sealed = enc.sealItems(A, S, 'r', ['x']);
    expectDecryptionError(() => new Encryption(randomBytes(32)).openItems(A, S, 'r', sealed), /does not decrypt/);
  });
});

describe('Encryption: header fields', () => {
  const enc = new Encryption(key);

  it('seals state as an object envelope and strings with a prefix, bound to the session', () => {
    const state = enc.sealState(A, S, { step: 3, secret: 'x' });
    expect(Object.keys(state)).toEqual([ENVELOPE_FIELD]);
    expect(enc.openState(A, S, state)).toEqual({ step: 3, secret: 'x' });
    expectDecryptionError(() => enc.openState(A, 'other', state));
    const summary = enc.sealText('summary', A, S, 'they talked about the plan') as string;
    expect(summary.startsWith(STRING_ENVELOPE_PREFIX)).toBe(true);
    expect(summary).not.toContain('plan');
    expect(enc.openText('summary', A, S, summary)).toBe('they talked about the plan');
    expectDecryptionError(() => enc.openText('summary', A, 'other', summary));
    // A summary moved into the title (same session) does not open either: the field is bound.
    expectDecryptionError(() => enc.openText('title', A, S, summary));
  });

  it("keeps null as null and a store's empty state {} as {}; refuses any other clear value", () => {
    expect(enc.sealText('summary', A, S, null)).toBeNull();
    expect(enc.openText('summary', A, S, null)).toBeNull();
    expect(enc.openState(A, S, {})).toEqual({});
    expectDecryptionError(() => enc.openState(A, S, { a: 1 }), /stored unencrypted/);
    expectDecryptionError(() => enc.openText('summary', A, S, 'clear text'), /stored unencrypted/);
  });
});

describe('Encryption: rotation', () => {
  it('seals with the current key and opens with the key the envelope names', () => {
    const old = randomBytes(32);
    const next = randomBytes(32);
    const before = new Encryption(old);
    const sealedOld = before.sealItems(A, S, 'r1', ['old']);
    const ring = new Encryption({ keys: { default: old, k2: next }, current: 'k2' });
    const sealedNew = ring.sealItems(A, S, 'r2', ['new']);
    expect(sealedKeyId(sealedOld[0]!)).toBe('default');
    expect(sealedKeyId(sealedNew[0]!)).toBe('k2');
    expect(ring.openItems(A, S, 'r1', sealedOld)).toEqual(['old']);
    expect(ring.openItems(A, S, 'r2', sealedNew)).toEqual(['new']);
    // A store that dropped the old key says which key is missing.
    expectDecryptionError(() => new Encryption({ keys: { k2: next }, current: 'k2' }).openItems(A, S, 'r1', sealedOld), /key 'default', which is not in the key ring/);
  });
});
