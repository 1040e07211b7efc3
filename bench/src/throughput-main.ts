import { byBackend, createFor, type Backend, type Contender } from './contender.js';
import { serverCpuProbe } from './cpu.js';
import { FLOORS } from './floors.js';
import { measureOneSession, measureThroughputPairs, populate, type ThroughputResult } from './measure.js';
import { OURS } from './ours.js';
import { closePglite } from './pglite.js';
import type { Spread } from './stats.js';

/**
 * The throughput section of one backend, in a process of its own (see runThroughputSection in
 * main.ts). With 64 turns in flight, the garbage collector's work per turn depends on the whole
 * heap of the process, and by this section the benchmark's own process holds what every earlier
 * section left: PGlite's database, the peers' libraries, the other backends' clients. The store
 * allocates more per turn than its floor, so that heap weighed on the two unequally, and the
 * ratio moved with which backends and peers had run before. Here store and floor share a fresh
 * process, as they share one in an application. Input: one JSON argument; output: the results
 * as JSON on stdout.
 */
export interface ThroughputInput {
  backend: Backend;
  url: string | undefined;
  /** The server's port on this machine, for its CPU per turn (undefined: in process). */
  port: number | undefined;
  prefix: string;
  length: number;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
  segments: number;
  oneSessionSeconds: number;
}

export interface ThroughputOutput {
  results: ThroughputResult[];
  ratio: Spread | null;
}

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as ThroughputInput;
  const { backend, url, prefix, length, concurrency } = input;
  const open: Contender[] = [];
  try {
    const oursFactory = byBackend(OURS, backend)[0];
    if (!oursFactory) throw new Error(`no store for backend ${backend}`);
    const ours = await createFor(oursFactory, backend, url);
    open.push(ours);
    const floorFactory = byBackend(FLOORS, backend)[0];
    const floor = floorFactory ? await createFor(floorFactory, backend, url) : undefined;
    if (floor) open.push(floor);
    const probe = input.port === undefined ? undefined : serverCpuProbe(backend, input.port);
    for (const c of open) await populate(c, `${prefix}t`, length, concurrency);
    // A fresh process starts with cold code: one pair, discarded, before the measured ones (in
    // the shared process the earlier sections had warmed it).
    await measureThroughputPairs(ours, floor, `${prefix}t`, length, concurrency, input.seconds / input.segments, input.warmupSeconds, 1, probe);
    const pairs = await measureThroughputPairs(ours, floor, `${prefix}t`, length, concurrency, input.seconds, input.warmupSeconds, input.segments, probe);
    await populate(ours, `${prefix}o`, length, 1);
    const one = await measureOneSession(ours, `${prefix}o`, length, concurrency, input.oneSessionSeconds, input.warmupSeconds, probe);
    const out: ThroughputOutput = { results: [...pairs.results, one], ratio: pairs.ratio };
    process.stdout.write(JSON.stringify(out));
  } finally {
    for (const c of open.reverse()) await c.close().catch(() => {});
    await closePglite();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench throughput] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
