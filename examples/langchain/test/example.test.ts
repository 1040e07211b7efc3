import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

it('runs the example offline: generated session, memory across wrappers, tools, a failed run, streaming, middleware', async () => {
  // Offline whatever the environment: no key, so the example uses fakeModel().
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  const { stdout } = await promisify(execFile)('pnpm', ['--silent', 'start'], { cwd: dir, env, timeout: 90_000 });
  expect(stdout.trim().split('\n')).toEqual([
    'model: fakeModel (offline)',
    'session: sess_… (generated)',
    'turn 1: Nice to meet you, Ada.',
    'turn 2: The forecast says: Sunny, 24°C in Lisbon.',
    'turn 3: failed (503 Service Unavailable)',
    // The fake model answers from the messages it was sent: this proves turns 1 and 2 were loaded.
    'turn 4 (streamed): You are Ada and you asked about Lisbon.',
    'stored runs: 1:completed 2:completed 3:failed 4:completed',
    'messages in run 2: human, ai, tool, ai',
    'middleware: You told me: "Remember: the meeting is on Friday."',
    'middleware: the thread holds 4 messages, the store 2 runs of 2 + 2',
  ]);
}, 120_000);
