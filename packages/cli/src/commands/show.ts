import { iterateRuns } from '@agent-sessions/core';
import { sessionCommand, sessionNotFound, type Command } from '../context.js';
import { headerText, runText } from '../render.js';

export const show: Command = sessionCommand(
  {
    name: 'show',
    summary: 'the whole transcript, oldest run first (failed and interrupted runs marked)',
    help: ['Items print as "role: text" where their shape is known (OpenAI Agents, LangChain, {role, content}), else as JSON.'],
  },
  async (ctx, ref, store) => {
    const header = await store.getSession(ref);
    if (!header) throw sessionNotFound(ref, store);
    await ctx.out(`${headerText(header)}\n`);
    let n = 0;
    for await (const run of iterateRuns(store, ref, { order: 'asc', pageSize: 100 })) {
      await ctx.out(runText(run));
      n += 1;
      ctx.progress.update(`reading runs: ${n} of ${header.lastSeq}`);
    }
    ctx.progress.done();
    if (n === 0) await ctx.out('(no runs)\n');
  },
);
