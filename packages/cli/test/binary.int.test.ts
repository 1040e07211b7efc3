import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createStore, type SessionStore } from '@agent-sessions/core';
import { beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { BIN, bin, cleanEnv, ensureBuilt } from './built.js';

// The built `agent-sessions` bin, run as a child process against real servers and PGlite: what
// `npx agent-sessions` does. Data is seeded through the library; every id is random, so the
// suites share servers with the other packages' tests.

beforeAll(() => ensureBuilt(), 300_000);
// Each test starts several Node processes (and PGlite opens its files in each): on a busy machine that takes a while.
vi.setConfig({ testTimeout: 120_000 });

const pgliteUrl = () => `pglite://${mkdtempSync(join(tmpdir(), 'cli-pglite-'))}`;
const targets = () => [
  { name: 'pglite', url: pgliteUrl() },
  { name: 'postgres', url: inject('postgresUrl') },
  { name: 'redis', url: inject('redisUrl') },
  { name: 'mongodb', url: inject('mongodbUrl') },
];

async function seed(store: SessionStore, agentId: string, sessionId: string, userId: string): Promise<void> {
  const ref = { agentId, sessionId, userId };
  await store.appendRun({
    ...ref,
    format: 'openai-agents',
    title: 'Order status',
    preview: 'It shipped yesterday.',
    usage: { requests: 1, inputTokens: 10, outputTokens: 5, totalTokens: 15 },
    items: [
      { type: 'message', role: 'user', content: 'Where is my order 1234?' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It shipped yesterday.' }] },
    ],
  });
  await store.appendRun({
    ...ref,
    format: 'openai-agents',
    status: 'failed',
    metadata: { outcome: 'failed', error: { name: 'Error', message: 'model timed out' } },
    items: [{ type: 'message', role: 'user', content: 'And the other one?' }],
  });
}

/**
 * Opens the store for `fn` and closes it after: PGlite keeps its directory to one process at a
 * time, so the test never holds it while the bin runs.
 */
async function withStore<T>(url: string, fn: (store: SessionStore) => Promise<T>): Promise<T> {
  const store = await createStore(url);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

describe.each(targets())('the built bin on $name', ({ url }) => {
  const agentId = `cli-${randomUUID().slice(0, 8)}`;
  const userId = `u-${randomUUID().slice(0, 8)}`;
  const sessionId = 'sess-a';

  const use = <T>(fn: (store: SessionStore) => Promise<T>) => withStore(url, fn);

  beforeAll(() => use((store) => seed(store, agentId, sessionId, userId)), 60_000);

  it('migrate sets the store up (exit 0)', () => {
    const r = bin(['migrate', '--url', url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^the (postgres|redis|mongodb) store is set up\n$/);
  });

  it('list prints the table (id, title, preview, runs, updated) and --json the headers', async () => {
    const header = await use((store) => store.getSession({ agentId, sessionId }));
    const r = bin(['list', '--agent', agentId, '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    const [head, row, ...more] = r.stdout.trimEnd().split('\n');
    expect(head).toMatch(/^ID\s+TITLE\s+PREVIEW\s+RUNS\s+UPDATED$/);
    expect(more).toEqual([]);
    // Title and preview as the store keeps them (the server stores are gaining them in contract v2).
    const cells = [sessionId, header!.title ?? '', header!.preview ?? ''].filter(Boolean).map((c) => c.replace(/[.?]/g, '\\$&'));
    expect(row).toMatch(new RegExp(`^${cells.join('\\s+')}\\s+2\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`));
    const json = bin(['list', '--agent', agentId, '--user', userId, '--json'], { env: { AGENT_SESSIONS_URL: url } });
    expect(json.code).toBe(0);
    const rows = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { sessionId: string; runCount: number; lastSeq: number });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ sessionId, lastSeq: 2, runCount: 2 });
  });

  it('show prints the transcript with the failed run marked; an absent one exits 3', () => {
    const r = bin(['show', sessionId, '--agent', agentId, '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('    user: Where is my order 1234?');
    expect(r.stdout).toContain('    assistant: It shipped yesterday.');
    expect(r.stdout).toMatch(/#2 {2}failed {2}\S+ \S+ {2}\[FAILED\] {2}Error: model timed out\n {4}user: And the other one\?/);
    const absent = bin(['show', 'nope', '--agent', agentId, '--url', url]);
    expect(absent.code).toBe(3);
    expect(absent.stderr).toContain("session 'nope' of agent '");
    const other = bin(['show', sessionId, '--agent', agentId, '--user', 'someone-else', '--url', url]);
    expect(other.code).toBe(3);
  });

  it('export writes JSON Lines to stdout and, identically, to --out', () => {
    const r = bin(['export', sessionId, '--agent', agentId, '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, { seq?: number; status?: string }>);
    expect(lines[0]).toMatchObject({ format: 'agent-sessions.session', version: 1, session: { sessionId, agentId, userId, lastSeq: 2 } });
    expect(lines.slice(1).map((l) => [l.run?.seq, l.run?.status])).toEqual([
      [1, 'completed'],
      [2, 'failed'],
    ]);
    const file = join(mkdtempSync(join(tmpdir(), 'cli-out-')), 'a.jsonl');
    const toFile = bin(['export', sessionId, '--agent', agentId, '--out', file, '--url', url]);
    expect(toFile.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(r.stdout);
  });

  it('fork copies through a seq under a new id', async () => {
    const r = bin(['fork', sessionId, '--agent', agentId, '--through-seq', '1', '--new-id', 'forked', '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('forked\n');
    expect(await use((store) => store.getSession({ agentId, sessionId: 'forked' }))).toMatchObject({ lastSeq: 1, userId });
  });

  it('delete removes the session; again exits 3; prune --agent exits 0', async () => {
    await use((store) => seed(store, agentId, 'to-delete', userId));
    const r = bin(['delete', 'to-delete', '--agent', agentId, '--url', url]);
    expect(r.code, r.stderr).toBe(0);
    expect(await use((store) => store.getSession({ agentId, sessionId: 'to-delete' }))).toBeNull();
    expect(bin(['delete', 'to-delete', '--agent', agentId, '--url', url]).code).toBe(3);
    const prune = bin(['prune', '--agent', agentId, '--runs-older-than', '3650d', '--url', url]);
    expect(prune.code, prune.stderr).toBe(0);
    expect(prune.stdout).toMatch(/^removed \d+ sessions? and 0 runs\n$/);
    expect((await use((store) => store.getSession({ agentId, sessionId })))?.lastSeq).toBe(2);
  });

  it('delete-user counts, then erases the user', async () => {
    const user = `erase-${randomUUID().slice(0, 8)}`;
    await use(async (store) => {
      await seed(store, agentId, 'e1', user);
      await seed(store, `${agentId}-b`, 'e2', user);
    });
    const dry = bin(['delete-user', user, '--dry-run', '--url', url]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe(`user '${user}' owns 2 sessions (4 runs) in all agents\n`);
    const r = bin(['delete-user', user, '--url', url]);
    expect(r.stdout).toContain(`deleted 2 sessions (4 runs) of user '${user}'`);
    await use(async (store) => {
      expect(await store.getSession({ agentId, sessionId: 'e1' })).toBeNull();
      expect(await store.getSession({ agentId: `${agentId}-b`, sessionId: 'e2' })).toBeNull();
    });
  });
});

describe('the built bin between stores', () => {
  it.each([
    ['redis', 'postgres'],
    ['postgres', 'mongodb'],
    ['mongodb', 'pglite'],
  ] as const)('export from %s | import into %s keeps runs, seqs, statuses, usage and metadata', async (from, to) => {
    const urls: Record<string, string> = { redis: inject('redisUrl'), postgres: inject('postgresUrl'), mongodb: inject('mongodbUrl'), pglite: pgliteUrl() };
    const agentId = `move-${randomUUID().slice(0, 8)}`;
    await withStore(urls[from]!, (source) => seed(source, agentId, 's1', 'ada'));
    const exported = bin(['export', 's1', '--agent', agentId, '--url', urls[from]!]);
    expect(exported.code, exported.stderr).toBe(0);
    const imported = bin(['import', '-', '--agent', `${agentId}-copy`, '--url', urls[to]!], { input: exported.stdout });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toBe(`imported session 's1' of agent '${agentId}-copy' (2 runs)\n`);
    const a = await withStore(urls[from]!, (source) => source.listRuns({ agentId, sessionId: 's1', limit: 10 }));
    await withStore(urls[to]!, async (target) => {
      expect(await target.listRuns({ agentId: `${agentId}-copy`, sessionId: 's1', limit: 10 })).toEqual(a);
      expect(await target.getSession({ agentId: `${agentId}-copy`, sessionId: 's1', userId: 'ada' })).toMatchObject({ lastSeq: 2, runCount: 2 });
    });
    // Importing the same document again collides.
    const again = bin(['import', '--agent', `${agentId}-copy`, '--url', urls[to]!], { input: exported.stdout });
    expect(again.code).toBe(4);
  });
});

describe('the built bin: errors a script can act on', () => {
  it('a refused login is access_denied (exit 6) and the password is never printed', () => {
    const u = new URL(inject('postgresUrl'));
    u.username = 'no_such_role';
    u.password = 'Sup3rSecretPw';
    const r = bin(['list', '--agent', 'a', '--url', u.toString()]);
    expect(r.code, r.stderr).toBe(6);
    expect(r.stderr).toMatch(/^\[agent-sessions\] \[postgres\] /);
    expect(r.stdout + r.stderr).not.toContain('Sup3rSecretPw');
  });

  it('an unreachable server is unavailable (exit 5) within the bound, without the password', () => {
    const started = Date.now();
    const r = bin(['list', '--agent', 'a', '--timeout-ms', '3000'], { env: { AGENT_SESSIONS_URL: 'redis://:An0therSecret@127.0.0.1:1' } });
    expect(r.code, r.stderr).toBe(5);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(r.stdout + r.stderr).not.toContain('An0therSecret');
  });

  it('an unknown scheme is invalid_input (exit 2); a missing store package is not_implemented (exit 7) with what to install', () => {
    const bad = bin(['list', '--agent', 'a', '--url', 'sqlite://x']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('createStore cannot tell the store');
    // The bin beside core alone, as after `npx agent-sessions` without a store package.
    const lonely = mkdtempSync(join(tmpdir(), 'cli-lonely-'));
    mkdirSync(join(lonely, 'node_modules', '@agent-sessions'), { recursive: true });
    symlinkSync(join(dirname(BIN), '..', '..', 'core'), join(lonely, 'node_modules', '@agent-sessions', 'core'), 'dir');
    copyFileSync(BIN, join(lonely, 'cli.js'));
    const r = spawnSync(process.execPath, [join(lonely, 'cli.js'), 'list', '--agent', 'a', '--url', 'mongodb://u:Pw0rdSecret@127.0.0.1:1/x'], {
      cwd: lonely,
      encoding: 'utf8',
      env: cleanEnv(),
    });
    expect(r.status, r.stderr).toBe(7);
    expect(r.stderr).toContain('mongodb:// URLs need @agent-sessions/mongodb: npm install @agent-sessions/mongodb mongodb');
    expect(r.stderr).toContain('npx -p agent-sessions -p @agent-sessions/mongodb -p mongodb agent-sessions');
    expect(r.stderr).not.toContain('Pw0rdSecret');
  });
});
