import type { SessionHeader } from '@agent-sessions/core';
import { int, required, SESSION_OPTIONS, str } from '../args.js';
import type { Command } from '../context.js';
import { UsageError } from '../exit-codes.js';
import { sessionTable } from '../render.js';

function metadataFilter(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  const out: Record<string, string> = {};
  for (const p of pairs) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--metadata takes key=value, got '${p}'`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}

export const list: Command = {
  name: 'list',
  usage: '--agent <agentId> [--user <userId>] [--limit N] [--json] [--metadata key=value]... [--cursor C]',
  summary: "an agent's sessions, newest first: id, title, preview, runs, updated",
  help: [
    '--limit N         how many sessions (default 20); read in pages of up to 1000',
    '--json            one JSON object (the session header) per line instead of the table',
    '--metadata k=v    only sessions whose metadata has k equal to the string v (repeatable)',
    '--cursor C        continue after a previous listing (printed on stderr when there are more)',
  ],
  options: {
    ...SESSION_OPTIONS,
    limit: { type: 'string', short: 'n' },
    json: { type: 'boolean' },
    metadata: { type: 'string', multiple: true },
    cursor: { type: 'string' },
  },
  positionals: { min: 0, max: 0, names: '' },
  async run(ctx) {
    const agentId = required(ctx.values, 'agent');
    const userId = str(ctx.values, 'user');
    const limit = int(ctx.values, 'limit', 1) ?? 20;
    const metadata = metadataFilter(ctx.values.metadata as string[] | undefined);
    const json = ctx.values.json === true;
    const store = await ctx.store();
    const found: SessionHeader[] = [];
    let cursor: string | null = str(ctx.values, 'cursor') ?? null;
    while (found.length < limit) {
      const page = await store.listSessions({ agentId, userId, limit: Math.min(limit - found.length, 1000), cursor, metadata });
      for (const s of page.sessions) {
        if (json) await ctx.out(`${JSON.stringify(s)}\n`);
        found.push(s);
      }
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    if (!json) {
      if (found.length === 0) ctx.note(`no sessions for agent '${agentId}'${userId ? ` and user '${userId}'` : ''}\n`);
      else await ctx.out(sessionTable(found, ctx.io.columns ?? 100));
    }
    if (cursor) ctx.note(`more sessions: add --cursor ${cursor}\n`);
  },
};
