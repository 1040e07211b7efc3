// The demo behind `npm run demo`: one turn-taking process per invocation, so running it twice
// with the same session id shows the agent remembering across a process restart.
//
//   tsx src/demo.ts chat [--url URL] [--session ID] [--summary] "message" ["message" ...]
//   tsx src/demo.ts list [--url URL]
//
// URL defaults to an embedded PGlite database in ./.agent-sessions/demo; any createStore URL
// works: postgres://…, redis://…, mongodb://…, memory:// (forgets on exit).
import { createStore, withSessionStorage } from '@agent-sessions/core';
import { redactUrl } from '@agent-sessions/core/store';
import '@agent-sessions/openai-agents';
import { Agent, setTracingDisabled, tool } from '@openai/agents';
import { resolve } from 'node:path';
import { z } from 'zod';
import { lastSeen, offlineModel } from './model.js';

const args = process.argv.slice(2);
const command = args.shift() ?? 'chat';
const flag = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const [, value] = args.splice(i, 2);
  return value;
};
const dataDir = resolve(process.env.DEMO_DATA_DIR ?? '.agent-sessions/demo');
const url = flag('url') ?? process.env.AGENT_SESSIONS_URL ?? `pglite://${dataDir}`;
const sessionFlag = flag('session');
// --summary: a window of 2 runs, with what leaves it folded into the session's summary by an
// offline summarizer (no model call: it keeps each folded turn's first user line).
const summaryAt = args.indexOf('--summary');
const withSummary = summaryAt >= 0;
if (withSummary) args.splice(summaryAt, 1);
const online = Boolean(process.env.OPENAI_API_KEY);
if (!online) setTracingDisabled(true);

const dim = (s: string) => (process.stdout.isTTY ? `\x1b[2m${s}\x1b[0m` : s);
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

const store = await createStore(url);
const agentId = 'demo-support';
const where = url.startsWith('pglite://') ? `PGlite files in ${url.slice('pglite://'.length)}` : redactUrl(url);

try {
  if (command === 'list') {
    const page = await store.listSessions({ agentId, limit: 10 });
    console.log(bold(`Sessions of agent '${agentId}' in ${where}, newest first:`));
    if (page.sessions.length === 0) console.log('  (none yet)');
    // The header carries what a sidebar shows (title, latest message, run count), kept current by
    // each append: one query for the whole list, no read per session.
    const clip = (text: string | null, max: number) => {
      const flat = (text ?? '').replace(/\s+/g, ' ').trim();
      return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
    };
    for (const s of page.sessions) {
      console.log(`  ${s.sessionId}  ${s.runCount} turns  last active ${new Date(s.updatedAt).toISOString()}`);
      console.log(`      title:   ${clip(s.title, 70) || dim('(none)')}`);
      console.log(`      preview: ${clip(s.preview, 70) || dim('(none)')}`);
    }
    if (page.sessions.length > 0) {
      console.log(dim(`  the same from a shell: npx agent-sessions list --agent ${agentId} --url <store-url>`));
    }
  } else if (command === 'chat') {
    const lookupOrder = tool({
      name: 'lookup_order',
      description: 'Looks up the shipping status of an order.',
      parameters: z.object({ orderId: z.string() }),
      execute: async ({ orderId }) => `order ${orderId} shipped yesterday and arrives tomorrow`,
    });
    const agent = new Agent({
      name: 'support',
      instructions: 'You are a brief support agent. Remember what the user tells you. Use lookup_order for order status.',
      model: online ? (process.env.OPENAI_MODEL ?? 'gpt-4.1-mini') : offlineModel(),
      tools: [lookupOrder],
    });
    // One import per framework above; this call works for any registered framework's agent.
    const support = withSessionStorage(agent, {
      store,
      agentId,
      ...(withSummary
        ? {
            window: { lastRuns: 2 },
            summary: {
              await: true,
              summarizer: async (previous: string | null, runs: readonly { items: unknown[] }[]) => {
                const said = runs.map((r) => {
                  const first = r.items.find((i) => (i as { role?: string }).role === 'user') as { content?: unknown } | undefined;
                  return typeof first?.content === 'string' ? `the user said: ${first.content}` : null;
                });
                return [previous, ...said].filter(Boolean).join('\n');
              },
            },
          }
        : {}),
    });
    console.log(dim(`store: ${where} · model: ${online ? 'OpenAI' : 'offline (scripted, reads only what it is sent)'}`));
    let sessionId = sessionFlag;
    if (sessionId) {
      const before = await store.getSession({ agentId, sessionId });
      console.log(dim(`resuming session ${sessionId}: ${before ? `${before.lastSeq} earlier turns in storage` : 'not found, starting it'}`));
    }
    for (const message of args) {
      console.log(`${bold('you')}   ${message}`);
      const result = await support.run(message, { sessionId });
      sessionId = result.sessionId;
      console.log(`${bold('agent')} ${String(result.finalOutput)}`);
      if (!online) console.log(dim(`      (the model was sent ${lastSeen.items} item${lastSeen.items === 1 ? '' : 's'}: this turn and the history loaded from storage)`));
    }

    if (withSummary && sessionId) {
      const header = await store.getSession({ agentId, sessionId });
      console.log(dim(`summary (covers runs 1-${header?.summarySeq ?? 0}): ${header?.summary ?? '(none yet)'}`));
    }
    console.log(dim(`session id: ${sessionId}`));
  } else {
    console.error(`unknown command '${command}': use chat or list`);
    process.exitCode = 2;
  }
} finally {
  // A failure above is the one worth reporting; a second one from close() must not hide it.
  await store.close().catch(() => {});
}
