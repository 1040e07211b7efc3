import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';

const dir = fileURLToPath(new URL('..', import.meta.url));

it('runs the example offline: memory across a restart, tools, streaming, an approval resumed', async () => {
  // Offline whatever the environment: no key, so the example uses the scripted model.
  const env = { ...process.env };
  delete env.OPENAI_API_KEY;
  const { stdout } = await promisify(execFile)('pnpm', ['--silent', 'start'], { cwd: dir, env, timeout: 60_000 });
  const lines = stdout.trim().split('\n');
  expect(lines).toEqual([
    'model: scripted (offline)',
    expect.stringMatching(/^session: sess_…$/),
    'turn 1: Order 1234 shipped yesterday, Ada.',
    // The scripted model answers from the history it was sent: this proves the session carried turn 1.
    'turn 2: Your name is Ada.',
    'turn 3 (streamed): It should arrive within two days.',
    'turn 4: waiting for approval of refund_order',
    'turn 4 (approved): Order 1234 is refunded.',
    'stored runs: 1:completed 2:completed 3:completed 4:interrupted 5:completed',
    'items in the last run: message, function_call, function_call_result, message',
  ]);
}, 90_000);
