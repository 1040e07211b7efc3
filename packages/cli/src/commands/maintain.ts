import { countUserData, deleteUserData } from '@agent-sessions/core';
import { str } from '../args.js';
import { sessionCommand, sessionNotFound, type Command, type Context } from '../context.js';

export const deleteCommand: Command = sessionCommand(
  {
    name: 'delete',
    summary: 'deletes a session with all its runs',
    help: ['Exit 3 (not_found) when the session does not exist for this agent (and user).'],
  },
  async (ctx, ref, store) => {
    if (!(await store.deleteSession(ref))) throw sessionNotFound(ref, store);
    await ctx.out(`deleted session '${ref.sessionId}' of agent '${ref.agentId}'\n`);
  },
);

async function confirm(ctx: Context, question: string): Promise<boolean> {
  ctx.io.stderr.write(`${question} [y/N] `);
  for await (const chunk of ctx.io.stdin) {
    const answer = (typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')).trim();
    return /^y(es)?$/i.test(answer);
  }
  return false;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const deleteUser: Command = {
  name: 'delete-user',
  usage: '<userId> [--agent <agentId>] [--dry-run] [--yes]',
  summary: "erases every session a user owns, in every agent (or one); counts first",
  help: [
    '--dry-run   only count',
    '--yes       do not ask (it asks only when stdin and stderr are a terminal)',
    'Prints the counts before deleting and what was deleted after. Safe to run again after a failure.',
  ],
  options: { agent: { type: 'string', short: 'a' }, 'dry-run': { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  positionals: { min: 1, max: 1, names: '<userId>' },
  async run(ctx) {
    const userId = ctx.positionals[0] ?? '';
    const agentId = str(ctx.values, 'agent');
    const where = agentId ? `agent '${agentId}'` : 'all agents';
    const store = await ctx.store();
    let counted;
    try {
      counted = await countUserData(store, {
        userId,
        agentId,
        onProgress: (c) => ctx.progress.update(`counting: ${plural(c.sessions, 'session')}, ${plural(c.runs, 'run')}`),
      });
    } finally {
      ctx.progress.done();
    }
    await ctx.out(`user '${userId}' owns ${plural(counted.sessions, 'session')} (${plural(counted.runs, 'run')}) in ${where}\n`);
    if (ctx.values['dry-run'] || counted.sessions === 0) return;
    if (!ctx.values.yes && ctx.io.stdin.isTTY && ctx.io.stderr.isTTY) {
      if (!(await confirm(ctx, `delete them all?`))) {
        ctx.note('nothing deleted\n');
        return;
      }
    }
    let deleted;
    try {
      deleted = await deleteUserData(store, {
        userId,
        agentId,
        onProgress: (d) => ctx.progress.update(`deleted ${d.sessions} of ${counted.sessions} sessions`),
      });
    } finally {
      ctx.progress.done();
    }
    await ctx.out(`deleted ${plural(deleted.sessions, 'session')} (${plural(deleted.runs, 'run')}) of user '${userId}'\n`);
  },
};

export const prune: Command = {
  name: 'prune',
  usage: '[--agent <agentId>] [--runs-older-than <duration>]',
  summary: 'removes expired sessions and, with --runs-older-than (30d, 24h, 90m, ms), older runs',
  help: ['Without --agent every agent of the store is pruned. Not bounded by --timeout-ms.'],
  options: { agent: { type: 'string', short: 'a' }, 'runs-older-than': { type: 'string' } },
  positionals: { min: 0, max: 0, names: '' },
  async run(ctx) {
    const store = await ctx.store();
    const started = Date.now();
    const tick = setInterval(() => ctx.progress.update(`pruning… ${Math.round((Date.now() - started) / 1000)} s`, true), 1000);
    let res;
    try {
      const age = str(ctx.values, 'runs-older-than');
      res = await store.prune({ agentId: str(ctx.values, 'agent'), runsOlderThan: age !== undefined && /^\d+$/.test(age) ? Number(age) : age });
    } finally {
      clearInterval(tick);
      ctx.progress.done();
    }
    await ctx.out(`removed ${plural(res.sessions, 'session')} and ${plural(res.runs, 'run')}\n`);
  },
};

export const migrate: Command = {
  name: 'migrate',
  usage: '',
  summary: "runs the store's setup now: migrations (Postgres), indexes (MongoDB), scripts (Redis)",
  help: ['For deploy pipelines that run stores with migrate: false / createIndexes: false.'],
  options: {},
  positionals: { min: 0, max: 0, names: '' },
  async run(ctx) {
    const store = await ctx.store();
    await store.setup();
    await ctx.out(`the ${store.name} store is set up\n`);
  },
};
