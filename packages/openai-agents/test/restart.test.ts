import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PostgresStore } from '@agent-sessions/postgres';
import { AgentSessionsSession, withSessionStorage } from '@agent-sessions/openai-agents';
import { Agent, run } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { inputProblems, requestInputs, texts, types, wipe } from './helpers.js';

// A real restart: an embedded PostgreSQL (PGlite) database in a directory, closed and opened
// again, with a new store over it each time. Nothing survives but what the database holds.
// One directory for the file: creating a PGlite database costs seconds, reopening it less than one.
const dir = mkdtempSync(join(tmpdir(), 'as-oa-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function openDatabase(dir: string) {
  const db = new PGlite(dir);
  const store = new PostgresStore({ client: db });
  return {
    store,
    close: async () => {
      await store.close();
      await db.close();
    },
  };
}

describe('sessions survive a restart (PGlite through @agent-sessions/postgres)', () => {
  it('withSessionStorage: memory and a pending approval carry over to a new store on the same database', async () => {
    const model = new ScriptedModel([
      [assistantMessage('Hello Ada')],
      [functionCall('wipe', { path: '/tmp/old' }, { callId: 'w7' })],
      [assistantMessage('Wiped /tmp/old.')],
      [assistantMessage('You are Ada, and /tmp/old is gone.')],
    ]);
    const agent = new Agent({ name: 'ops', model, tools: [wipe] });

    const before = await openDatabase(dir);
    const first = await withSessionStorage(agent, { store: before.store }).run('I am Ada', { userId: 'ada' });
    const asked = await withSessionStorage(agent, { store: before.store }).run('Wipe /tmp/old', {
      sessionId: first.sessionId,
      userId: 'ada',
    });
    expect(asked.interruptions).toHaveLength(1);
    await before.close();

    const after = await openDatabase(dir);
    const wrapped = withSessionStorage(agent, { store: after.store });
    const pending = await wrapped.getInterruption({ sessionId: first.sessionId, userId: 'ada' });
    expect(pending?.runId).toBe(asked.runId);
    pending!.state.approve(pending!.interruptions[0]!);
    const resumed = await wrapped.run(pending!.state, { sessionId: first.sessionId, userId: 'ada' });
    expect(resumed.finalOutput).toBe('Wiped /tmp/old.');
    const last = await wrapped.run('Who am I, and what did you do?', { sessionId: first.sessionId, userId: 'ada' });
    expect(last.finalOutput).toBe('You are Ada, and /tmp/old is gone.');

    const seen = requestInputs(model)[3]!;
    expect(texts(seen)).toEqual([
      'user: I am Ada',
      'assistant: Hello Ada',
      'user: Wipe /tmp/old',
      'assistant: Wiped /tmp/old.',
      'user: Who am I, and what did you do?',
    ]);
    expect(types(seen).filter((t) => t === 'function_call')).toHaveLength(1);
    expect(inputProblems(seen)).toEqual([]);
    const runs = await after.store.listRuns({ agentId: 'ops', sessionId: first.sessionId, limit: 10 });
    expect(runs.map((r) => r.status)).toEqual(['completed', 'interrupted', 'completed', 'completed']);
    await after.close();
  }, 120_000);

  it('AgentSessionsSession: a new Session over a reopened database continues the history', async () => {
    const model = new ScriptedModel([[assistantMessage('Noted: blue.')], [assistantMessage('Blue.')]]);
    const agent = new Agent({ name: 'prefs', model });

    const before = await openDatabase(dir);
    await run(agent, 'My favourite colour is blue.', {
      session: new AgentSessionsSession({ store: before.store, agentId: 'prefs', sessionId: 'p1' }),
    });
    await before.close();

    const after = await openDatabase(dir);
    const session = new AgentSessionsSession({ store: after.store, agentId: 'prefs', sessionId: 'p1' });
    const result = await run(agent, 'What is my favourite colour?', { session });
    expect(result.finalOutput).toBe('Blue.');
    expect(texts(requestInputs(model)[1]!)).toEqual([
      'user: My favourite colour is blue.',
      'assistant: Noted: blue.',
      'user: What is my favourite colour?',
    ]);
    expect(await session.getItems(100)).toHaveLength(4);
    await after.close();
  }, 120_000);
});
