import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

function demo(args: string[], env: Record<string, string> = {}): string {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/demo.ts', ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, OPENAI_API_KEY: '', ...env },
    timeout: 120_000,
  });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout;
}

// The same demo, in separate processes, against every kind of store: the second process
// knows what was said only if the session came back from storage.
const targets = (): { name: string; args: string[]; env: Record<string, string> }[] => [
  { name: 'pglite (the default)', args: [], env: { DEMO_DATA_DIR: mkdtempSync(join(tmpdir(), 'demo-')) } },
  { name: 'postgres', args: ['--url', inject('postgresUrl')], env: {} },
  { name: 'redis', args: ['--url', inject('redisUrl')], env: {} },
  { name: 'mongodb', args: ['--url', inject('mongodbUrl')], env: {} },
];

describe.each(targets())('the demo on $name', ({ args, env }) => {
  it('remembers across a process restart and lists the session', () => {
    const first = demo(['chat', ...args, "Hi, I'm Ada. My order number is 1234.", 'Where is my order?'], env);
    expect(first).toContain('Nice to meet you, Ada.');
    expect(first).toContain('order 1234 shipped yesterday');
    const sessionId = /session id: (sess_\S+)/.exec(first)?.[1];
    expect(sessionId).toBeTruthy();

    const second = demo(['chat', ...args, '--session', sessionId!, 'Do you remember what my name is?'], env);
    expect(second).toContain('2 earlier turns in storage');
    expect(second).toContain('You are Ada, and your order number is 1234.');

    const fresh = demo(['chat', ...args, 'Do you remember what my name is?'], env);
    expect(fresh).toContain('I do not know anything about you yet.');

    const list = demo(['list', ...args], env);
    expect(list).toContain(`${sessionId}  3 turns`);
    // The last step lists each session with its title (the first user text) and a preview of the
    // latest message, straight from the session headers.
    const entry = list.slice(list.indexOf(`${sessionId}  3 turns`)).split('\n').slice(0, 3).join('\n');
    expect(entry).toMatch(/\n {6}title: {3}Hi, I'm Ada\. My order number is 1234\.\n/);
    expect(entry).toMatch(/\n {6}preview: You are Ada, and your order number is 1234\.$/);
  }, 180_000);
});

describe('the demo with --summary', () => {
  it('reaches the name from turn 1 on turn 4 only through the summary', () => {
    const out = demo(['chat', '--url', 'memory://', '--summary', "Hi, I'm Ada.", 'My order number is 1234.', 'Where is my order?', 'What is my name?']);
    // Turn 4 is sent a window of 2 runs (turns 2 and 3) plus the summary of turn 1.
    expect(out).toContain('You are Ada');
    expect(out).toMatch(/summary \(covers runs 1-\d\): the user said: Hi, I'm Ada\./);
  }, 120_000);
});
