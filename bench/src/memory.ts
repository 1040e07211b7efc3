import { GCProfiler } from 'node:v8';
import type { Contender } from './contender.js';
import { summarize } from './stats.js';

export interface LoadMemory {
  /** Runs in the session the window was loaded from. */
  sessionRuns: number;
  /** Median bytes of V8 heap allocated while loading (no collection in between). */
  allocatedBytes: number;
  /** Median bytes still on the heap after a full collection with the window held. */
  retainedBytes: number;
  /** Median bytes of buffers (socket reads, Buffers) added, outside the V8 heap. */
  externalBytes: number;
  /** Samples a garbage collection cut into; those are dropped and taken again. */
  discarded: number;
  samples: number;
}

// Results are parked here across the collection that measures what they hold: a variable the
// optimizer could prove unused would let the window be collected before it is weighed.
const held: unknown[] = [];

function gc(): void {
  const fn = (globalThis as { gc?: () => void }).gc;
  if (!fn) throw new Error('the memory section needs node --expose-gc');
  fn();
}

/**
 * What loading one window costs in memory. Around each load: two full collections, then the
 * heap is read right after the load (everything the load allocated is still there: the
 * process runs with a 64 MB young generation so no scavenge runs inside one load, and a sample
 * that a collection did cut into, as V8's GCProfiler reports, is dropped), then again after a
 * full collection with the result still held (what the window keeps). A store that read the
 * whole session and kept the last runs would show the whole session in `allocatedBytes`.
 */
export async function measureLoad(c: Contender, key: string, sessionRuns: number, samples: number): Promise<LoadMemory> {
  if (!c.load) throw new Error(`${c.id} cannot load a window alone`);
  const allocated: number[] = [];
  const retained: number[] = [];
  const external: number[] = [];
  let discarded = 0;
  await c.load(key); // warm: prepared statements, scripts, connections
  while (allocated.length < samples && discarded < samples * 5) {
    gc();
    gc();
    const m0 = process.memoryUsage();
    const profiler = new GCProfiler();
    profiler.start();
    held.push(await c.load(key));
    const m1 = process.memoryUsage();
    const collections = profiler.stop().statistics.length;
    if (collections > 0) {
      held.length = 0;
      discarded++;
      continue;
    }
    gc();
    const m2 = process.memoryUsage();
    if (held.length !== 1 || held[0] === undefined) throw new Error(`${c.id}: load gave nothing`);
    held.length = 0;
    allocated.push(m1.heapUsed - m0.heapUsed);
    retained.push(m2.heapUsed - m0.heapUsed);
    external.push(m1.arrayBuffers - m0.arrayBuffers);
  }
  if (allocated.length === 0) throw new Error(`${c.id}: every memory sample was cut by a garbage collection (${discarded} tries)`);
  return {
    sessionRuns,
    allocatedBytes: summarize(allocated).median,
    retainedBytes: summarize(retained).median,
    externalBytes: summarize(external).median,
    discarded,
    samples: allocated.length,
  };
}
