import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { MongoStore } from '@agent-sessions/mongodb';
import { mongoServer, randomDatabase } from './helpers.js';

const { url, server } = mongoServer();
const database = randomDatabase('rtt');
const client = new MongoClient(url, { maxPoolSize: 1, monitorCommands: true });
const commands: string[] = [];
client.on('commandStarted', (e) => commands.push(e.commandName));
afterAll(async () => {
  await client.db(database).dropDatabase();
  await client.close();
});

/** The commands one turn sends on an existing session: read the history, append one run. */
async function turn(s: MongoStore, r: { agentId: string; sessionId: string }, i: number): Promise<string[]> {
  commands.length = 0;
  const h = await s.readHistory({ ...r, limit: 10 });
  await s.appendRun({ ...r, format: 'plain', items: [`turn ${i}`], expectedLastSeq: h.session?.lastSeq ?? 0 });
  return [...commands];
}

describe(`commands per turn (on ${server})`, () => {
  for (const atomicUpdates of [true, false]) {
    it(`${atomicUpdates ? 'compare-and-set' : 'locked'} path: a steady-state turn`, async () => {
      const s = new MongoStore({ client, database, atomicUpdates });
      await s.setup();
      const r = { agentId: `a-${atomicUpdates}`, sessionId: 's' };
      for (let i = 0; i < 3; i++) await turn(s, r, i);
      const sent = await turn(s, r, 3);
      console.log(`[roundtrips] ${atomicUpdates ? 'compare-and-set' : 'locked'} path: ${sent.length} commands per turn: ${sent.join(', ')}`);
      // readHistory: the header and the window (find, find); append: header (find), run (insert),
      // commit (findAndModify or update); the lock path adds taking and releasing the lock.
      expect(sent.length).toBe(atomicUpdates ? 5 : 7);
      await s.close();
    });
  }
});
