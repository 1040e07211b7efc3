import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy that counts round trips: on each connection, every time the client sends after
 * the server last spoke (or first) is one request flight. A pipeline or a MULTI sent in one
 * go counts once however many commands it holds; a client waiting for each answer counts each.
 * This counts what actually crosses the wire, whatever the driver does inside.
 */
export class RoundTripProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  /** Request flights since start, over all connections. */
  flights = 0;
  /** Bytes client → server and server → client. */
  bytesUp = 0;
  bytesDown = 0;
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<number> {
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, this.targetHost);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      this.sockets.add(client);
      this.sockets.add(upstream);
      let clientSpokeLast = false;
      client.on('data', (b: Buffer) => {
        if (!clientSpokeLast) this.flights++;
        clientSpokeLast = true;
        this.bytesUp += b.length;
        upstream.write(b);
      });
      upstream.on('data', (b: Buffer) => {
        clientSpokeLast = false;
        this.bytesDown += b.length;
        client.write(b);
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this.port;
  }

  snapshot(): { flights: number; bytesUp: number; bytesDown: number } {
    return { flights: this.flights, bytesUp: this.bytesUp, bytesDown: this.bytesDown };
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** The URL with its host:port replaced by the proxy's. */
export function viaProxy(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = '127.0.0.1';
  u.port = String(port);
  return u.toString();
}

export function hostPort(url: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname || '127.0.0.1', port: u.port ? Number(u.port) : defaultPort };
}
