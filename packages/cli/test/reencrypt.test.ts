import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { createStore, DecryptionError, type SessionStore } from '@agent-sessions/core';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/index.js';
import { cli } from './helpers.js';

// The `reencrypt` command and AGENT_SESSIONS_ENCRYPTION, on an embedded PostgreSQL directory
// opened the way the command line opens it (createStore with the URL), with real keys.
const k1 = randomBytes(32).toString('base64');
const k2 = randomBytes(32).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'as-cli-reencrypt-'));
const url = `pglite://${join(dir, 'db')}`;
const ref = { agentId: 'support', sessionId: 's-1', userId: 'ada' };
const opened: SessionStore[] = [];
afterAll(async () => {
  for (const s of opened) await s.close().catch(() => {});
});

/** Runs the command line with the store opened from the URL and the options the command line gives. */
async function run(argv: string[], env: Record<string, string> = {}) {
  const seen: unknown[] = [];
  const r = await cli(undefined, [...argv, '--url', url], {
    env,
    openStore: async (u, options) => {
      seen.push(options);
      const s = await createStore(u, options as never);
      opened.push(s);
      return s;
    },
  });
  // The command's store is not closed by the test helper: close it so the next one can open the directory.
  while (opened.length) await opened.pop()?.close();
  return { ...r, seen };
}

async function withStore<T>(encryption: unknown, f: (s: SessionStore) => Promise<T>): Promise<T> {
  const s = await createStore(url, { encryption } as never);
  try {
    return await f(s);
  } finally {
    await s.close();
  }
}

describe('reencrypt', () => {
  it('seals every run and the header with the current key; afterwards the old key is not needed', async () => {
    await withStore(k1, async (s) => {
      for (let i = 0; i < 3; i++) {
        await s.appendRun({ ...ref, format: 'plain', items: [`secret ${i}`], title: 'Order 1234', preview: `answer ${i}` });
      }
      await s.updateSession({ ...ref, expectedVersion: (await s.getSession(ref))?.version ?? 0, state: { note: 'private' } });
    });
    const ring = JSON.stringify({ current: 'k2', keys: { default: k1, k2 } });

    const r = await run(['reencrypt', 's-1', '--agent', 'support', '--user', 'ada'], { AGENT_SESSIONS_ENCRYPTION: ring });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT_CODES.ok);
    expect(r.seen[0]).toMatchObject({ encryption: { current: 'k2', keys: { default: k1, k2 } } });
    const result = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(result).toMatchObject({ found: true, currentKeyId: 'k2', runsChecked: 3, runsOnOtherKeys: 3, runsRewritten: 3, runsSkipped: 0, headerFieldsOnOtherKeys: [] });

    // Only the new key now: everything opens.
    await withStore({ current: 'k2', keys: { k2 } }, async (s) => {
      const runs = await s.listRuns({ ...ref, limit: 10 });
      expect(runs.map((x) => x.items)).toEqual([['secret 0'], ['secret 1'], ['secret 2']]);
      const h = await s.getSession(ref);
      expect(h).toMatchObject({ title: 'Order 1234', preview: 'answer 2', state: { note: 'private' } });
    });
    // And the old key alone no longer opens the runs: they really were sealed again.
    await withStore(k1, async (s) => {
      await expect(s.listRuns({ ...ref, limit: 10 })).rejects.toBeInstanceOf(DecryptionError);
    });

    // A second pass finds nothing left on other keys.
    const again = await run(['reencrypt', 's-1', '--agent', 'support', '--user', 'ada'], { AGENT_SESSIONS_ENCRYPTION: ring });
    expect(again.code).toBe(EXIT_CODES.ok);
    expect(JSON.parse(again.stdout)).toMatchObject({ runsOnOtherKeys: 0, runsRewritten: 0 });

    // show opens the values with the key from the environment, and prints envelopes without it.
    const shown = await run(['show', 's-1', '--agent', 'support', '--user', 'ada'], { AGENT_SESSIONS_ENCRYPTION: JSON.stringify({ current: 'k2', keys: { k2 } }) });
    expect(shown.code).toBe(EXIT_CODES.ok);
    expect(shown.stdout).toContain('secret 0');
    const sealed = await run(['show', 's-1', '--agent', 'support', '--user', 'ada']);
    expect(sealed.code).toBe(EXIT_CODES.ok);
    expect(sealed.stdout).not.toContain('secret 0');
    expect(sealed.stdout).toContain('as_enc');
  });

  it('without a key ring, for an absent session, and with a malformed ring it fails with the right exit code and writes nothing', async () => {
    const none = await run(['reencrypt', 's-1', '--agent', 'support', '--user', 'ada']);
    expect(none.code).toBe(EXIT_CODES.invalid_input);
    expect(none.stderr).toContain('AGENT_SESSIONS_ENCRYPTION');
    expect(none.seen).toEqual([]);

    const absent = await run(['reencrypt', 'nope', '--agent', 'support'], { AGENT_SESSIONS_ENCRYPTION: k2 });
    expect(absent.code).toBe(EXIT_CODES.not_found);

    const bad = await run(['reencrypt', 's-1', '--agent', 'support'], { AGENT_SESSIONS_ENCRYPTION: '{"current": "k2", keys' });
    expect(bad.code).toBe(EXIT_CODES.invalid_input);
    expect(bad.stderr).toContain('JSON key ring');
    expect(bad.stderr).not.toContain(k2);

    // A ring without the old key: the values do not open, the command fails and nothing changes.
    const missing = await run(['reencrypt', 's-1', '--agent', 'support', '--user', 'ada'], {
      AGENT_SESSIONS_ENCRYPTION: JSON.stringify({ current: 'k3', keys: { k3: randomBytes(32).toString('hex') } }),
    });
    expect(missing.code).toBe(EXIT_CODES.internal);
    expect(missing.stderr).toMatch(/decrypt|open|key/i);
    await withStore({ current: 'k2', keys: { k2 } }, async (s) => {
      expect((await s.listRuns({ ...ref, limit: 10 })).map((x) => x.items)).toEqual([['secret 0'], ['secret 1'], ['secret 2']]);
    });
  });
});
