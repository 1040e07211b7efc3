import { AgentSessionsError, iterateRuns } from '@agent-sessions/core';
import { required, str } from '../args.js';
import type { Command } from '../context.js';
import { headerText, runText } from '../render.js';

export const show: Command = {
  name: 'show',
  usage: '<sessionId> --agent <agentId> [--user <userId>]',
  summary: 'the whole transcript, oldest run first (failed and interrupted runs marked)',
  help: ['Items print as "role: text" where their shape is known (OpenAI Agents, LangChain, {role, content}), else as JSON.'],
  options: { agent: { type: 'string', short: 'a' }, user: { type: 'string', short: 'u' } },
  positionals: { min: 1, max: 1, names: '<sessionId>' },
  async run(ctx) {
    const ref = { agentId: required(ctx.values, 'agent'), sessionId: ctx.positionals[0] ?? '', userId: str(ctx.values, 'user') };
    const store = await ctx.store();
    const header = await store.getSession(ref);
    if (!header) {
      throw new AgentSessionsError('not_found', `session '${ref.sessionId}' of agent '${ref.agentId}' not found`, { source: store.name });
    }
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
};
