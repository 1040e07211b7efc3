import type { Backend } from './contender.js';
import { measureLoad, type LoadMemory } from './memory.js';
import { sessionKey } from './measure.js';
import { OURS } from './ours.js';
import { closePglite } from './pglite.js';
import type { MemoryResult } from './report.js';
import { summarize } from './stats.js';

/**
 * The memory section, in a process of its own (see runMemorySection): it needs
 * `--expose-gc` and a young generation fixed at 64 MB so that no scavenge runs in the middle
 * of one load, flags that would change the timings if the rest of the benchmark ran with them.
 * Input: one JSON argument; output: the results as JSON on stdout.
 */
export interface MemoryInput {
  urls: Partial<Record<Backend, string | undefined>>;
  /** The backends to measure, in order, with their sizes. */
  sizes: Partial<Record<Backend, { bigRuns: number; smallRuns: number; samples: number }>>;
  prefix: string;
}

const log = (msg: string) => process.stderr.write(`[bench memory] ${msg}\n`);

async function main(): Promise<void> {
  const input = JSON.parse(process.argv[2] ?? '{}') as MemoryInput;
  const out: MemoryResult[] = [];
  for (const [backend, size] of Object.entries(input.sizes) as [Backend, { bigRuns: number; smallRuns: number; samples: number }][]) {
    const factory = OURS.find((f) => f.backend === backend);
    if (!factory) throw new Error(`no store for ${backend}`);
    const ours = await factory.create(input.urls[backend]);
    try {
      const t0 = performance.now();
      const big = sessionKey(input.prefix, size.bigRuns, 0);
      const small = sessionKey(input.prefix, size.smallRuns, 0);
      await ours.populate(big, size.bigRuns);
      await ours.populate(small, size.smallRuns);
      log(`${backend}: ${size.bigRuns} runs written and checked in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      const rows: LoadMemory[] = [];
      // Interleaved, so both sizes see the same heap and the same connections.
      const per = Math.max(1, Math.ceil(size.samples / 3));
      for (let i = 0; i < 3; i++) {
        rows.push(await measureLoad(ours, small, size.smallRuns, per));
        rows.push(await measureLoad(ours, big, size.bigRuns, per));
      }
      const pick = (runs: number): LoadMemory => {
        const r = rows.filter((x) => x.sessionRuns === runs);
        const med = (f: (x: LoadMemory) => number) => summarize(r.map(f)).median;
        return {
          sessionRuns: runs,
          allocatedBytes: med((x) => x.allocatedBytes),
          retainedBytes: med((x) => x.retainedBytes),
          externalBytes: med((x) => x.externalBytes),
          discarded: r.reduce((s, x) => s + x.discarded, 0),
          samples: r.reduce((s, x) => s + x.samples, 0),
        };
      };
      const entry: MemoryResult = { id: ours.id, label: ours.label, backend, small: pick(size.smallRuns), big: pick(size.bigRuns) };
      out.push(entry);
      log(`${backend}: allocated ${entry.small.allocatedBytes} B (${size.smallRuns} runs) vs ${entry.big.allocatedBytes} B (${size.bigRuns} runs); retained ${entry.small.retainedBytes} vs ${entry.big.retainedBytes}; ${entry.small.discarded + entry.big.discarded} samples dropped`);
    } finally {
      await ours.close();
    }
  }
  await closePglite();
  process.stdout.write(JSON.stringify(out));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench memory] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
