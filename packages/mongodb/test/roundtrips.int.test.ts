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
      // readHistory: the header and the window (find, find); append: run (insert) and commit
      // (findAndModify or update), its header read saved by the header readHistory just read
      // (was 5 and 7 with that read); the lock path adds taking and releasing the lock.
      expect(sent.length).toBe(atomicUpdates ? 4 : 6);
      await s.close();
    });
  }
});

describe('the header the append does not re-read', () => {
  for (const atomicUpdates of [true, false]) {
    it(`${atomicUpdates ? 'compare-and-set' : 'locked'} path: a stale one costs a retry, never a wrong write`, async () => {
      const a = new MongoStore({ client, database, atomicUpdates });
      const b = new MongoStore({ client, database, atomicUpdates });
      const r = { agentId: `stale-${atomicUpdates}`, sessionId: 's' };
      await a.appendRun({ ...r, format: 'plain', items: ['one'], usage: { totalTokens: 1 } });
      const seen = await a.readHistory({ ...r, limit: 5 });
      // Another process appends and renames after a's read.
      await b.appendRun({ ...r, format: 'plain', items: ['two'], usage: { totalTokens: 2 } });
      await b.renameSession({ ...r, title: null });
      await b.updateSession({ ...r, expectedVersion: (await b.getSession(r))?.version ?? 0, metadata: { k: 'v' } });
      // a's turn on its stale view: refused when it asks for that history...
      await expect(a.appendRun({ ...r, format: 'plain', items: ['x'], expectedLastSeq: seen.session?.lastSeq ?? 0 })).rejects.toMatchObject({ code: 'conflict' });
      // ...and placed right after b's run otherwise, with the header as it really is.
      await a.readHistory({ ...r, limit: 5 });
      await b.appendRun({ ...r, format: 'plain', items: ['three'] });
      const res = await a.appendRun({ ...r, format: 'plain', items: ['four'], title: 'Named', usage: { totalTokens: 4 } });
      expect(res.run.seq).toBe(4);
      expect(res.session).toMatchObject({ lastSeq: 4, title: 'Named', metadata: { k: 'v' }, usage: { totalTokens: 7 } });
      expect(res.session).toEqual(await b.getSession(r));
      expect((await b.listRuns({ ...r, limit: 10 })).map((x) => x.items[0])).toEqual(['one', 'two', 'three', 'four']);
      await a.close();
      await b.close();
    });
  }
});
