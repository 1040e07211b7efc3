import { isAgentSessionsError } from '@agent-sessions/core';
import { expect } from 'vitest';

/** What the encryption tests store and then look for in the raw data. */
export const SECRET = 'the launch code is 0000';

/**
 * Expects `p` to fail with an `internal` AgentSessionsError whose message matches `pattern`: how
 * a sealed value that does not open (tampered with, moved, on an unknown key, or clear where it
 * should be sealed) fails.
 */
export async function rejectsInternal(p: Promise<unknown>, pattern = /does not decrypt|not in the key ring|unencrypted/): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isAgentSessionsError(err, 'internal'), `expected an internal error, got ${String(err)}`).toBe(true);
  expect((err as Error).message).toMatch(pattern);
}
