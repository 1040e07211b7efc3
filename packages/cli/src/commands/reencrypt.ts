import { AgentSessionsError, reencryptSession } from '@agent-sessions/core';
import { ONE_SESSION, sessionRef } from '../args.js';
import { sessionNotFound, type Command } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { ENCRYPTION_ENV } from '../open.js';

export const reencrypt: Command = {
  ...ONE_SESSION,
  name: 'reencrypt',
  summary: "seals a session's items, state, summary, title and preview again with the current key",
  help: [
    `Needs ${ENCRYPTION_ENV}: a key ring whose "current" key is the new one and which still holds`,
    'every old key the session was sealed with, e.g.',
    `  ${ENCRYPTION_ENV}='{"current":"k2","keys":{"k1":"<old key>","k2":"<new key>"}}'`,
    'Prints the counts as JSON. Safe to run again; once it reports runsOnOtherKeys 0 and no',
    'headerFieldsOnOtherKeys for every session, the old key can leave the ring.',
    'Exit 4 (conflict) when runs were left on old keys (changed while rewritten): run it again.',
  ],
  async run(ctx) {
    const ref = sessionRef(ctx);
    // Before the store is opened: without keys there is nothing to do.
    if (!ctx.encrypted) throw new UsageError(`reencrypt needs the key ring in ${ENCRYPTION_ENV}`);
    const store = await ctx.store();
    const result = await reencryptSession(store as unknown as Parameters<typeof reencryptSession>[0], ref);
    if (!result.found) throw sessionNotFound(ref, store);
    await ctx.out(`${JSON.stringify(result)}\n`);
    if (result.runsSkipped > 0) {
      throw new AgentSessionsError('conflict', `${result.runsSkipped} runs are still sealed with other keys (they changed while being rewritten): run reencrypt again`, {
        source: store.name,
      });
    }
  },
};
