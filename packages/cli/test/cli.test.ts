import { writeFileSync, readFileSync, mkdtempSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AgentSessionsError, MemoryStore, type JsonValue } from '@agent-sessions/core';
import { describe, expect, it } from 'vitest';
import { EXIT_CODES } from '../src/index.js';
import { cli } from './helpers.js';

const URL = ['--url', 'memory://'];

/** A store with sessions in two formats, two users and two agents; each call one second after the last unless `clock` is given. */
async function seeded(clock?: () => number) {
  let t = Date.parse('2025-03-01T10:00:00Z');
  const store = new MemoryStore({ clock: clock ?? (() => (t += 1000)) });
  const agentId = 'support';
  // OpenAI Agents items: a message, a tool call and its result, an answer.
  await store.appendRun({
    agentId,
    sessionId: 's-openai',
    userId: 'ada',
    format: 'openai-agents',
    title: 'Where is my order?',
    preview: 'It shipped yesterday.',
    usage: { requests: 2, inputTokens: 30, outputTokens: 12, totalTokens: 42 },
    items: [
      { type: 'message', role: 'user', content: 'Where is my order 1234?' },
      { type: 'function_call', name: 'lookup_order', arguments: '{"orderId":"1234"}', callId: 'c1' },
      { type: 'function_call_result', name: 'lookup_order', callId: 'c1', output: { type: 'text', text: 'shipped yesterday' } },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'It shipped yesterday.' }] },
    ],
  });
  await store.appendRun({
    agentId,
    sessionId: 's-openai',
    userId: 'ada',
    format: 'openai-agents',
    status: 'failed',
    metadata: { outcome: 'failed', error: { name: 'Error', message: 'model timed out' } },
    items: [{ type: 'message', role: 'user', content: 'And the second one?' }],
  });
  await store.appendRun({
    agentId,
    sessionId: 's-openai',
    userId: 'ada',
    format: 'openai-agents',
    status: 'interrupted',
    metadata: { outcome: 'interrupted' },
    items: [{ weird: ['shape', 1] }],
  });
  // LangChain stored messages.
  await store.appendRun({
    agentId,
    sessionId: 's-lc',
    userId: 'bob',
    format: 'langchain',
    title: 'Weather in Paris',
    preview: 'Sunny, 21 °C.',
    items: [
      { type: 'human', data: { content: 'Weather in Paris?', id: 'm1' } },
      { type: 'ai', data: { content: '', id: 'm2', tool_calls: [{ id: 't1', name: 'weather', args: { city: 'Paris' } }] } },
      { type: 'tool', data: { content: 'sunny 21', tool_call_id: 't1', name: 'weather', id: 'm3' } },
      { type: 'ai', data: { content: 'Sunny, 21 °C.', id: 'm4' } },
    ] as JsonValue[],
  });
  await store.appendRun({ agentId: 'other', sessionId: 's-other', userId: 'ada', format: 'plain', items: [{ role: 'user', content: 'hi' }] });
  return store;
}

describe('list', () => {
  it('prints a table with id, title, preview, runs and updated, newest first', async () => {
    const store = await seeded();
    const r = await cli(store, ['list', '--agent', 'support', ...URL]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+TITLE\s+PREVIEW\s+RUNS\s+UPDATED$/);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/^s-lc\s+Weather in Paris\s+Sunny, 21 °C\.\s+1\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    expect(lines[2]).toMatch(/^s-openai\s+Where is my order\?\s+It shipped yesterday\.\s+3\s+/);
  });

  it('--json prints one session header per line; --user filters', async () => {
    const store = await seeded();
    const r = await cli(store, ['list', '--agent', 'support', '--user', 'ada', '--json', ...URL]);
    expect(r.code).toBe(0);
    const rows = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { sessionId: string; title: string; runCount: number; usage: { totalTokens: number } });
    expect(rows.map((s) => s.sessionId)).toEqual(['s-openai']);
    expect(rows[0]).toMatchObject({ title: 'Where is my order?', runCount: 3, usage: { totalTokens: 42 } });
  });

  it('--limit pages and says how to continue; --cursor continues', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 5; i++) await store.appendRun({ agentId: 'a', sessionId: `s${i}`, format: 'plain', items: [i] });
    const first = await cli(store, ['list', '--agent', 'a', '--limit', '3', '--json', ...URL]);
    expect(first.stdout.trim().split('\n')).toHaveLength(3);
    const cursor = /--cursor (\S+)/.exec(first.stderr)?.[1];
    expect(cursor).toBeTruthy();
    const rest = await cli(store, ['list', '--agent', 'a', '--cursor', cursor!, '--json', ...URL]);
    const all = [...first.stdout.trim().split('\n'), ...rest.stdout.trim().split('\n')].map((l) => (JSON.parse(l) as { sessionId: string }).sessionId);
    expect(new Set(all).size).toBe(5);
    expect(rest.stderr).not.toContain('--cursor');
  });

  it('--metadata filters by metadata equality', async () => {
    const store = new MemoryStore();
    await store.appendRun({ agentId: 'a', sessionId: 'x', format: 'plain', items: [1], sessionMetadata: { channel: 'web' } });
    await store.appendRun({ agentId: 'a', sessionId: 'y', format: 'plain', items: [1], sessionMetadata: { channel: 'sms' } });
    const r = await cli(store, ['list', '--agent', 'a', '--metadata', 'channel=sms', '--json', ...URL]);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { sessionId: string }).sessionId)).toEqual(['y']);
    const bad = await cli(store, ['list', '--agent', 'a', '--metadata', 'channel', ...URL]);
    expect(bad.code).toBe(EXIT_CODES.invalid_input);
  });
});

describe('show', () => {
  it('renders the transcript: roles and text, tool calls and results, failed and interrupted runs marked, JSON otherwise', async () => {
    const store = await seeded();
    const r = await cli(store, ['show', 's-openai', '--agent', 'support', ...URL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('title    Where is my order?');
    expect(r.stdout).toContain('usage    2 requests, 30 in, 12 out, 42 total tokens');
    expect(r.stdout).toMatch(/#1 {2}completed {2}\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\n/);
    expect(r.stdout).toContain('    user: Where is my order 1234?');
    expect(r.stdout).toContain('    tool call lookup_order({"orderId":"1234"})');
    expect(r.stdout).toContain('    tool result lookup_order: shipped yesterday');
    expect(r.stdout).toContain('    assistant: It shipped yesterday.');
    expect(r.stdout).toMatch(/#2 {2}failed {2}\S+ \S+ {2}\[FAILED\] {2}Error: model timed out\n {4}user: And the second one\?/);
    expect(r.stdout).toMatch(/#3 {2}interrupted {2}\S+ \S+ {2}\[INTERRUPTED\]\n {4}\{"weird":\["shape",1\]\}/);
  });

  it('renders LangChain stored messages', async () => {
    const store = await seeded();
    const r = await cli(store, ['show', 's-lc', '--agent', 'support', ...URL]);
    expect(r.stdout).toContain('    user: Weather in Paris?');
    expect(r.stdout).toContain('    tool call weather({"city":"Paris"})');
    expect(r.stdout).toContain('    tool result weather: sunny 21');
    expect(r.stdout).toContain('    assistant: Sunny, 21 °C.');
  });

  it('is not_found (exit 3) for an absent session or another user', async () => {
    const store = await seeded();
    const absent = await cli(store, ['show', 'nope', '--agent', 'support', ...URL]);
    expect(absent.code).toBe(EXIT_CODES.not_found);
    expect(absent.stderr).toContain("session 'nope' of agent 'support' not found");
    const other = await cli(store, ['show', 's-openai', '--agent', 'support', '--user', 'bob', ...URL]);
    expect(other.code).toBe(3);
    expect(other.stdout).toBe('');
  });
});

describe('export and import', () => {
  it('export → import moves a session to another store unchanged', async () => {
    const source = await seeded();
    const exported = await cli(source, ['export', 's-openai', '--agent', 'support', ...URL]);
    expect(exported.code).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    expect(lines).toHaveLength(4);
    expect(JSON.parse(lines[0]!)).toMatchObject({ format: 'agent-sessions.session', version: 1 });

    const target = new MemoryStore();
    const imported = await cli(target, ['import', '-', ...URL], { stdin: exported.stdout });
    expect(imported.code).toBe(0);
    expect(imported.stdout).toContain("imported session 's-openai' of agent 'support' (3 runs)");
    const ref = { agentId: 'support', sessionId: 's-openai' };
    expect(await target.listRuns({ ...ref, limit: 10 })).toEqual(await source.listRuns({ ...ref, limit: 10 }));
    const [a, b] = [await source.getSession(ref), await target.getSession(ref)];
    expect(b).toMatchObject({ userId: 'ada', title: a!.title, preview: a!.preview, usage: a!.usage, runCount: 3, lastSeq: 3 });
  });

  it('export --out writes a file that import reads (under another agent, id and user)', async () => {
    const source = await seeded();
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const file = join(dir, 'lc.jsonl');
    const r = await cli(source, ['export', 's-lc', '--agent', 'support', '--out', file, ...URL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(existsSync(`${file}.partial`)).toBe(false);
    const target = new MemoryStore();
    const i = await cli(target, ['import', file, '--agent', 'copy', '--session', 'lc2', '--user', 'carol', ...URL]);
    expect(i.code).toBe(0);
    expect(await target.getSession({ agentId: 'copy', sessionId: 'lc2', userId: 'carol' })).toMatchObject({ runCount: 1, title: 'Weather in Paris' });
    // Importing it again collides: conflict.
    const again = await cli(target, ['import', file, '--agent', 'copy', '--session', 'lc2', ...URL]);
    expect(again.code).toBe(EXIT_CODES.conflict);
    expect(again.stderr).toContain('already exists');
  });

  it('a failed export leaves no file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-'));
    const file = join(dir, 'x.jsonl');
    const r = await cli(new MemoryStore(), ['export', 'nope', '--agent', 'a', '--out', file, ...URL]);
    expect(r.code).toBe(EXIT_CODES.not_found);
    expect(existsSync(file)).toBe(false);
    expect(existsSync(`${file}.partial`)).toBe(false);
  });

  it('a broken document fails with invalid_input naming the line and writes nothing', async () => {
    const source = await seeded();
    const doc = (await cli(source, ['export', 's-openai', '--agent', 'support', ...URL])).stdout.split('\n');
    const target = new MemoryStore();
    const gap = [doc[0], doc[1], doc[3]].join('\n');
    const r = await cli(target, ['import', ...URL], { stdin: gap });
    expect(r.code).toBe(EXIT_CODES.invalid_input);
    expect(r.stderr).toContain('line 3');
    const broken = await cli(target, ['import', ...URL], { stdin: `${doc[0]}\n{not json\n` });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('line 2: is not JSON');
    expect((await target.listSessions({ agentId: 'support' })).sessions).toEqual([]);
  });

  it('import refuses a terminal as input and a missing file (exit 2)', async () => {
    const tty = await cli(new MemoryStore(), ['import', ...URL], { tty: true });
    expect(tty.code).toBe(2);
    expect(tty.stderr).toContain('give a file to import');
    const missing = await cli(new MemoryStore(), ['import', '/nonexistent/file.jsonl', ...URL]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('ENOENT');
  });

  it('shows progress on stderr only when it is a terminal', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 3; i++) await store.appendRun({ agentId: 'a', sessionId: 'big', format: 'plain', items: ['x'.repeat(10)] });
    const quiet = await cli(store, ['export', 'big', '--agent', 'a', ...URL]);
    expect(quiet.stderr).toBe('');
    const tty = await cli(store, ['export', 'big', '--agent', 'a', ...URL], { tty: true });
    expect(tty.stderr).toContain('\r\x1b[2Kexported ');
    expect(tty.stdout.trim().split('\n')).toHaveLength(4);
  });
});

describe('fork and delete', () => {
  it('fork copies up to --through-seq under --new-id and prints the id', async () => {
    const store = await seeded();
    const r = await cli(store, ['fork', 's-openai', '--agent', 'support', '--through-seq', '1', '--new-id', 'f1', ...URL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('f1\n');
    expect(await store.getSession({ agentId: 'support', sessionId: 'f1' })).toMatchObject({ runCount: 1, userId: 'ada' });
    expect((await store.getSession({ agentId: 'support', sessionId: 's-openai' }))?.runCount).toBe(3);
    const auto = await cli(store, ['fork', 's-openai', '--agent', 'support', ...URL]);
    expect(auto.stdout.trim()).toMatch(/^sess_/);
    const bad = await cli(store, ['fork', 's-openai', '--agent', 'support', '--through-seq', 'x', ...URL]);
    expect(bad.code).toBe(2);
  });

  it('delete removes a session; a second delete is not_found (exit 3)', async () => {
    const store = await seeded();
    const r = await cli(store, ['delete', 's-lc', '--agent', 'support', ...URL]);
    expect(r.code).toBe(0);
    expect(await store.getSession({ agentId: 'support', sessionId: 's-lc' })).toBeNull();
    expect((await cli(store, ['delete', 's-lc', '--agent', 'support', ...URL])).code).toBe(3);
  });
});

describe('delete-user', () => {
  it('--dry-run counts across agents and deletes nothing; then it deletes and prints counts', async () => {
    const store = await seeded();
    const dry = await cli(store, ['delete-user', 'ada', '--dry-run', ...URL]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe("user 'ada' owns 2 sessions (4 runs) in all agents\n");
    expect(await store.getSession({ agentId: 'other', sessionId: 's-other' })).not.toBeNull();
    const one = await cli(store, ['delete-user', 'ada', '--agent', 'other', ...URL]);
    expect(one.stdout).toBe("user 'ada' owns 1 session (1 run) in agent 'other'\ndeleted 1 session (1 run) of user 'ada'\n");
    const rest = await cli(store, ['delete-user', 'ada', ...URL]);
    expect(rest.stdout).toContain('deleted 1 session (3 runs)');
    expect(await store.getSession({ agentId: 'support', sessionId: 's-openai' })).toBeNull();
    expect(await store.getSession({ agentId: 'support', sessionId: 's-lc' })).not.toBeNull();
  });

  it('on a terminal it asks first, and "n" deletes nothing', async () => {
    const store = await seeded();
    const no = await cli(store, ['delete-user', 'bob', ...URL], { tty: true, stdin: 'n\n' });
    expect(no.code).toBe(0);
    expect(no.stderr).toContain('delete them all? [y/N]');
    expect(no.stderr).toContain('nothing deleted');
    expect(await store.getSession({ agentId: 'support', sessionId: 's-lc' })).not.toBeNull();
    const yes = await cli(store, ['delete-user', 'bob', ...URL], { tty: true, stdin: 'y\n' });
    expect(yes.stdout).toContain("deleted 1 session (1 run) of user 'bob'");
    expect(await store.getSession({ agentId: 'support', sessionId: 's-lc' })).toBeNull();
  });
});

describe('prune and migrate', () => {
  it('prune --runs-older-than removes old runs and prints counts', async () => {
    let now = Date.parse('2025-01-01T00:00:00Z');
    const store = await seeded(() => now);
    now += 40 * 86_400_000;
    await store.appendRun({ agentId: 'support', sessionId: 's-new', format: 'plain', items: [1] });
    const r = await cli(store, ['prune', '--agent', 'support', '--runs-older-than', '30d', ...URL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^removed \d+ sessions? and 4 runs\n$/);
    const bad = await cli(store, ['prune', '--runs-older-than', 'soon', ...URL]);
    expect(bad.code).toBe(EXIT_CODES.invalid_input);
  });

  it('migrate runs setup', async () => {
    const r = await cli(new MemoryStore(), ['migrate', ...URL]);
    expect(r).toMatchObject({ code: 0, stdout: 'the memory store is set up\n' });
  });
});

describe('usage, exit codes and messages', () => {
  it('usage mistakes exit 2 with the usage line', async () => {
    const store = new MemoryStore();
    for (const argv of [['nope'], ['list', ...URL], ['show', '--agent', 'a', ...URL], ['list', '--agent', 'a', '--bogus', ...URL], ['list', '--agent', 'a', '--limit', '0', ...URL]]) {
      const r = await cli(store, argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/usage: agent-sessions|agent-sessions --help/);
    }
    const noUrl = await cli(undefined, ['list', '--agent', 'a']);
    expect(noUrl.code).toBe(2);
    expect(noUrl.stderr).toContain('AGENT_SESSIONS_URL');
  });

  it('--help prints usage and exits 0; no command exits 2', async () => {
    expect((await cli(undefined, ['--help'])).stdout).toContain('Exit codes: 0 ok');
    expect((await cli(undefined, ['export', '--help'])).stdout).toContain('Usage: agent-sessions export <sessionId>');
    expect((await cli(undefined, [])).code).toBe(2);
  });

  it('invalid ids are invalid_input (exit 2) with the error message', async () => {
    const r = await cli(new MemoryStore(), ['show', 'x', '--agent', 'a'.repeat(300), ...URL]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^\[agent-sessions\] \[memory\] /);
  });

  it.each([
    ['unavailable', 5],
    ['access_denied', 6],
    ['not_implemented', 7],
    ['conflict', 4],
    ['internal', 1],
  ] as const)('%s exits %i', async (code, exit) => {
    const r = await cli(undefined, ['migrate', ...URL], {
      openStore: async () => {
        throw new AgentSessionsError(code, `it went ${code}`, { source: 'fake' });
      },
    });
    expect(r.code).toBe(exit);
    expect(r.stderr).toBe(`[agent-sessions] [fake] it went ${code}\n`);
  });

  it('a non-library error exits 1', async () => {
    const r = await cli(undefined, ['migrate', ...URL], { openStore: () => Promise.reject(new TypeError('boom')) });
    expect(r).toMatchObject({ code: 1, stderr: '[agent-sessions] internal error: boom\n' });
  });

  it('never prints the credentials of the store URL, from the flag or the environment', async () => {
    const url = 'postgres://admin:s3cr%40t-pw@db.internal:5432/app?sslpassword=other-secret';
    const leak = async () => {
      throw new AgentSessionsError('unavailable', `cannot reach ${url} (password s3cr@t-pw, s3cr%40t-pw) other-secret`, { source: 'postgres' });
    };
    for (const opts of [{ argv: ['list', '--agent', 'a', '--url', url], env: {} as Record<string, string> }, { argv: ['list', '--agent', 'a'], env: { AGENT_SESSIONS_URL: url } }]) {
      const r = await cli(undefined, opts.argv, { openStore: leak, env: opts.env });
      expect(r.code).toBe(5);
      const all = r.stdout + r.stderr;
      expect(all).toContain('admin:***@db.internal');
      expect(all).not.toMatch(/s3cr|other-secret/);
    }
  });
});

describe('the README', () => {
  it("'From code': run() with the process's own stdin and env types returns the exit status", async () => {
    const { run } = await import('../src/index.js');
    let out = '';
    const code = await run(['list', '--agent', 'support', '--json', '--url', 'memory://'], {
      stdout: { write: (t: string) => (out += t) },
      stderr: process.stderr,
      stdin: process.stdin,
      env: process.env,
    });
    expect(code).toBe(0);
    expect(out).toBe('');
  });
});
