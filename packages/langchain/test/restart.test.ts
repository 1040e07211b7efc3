import { rmSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PostgresStore } from '@agent-sessions/postgres';
import { sessionStorageMiddleware, withSessionStorage } from '@agent-sessions/langchain';
import { HumanMessage } from '@langchain/core/messages';
import { createAgent } from 'langchain';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../../../test/services/util.js';
import { answering, describeItems, describeMessages, getWeather, runsOf, weatherModel } from './helpers.js';

// A PostgreSQL database on disk (PGlite): each "process" opens it, builds its own store and
// agent, and closes it again, as an app does across a restart.
const dataDir = tempDir('langchain-restart');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function processLifetime<T>(work: (store: PostgresStore) => Promise<T>): Promise<T> {
  const db = new PGlite(dataDir);
  try {
    return await work(new PostgresStore({ client: db }));
  } finally {
    await db.close();
  }
}

describe('memory across a restart (PGlite through @agent-sessions/postgres)', () => {
  it('a wrapped agent remembers tool calls and results from the previous process', { timeout: 90_000 }, async () => {
    await processLifetime(async (store) => {
      const model = weatherModel('Nairobi', 'Sunny in Nairobi.');
      const agent = withSessionStorage(createAgent({ model, tools: [getWeather] }), { store });
      await agent.invoke({ messages: [new HumanMessage('Weather in Nairobi?')] }, { configurable: { sessionId: 'restart-1' } });
    });

    const model = answering('Nairobi.');
    await processLifetime(async (store) => {
      const agent = withSessionStorage(createAgent({ model, tools: [getWeather] }), { store });
      const out = await agent.invoke({ messages: [new HumanMessage('Which city?')] }, { configurable: { sessionId: 'restart-1' } });
      expect(out.messages.at(-1)!.content).toBe('Nairobi.');
      expect((await runsOf(store, 'restart-1')).map(describeItems)).toEqual([
        ['human:Weather in Nairobi?', 'ai:Weather in Nairobi?', 'tool:It is sunny in Nairobi.', 'ai:Sunny in Nairobi.'],
        ['human:Which city?', 'ai:Nairobi.'],
      ]);
    });
    expect(describeMessages(model.calls[0]!.messages)).toEqual([
      'human:Weather in Nairobi?',
      'ai:Weather in Nairobi?',
      'tool:It is sunny in Nairobi.',
      'ai:Sunny in Nairobi.',
      'human:Which city?',
    ]);
  });

  it('an agent with the middleware resumes a generated session after the restart', { timeout: 90_000 }, async () => {
    const sessionId = await processLifetime(async (store) => {
      const model = answering('Noted: 7 pm.');
      const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store, agentId: 'scheduler' })] });
      const out = await agent.invoke({ messages: [new HumanMessage('Dinner is at 7 pm.')] });
      return out.sessionId;
    });
    expect(sessionId).toMatch(/^sess_/);

    const model = answering('At 7 pm.');
    await processLifetime(async (store) => {
      const agent = createAgent({ model, tools: [], middleware: [sessionStorageMiddleware({ store, agentId: 'scheduler' })] });
      await agent.invoke({ messages: [new HumanMessage('When is dinner?')] }, { configurable: { sessionId } });
    });
    expect(describeMessages(model.calls[0]!.messages)).toEqual(['human:Dinner is at 7 pm.', 'ai:Noted: 7 pm.', 'human:When is dinner?']);
  });
});
