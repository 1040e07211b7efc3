import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient, MongoServerError, type Collection, type Db } from 'mongodb';
import { DEFAULT_RUNS_COLLECTION, MongoStore } from '@agent-sessions/mongodb';
import { mongoServer, randomDatabase } from './helpers.js';

const { url, server } = mongoServer();
const database = randomDatabase('contention');
// One connection: each command runs alone, so conditional updates are atomic even on FerretDB
// and the compare-and-set path (what real MongoDB takes) can be tested here.
const client = new MongoClient(url, { maxPoolSize: 1 });
const stores: MongoStore[] = [];
afterAll(async () => {
  for (const s of stores) await s.close();
  await client.db(database).dropDatabase();
  await client.close();
});

let n = 0;
const ref = () => ({ agentId: `agent-${Date.now()}-${n++}`, sessionId: 'chat' });

/** A server error as the driver builds it from a reply. */
function serverError(fields: { code: number; codeName?: string; errmsg: string; errorLabels?: string[] }): MongoServerError {
  return new MongoServerError({ ok: 0, ...fields });
}

const FAULTS: Record<string, () => Error> = {
  'WriteConflict (112)': () => serverError({ code: 112, codeName: 'WriteConflict', errmsg: 'Could not acquire lock for operation due to deadlock' }),
  'TransientTransactionError label': () => serverError({ code: 251, errmsg: 'transaction aborted', errorLabels: ['TransientTransactionError'] }),
  'SQLSTATE-style deadlock code 16908292': () => serverError({ code: 16908292, errmsg: 'deadlock detected' }),
};

/**
 * A database whose runs collection fails the next `faults` run inserts with `fault()` before
 * they reach the server (so the insert did not happen, as with a real write conflict).
 */
function faultyDb(fault: () => Error, faults: number): { db: Db; injected: () => number } {
  const real = client.db(database);
  let injected = 0;
  const db = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop !== 'collection') return Reflect.get(target, prop, receiver) as unknown;
      return (name: string, options?: object) => {
        const coll = target.collection(name, options);
        if (name !== DEFAULT_RUNS_COLLECTION) return coll;
        return new Proxy(coll, {
          get(c, p, r) {
            if (p !== 'insertOne') return Reflect.get(c, p, r) as unknown;
            return (...args: Parameters<Collection['insertOne']>) => {
              if (injected < faults) {
                injected += 1;
                return Promise.reject(fault());
              }
              return c.insertOne(...args);
            };
          },
        });
      };
    },
  });
  return { db, injected: () => injected };
}

describe(`write conflicts are lost races, retried and counted (on ${server})`, () => {
  for (const [label, fault] of Object.entries(FAULTS)) {
    for (const atomicUpdates of [true, false]) {
      it(`${label} on the run insert, ${atomicUpdates ? 'compare-and-set' : 'locked'} path: retried, never internal`, async () => {
        const { db, injected } = faultyDb(fault, 3);
        const s = new MongoStore({ db, atomicUpdates });
        stores.push(s);
        const r = ref();
        const res = await s.appendRun({ ...r, runId: 'a', format: 'plain', items: ['x'] });
        expect(res).toMatchObject({ created: true, run: { seq: 1 } });
        expect(injected()).toBe(3);
        expect(s.contention.byOp.appendRun).toBe(3);
        expect((await s.listRuns({ ...r, limit: 5 })).map((x) => x.runId)).toEqual(['a']);
      });
    }
  }

  it('a write conflict that outlasts the retry budget fails with conflict, not internal', async () => {
    const { db, injected } = faultyDb(FAULTS['WriteConflict (112)'] as () => Error, 1_000_000);
    const s = new MongoStore({ db, atomicUpdates: true, contentionTimeoutMs: 300 });
    stores.push(s);
    const r = ref();
    await expect(s.appendRun({ ...r, format: 'plain', items: ['x'] })).rejects.toMatchObject({ code: 'conflict' });
    expect(injected()).toBeGreaterThan(1);
    expect(s.contention.byOp.appendRun).toBe(injected());
    expect(await s.getSession(r)).toBeNull();
  });
});

describe(`appends racing popItem and deleteSession on the compare-and-set path (on ${server})`, () => {
  it('every append lands: none fails, none is lost, the sequence stays gapless', async () => {
    // Three instances, as three processes would be: the appender's, the popper's, the deleter's.
    const make = () => {
      const s = new MongoStore({ client, database, atomicUpdates: true });
      stores.push(s);
      return s;
    };
    const [appender, popper, deleter] = [make(), make(), make()];
    const r = ref();
    const appends = 60;
    let stop = false;
    let pops = 0;
    let deletes = 0;
    const popping = (async () => {
      while (!stop) if (await popper.popItem(r)) pops += 1;
    })();
    const appended: { seq: number; runId: string }[] = [];
    const failures: unknown[] = [];
    const appending = (async () => {
      for (let i = 0; i < appends; i++) {
        try {
          const res = await appender.appendRun({ ...r, runId: `a${i}`, format: 'plain', items: [`a${i}-1`, `a${i}-2`] });
          appended.push({ seq: res.run.seq, runId: res.run.runId });
        } catch (err) {
          failures.push(err);
        }
        // Now and then a delete in the middle of the stream.
        if (i % 15 === 7 && (await deleter.deleteSession(r))) deletes += 1;
      }
    })();
    await appending;
    stop = true;
    await popping;
    expect(failures).toEqual([]);
    expect(appended).toHaveLength(appends);
    expect(pops).toBeGreaterThan(0);
    expect(deletes).toBeGreaterThan(0);
    // What is left reads back gapless from 1.
    const left = await appender.listRuns({ ...r, limit: 1000 });
    expect(left.map((x) => x.seq)).toEqual(left.map((_, i) => i + 1));
    console.log(
      `[contention] appends ${appends}, failed ${failures.length}, pops ${pops}, deletes ${deletes}, appender lost races ${appender.contention.lostRaces}, popper ${popper.contention.lostRaces}`,
    );
  }, 60_000);

  it('concurrent appends on several instances against pops: all land', async () => {
    const make = () => {
      const s = new MongoStore({ client, database, atomicUpdates: true });
      stores.push(s);
      return s;
    };
    const writers = [make(), make(), make(), make()];
    const popper = make();
    const r = ref();
    let stop = false;
    let pops = 0;
    const popping = (async () => {
      while (!stop) if (await popper.popItem(r)) pops += 1;
    })();
    const results = await Promise.allSettled(
      writers.flatMap((w, j) => Array.from({ length: 10 }, (_, i) => w.appendRun({ ...r, runId: `w${j}-${i}`, format: 'plain', items: ['x', 'y'] }))),
    );
    stop = true;
    await popping;
    const failed = results.filter((x) => x.status === 'rejected');
    expect(failed.map((x) => (x as PromiseRejectedResult).reason)).toEqual([]);
    expect(pops).toBeGreaterThan(0);
  }, 60_000);
});
