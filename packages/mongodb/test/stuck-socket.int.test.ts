import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { isAgentSessionsError } from '@agent-sessions/core';
import { MongoStore } from '@agent-sessions/mongodb';
import { mongoServer, randomDatabase } from './helpers.js';

// The driver's internals this test reaches into to bring about its race on purpose.
interface Conn {
  closed: boolean;
  socket: Socket;
}
interface Monitor {
  s: { state: string };
  connection: Conn | null;
  requestCheck(): void;
}
interface Server {
  monitor: Monitor;
  pool: { checkedOut: Set<Conn> };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const { url, server: serverName } = mongoServer();
const database = randomDatabase('stuck');
const admin = new MongoClient(url);
afterAll(async () => {
  await admin.db(database).dropDatabase();
  await admin.close();
});

describe(`MongoStore on ${serverName}: the driver's stuck-socket race`, () => {
  it('a monitor left waiting on a destroyed socket is freed, and the store finds the server again', async () => {
    const store = MongoStore.fromConnectionString(url, { database });
    try {
      const ref = { agentId: 'stuck', sessionId: randomBytes(4).toString('hex') };
      await store.appendRun({ ...ref, runId: 'before', format: 'plain', items: ['a'] });
      const client = (store as unknown as { ownedClient: MongoClient }).ownedClient;
      const servers = (client as unknown as { topology: { s: { servers: Map<string, Server> } } }).topology.s.servers;
      const server = [...servers.values()][0] as Server;
      const monitor = server.monitor;

      // The monitor is idle on an open connection, and its last check is past the minimum
      // interval (500 ms), so a requested check runs at once.
      const deadline = Date.now() + 10_000;
      while (!(monitor.s.state === 'idle' && monitor.connection && !monitor.connection.closed) && Date.now() < deadline) await sleep(20);
      await sleep(600);
      const conn = monitor.connection as Conn;
      expect(conn.closed).toBe(false);

      // What a server going away does, in the order that loses: the socket is destroyed, and
      // before its close reaches the driver's connection, a check writes to it. The write waits
      // for a `drain` a destroyed socket never emits.
      conn.socket.destroy();
      monitor.requestCheck();
      await sleep(100);
      expect(conn.closed).toBe(true);
      expect(monitor.s.state).toBe('monitoring');
      expect(conn.socket.listenerCount('drain'), 'the check waits for a drain (the driver race this test is about)').toBeGreaterThan(0);

      // A call in flight loses its connection too (the server went away): the driver marks the
      // server unknown, and only the monitor, stuck, could find it again.
      const inFlight = store.appendRun({ ...ref, runId: 'cut', format: 'plain', items: ['b'] });
      const cutBy = Date.now() + 5000;
      while (server.pool.checkedOut.size === 0 && Date.now() < cutBy) await new Promise((r) => setImmediate(r));
      expect(server.pool.checkedOut.size).toBeGreaterThan(0);
      for (const c of server.pool.checkedOut) c.socket.destroy();
      const cut = await inFlight.then(
        () => 'ok',
        (err: unknown) => (isAgentSessionsError(err, 'unavailable') ? 'unavailable' : String(err)),
      );

     
      // The store frees the monitor once it sees the server go unknown; the monitor then finds
      // the server by itself, with no further call needed.
      const description = () => (client as unknown as { topology: { description: { servers: Map<string, { type: string }> } } }).topology.description;
      const backBy = Date.now() + 5000;
      while ([...description().servers.values()][0]?.type === 'Unknown' && Date.now() < backBy) await sleep(20);
      expect([...description().servers.values()][0]?.type, `cut: ${cut}`).not.toBe('Unknown');
      expect(conn.socket.listenerCount('drain')).toBe(0);

      const outcomes: string[] = [];
      for (let i = 0; i < 4 && outcomes.at(-1) !== 'ok'; i++) {
        const outcome = await store.appendRun({ ...ref, runId: `after-${i}`, format: 'plain', items: ['b'] }).then(
          () => 'ok',
          (err: unknown) => (isAgentSessionsError(err, 'unavailable') ? 'unavailable' : String(err)),
        );
        outcomes.push(outcome);
      }
      // Without the release every call fails server selection for as long as the process lives.
      expect(outcomes.at(-1), `cut: ${cut}; then: ${outcomes.join(', ')}`).toBe('ok');
      expect(outcomes.length, `cut: ${cut}; then: ${outcomes.join(', ')}`).toBeLessThanOrEqual(2);
      const runs = await store.listRuns({ ...ref, limit: 10 });
      expect(runs.map((r) => r.seq)).toEqual(runs.map((_, i) => i + 1));
    } finally {
      await store.close();
    }
  }, 60_000);
});
