import type { MongoClient } from 'mongodb';

interface DriverSocket {
  destroyed?: boolean;
  listenerCount?(event: string): number;
  emit?(event: string): boolean;
}
interface DriverConnection {
  closed?: boolean;
  socket?: DriverSocket;
}
interface DriverServer {
  monitor?: { connection?: DriverConnection | null; requestCheck?(): void } | null;
  pool?: { checkedOut?: Set<DriverConnection> };
}

/**
 * Frees driver connections stuck on a socket that is already gone; returns how many it freed.
 *
 * A race in the Node.js driver (seen in 6.22 and 7.5 to 7.9): when the server closes a
 * connection, the socket is destroyed a moment before the driver's connection learns it is
 * closed. A command written in that moment (typically the server monitor's `hello`, woken by the
 * same outage) waits for a `drain` event that a destroyed socket never emits. The monitor then
 * never finishes its check, the server stays "Unknown" and every call fails server selection,
 * long after the server is back. It was seen about one time in four when FerretDB restarted
 * during a stream of writes.
 *
 * The stuck state is exact: a connection marked closed whose destroyed socket still has a
 * `drain` listener. Emitting `drain` lets the driver's own write path go on; it then finds the
 * connection's error and fails the check (or the command) as it should have, and the monitor
 * reconnects. Anything else is left alone. The driver's internals are read defensively: if their
 * shape is not the one expected, this does nothing.
 */
export function releaseStuckConnections(client: MongoClient | undefined): number {
  const servers = (client as { topology?: { s?: { servers?: unknown } } } | undefined)?.topology?.s?.servers;
  if (!(servers instanceof Map)) return 0;
  let freed = 0;
  for (const server of servers.values() as Iterable<DriverServer>) {
    const connections: (DriverConnection | null | undefined)[] = [server?.monitor?.connection];
    const checkedOut = server?.pool?.checkedOut;
    if (checkedOut instanceof Set) connections.push(...checkedOut);
    for (const c of connections) {
      const socket = c?.socket;
      if (!c?.closed || !socket?.destroyed || typeof socket.listenerCount !== 'function' || typeof socket.emit !== 'function') continue;
      if (socket.listenerCount('drain') === 0) continue;
      socket.emit('drain');
      freed += 1;
      if (c === connections[0]) {
        // The monitor's check now fails as it should have; ask for the next one rather than
        // waiting a heartbeat interval (the driver spaces it by its minimum interval, 500 ms).
        const monitor = server.monitor;
        setTimeout(() => monitor?.requestCheck?.(), 0).unref?.();
      }
    }
  }
  return freed;
}

/** When the server is seen going away, look for stuck connections this long after (ms). */
const LOOK_AFTER_MS = [100, 1000] as const;

/** One listener per client, however many stores share it; removed when the last one stops. */
const watched = new WeakMap<MongoClient, { users: number; stop: () => void }>();

/**
 * Watches a client for a server going unknown (its description changes to `Unknown`: the server
 * went away or a call lost its connection) and then, shortly after, frees connections stuck by
 * the race above, so the monitor finds the server again before any call has to fail for it.
 * Only the client's public monitoring event is listened to, once per client; `stop()` lets go.
 */
export class StuckConnectionWatch {
  readonly #client: MongoClient | undefined;
  #stopped = false;

  constructor(client: MongoClient | undefined) {
    this.#client = typeof client?.on === 'function' && typeof client.off === 'function' ? client : undefined;
    const c = this.#client;
    if (!c) return;
    const entry = watched.get(c);
    if (entry) {
      entry.users += 1;
      return;
    }
    const timers = new Set<ReturnType<typeof setTimeout>>();
    const onChange = (event: { newDescription?: { type?: string } }) => {
      if (event?.newDescription?.type !== 'Unknown' || timers.size > 0) return;
      for (const ms of LOOK_AFTER_MS) {
        const t = setTimeout(() => {
          timers.delete(t);
          releaseStuckConnections(c);
        }, ms);
        t.unref?.();
        timers.add(t);
      }
    };
    c.on('serverDescriptionChanged', onChange);
    watched.set(c, {
      users: 1,
      stop: () => {
        c.off('serverDescriptionChanged', onChange);
        for (const t of timers) clearTimeout(t);
        timers.clear();
      },
    });
  }

  /** Frees what is stuck now (a call just failed because the server is out of reach). */
  now(): void {
    releaseStuckConnections(this.#client);
  }

  stop(): void {
    const c = this.#client;
    if (!c || this.#stopped) return;
    this.#stopped = true;
    const entry = watched.get(c);
    if (!entry || --entry.users > 0) return;
    entry.stop();
    watched.delete(c);
  }
}
