import type { Backend } from './contender.js';
import type { TurnPlan } from './measure.js';
import type { OverheadPlan } from './operating-cost.js';

/** Everything that sets how long the benchmark runs. */
export interface BenchConfig {
  name: 'full' | 'smoke';
  backends: Backend[];
  /** Session lengths (runs already stored) at which a turn is timed. */
  lengths: number[];
  /** Plans for ours and the floors, by session length. */
  plan: Record<number, TurnPlan>;
  /** Plans for the peers, by session length (a length absent here is not run for peers). */
  peerPlan: Record<number, TurnPlan>;
  /** Rounds the peers of one backend take turns in with each other (see measureTurns). */
  rounds: number;
  /** Rounds (one store turn + one floor turn each) per block of the interleaved ratios (see measureInterleaved). */
  blockRounds: number;
  /** Round trips are counted at `length` runs over `turns` turns (`peerTurns` for the peers: their counts do not vary). */
  roundTrips: { length: number; warmup: number; turns: number; peerTurns: number };
  /**
   * `seconds` measured per contender, split in `segments` alternating store / floor segments,
   * each after `warmupSeconds`; then `oneSessionSeconds` of `concurrency` writers on one session.
   */
  throughput: { concurrency: number; length: number; seconds: number; warmupSeconds: number; segments: number; oneSessionSeconds: number };
  /** `skip`: backends left out of the memory section (the smoke run skips PGlite: same code as Postgres, seconds to boot). */
  memory: { bigRuns: number; smallRuns: number; samples: number; skip?: Backend[] };
  peers: boolean;
  /**
   * The operating-cost section (last, since it registers OpenTelemetry providers): the same store
   * plain, with tracing on and with encryption on, interleaved round by round.
   */
  overhead: OverheadPlan;
  /**
   * Replaces the plans for a MongoDB backend that turns out to be FerretDB 1.x: it scans the
   * whole collection for every find (no filter, sort or limit pushdown on its SQLite backend;
   * `explain` says so), so every turn, ours, the floor's and the peers', costs in proportion to
   * the runs stored, and the full plans would take hours.
   */
  ferretdb: {
    plan: Record<number, TurnPlan>;
    peerPlan: Record<number, TurnPlan>;
    roundTrips: { warmup: number; turns: number; peerTurns: number };
    memory: { bigRuns: number; samples: number };
    /** Session length for the throughput sessions. */
    throughputLength: number;
    overhead: OverheadPlan;
  };
}

/**
 * The full run (`pnpm bench`), 11 to 15 minutes on a 2-core machine. Iteration counts: ours
 * and the floors 400 timed turns after 40 warm-up turns at every length; the peers 300 at 10
 * runs, 60 at 1,000 runs and 5 at 10,000 runs (each of their turns reads and rewrites the whole
 * history: LangGraph's Postgres saver takes seconds per turn at 10,000 runs). FerretDB gets
 * its own, smaller plans (see `ferretdb`).
 */
export const FULL: BenchConfig = {
  name: 'full',
  backends: ['memory', 'pglite', 'postgres', 'postgres-fsync', 'redis', 'mongodb'],
  lengths: [10, 1000, 10000],
  // 600 rounds of one store turn + one floor turn: 20 blocks of 30 rounds.
  plan: {
    10: { sessions: 40, warmup: 40, iterations: 600 },
    1000: { sessions: 10, warmup: 40, iterations: 600 },
    10000: { sessions: 3, warmup: 40, iterations: 600 },
  },
  peerPlan: {
    10: { sessions: 40, warmup: 20, iterations: 300 },
    1000: { sessions: 10, warmup: 5, iterations: 60 },
    10000: { sessions: 3, warmup: 1, iterations: 5 },
  },
  rounds: 5,
  blockRounds: 30,
  roundTrips: { length: 1000, warmup: 5, turns: 30, peerTurns: 5 },
  // 10 pairs, not 5: pair ratios of one build against itself spread from 0.69 to 1.24 on a shared
  // 2-core machine, and the median of 5 such pairs moved by more than the targets' margins.
  throughput: { concurrency: 64, length: 100, seconds: 10, warmupSeconds: 0.5, segments: 10, oneSessionSeconds: 3 },
  memory: { bigRuns: 100_000, smallRuns: 10, samples: 15 },
  peers: true,
  // 400 rounds of plain + traced + encrypted turns: 20 blocks of 20 rounds.
  overhead: { turns: 400, warmup: 40, sessions: 8, prefill: 20, block: 20 },
  ferretdb: {
    plan: {
      10: { sessions: 8, warmup: 10, iterations: 100, block: 10 },
      1000: { sessions: 2, warmup: 3, iterations: 20, block: 10 },
      10000: { sessions: 1, warmup: 1, iterations: 8, block: 4 },
    },
    // Not at 10,000 runs: a LangChain turn there takes 17 s on FerretDB (one 16 MB document
    // rewritten per message), a LangGraph one 6 s; they were measured once (see the README).
    peerPlan: {
      10: { sessions: 8, warmup: 5, iterations: 50 },
      1000: { sessions: 2, warmup: 2, iterations: 10 },
    },
    roundTrips: { warmup: 1, turns: 6, peerTurns: 2 },
    memory: { bigRuns: 20_000, samples: 6 },
    throughputLength: 10,
    overhead: { turns: 60, warmup: 6, sessions: 2, prefill: 10, block: 10 },
  },
};

/** The smoke run inside the test command: every code path, tiny sizes, a few seconds. */
export const SMOKE: BenchConfig = {
  name: 'smoke',
  backends: ['memory', 'pglite', 'postgres', 'postgres-fsync', 'redis', 'mongodb'],
  lengths: [10, 50],
  plan: {
    10: { sessions: 2, warmup: 2, iterations: 6, block: 3 },
    50: { sessions: 2, warmup: 2, iterations: 6, block: 3 },
  },
  peerPlan: {
    50: { sessions: 1, warmup: 1, iterations: 3 },
  },
  rounds: 2,
  blockRounds: 3,
  roundTrips: { length: 50, warmup: 1, turns: 3, peerTurns: 2 },
  throughput: { concurrency: 4, length: 10, seconds: 0.2, warmupSeconds: 0.05, segments: 2, oneSessionSeconds: 0.1 },
  memory: { bigRuns: 500, smallRuns: 10, samples: 2, skip: ['pglite'] },
  peers: true,
  overhead: { turns: 4, warmup: 1, sessions: 1, prefill: 2, block: 2 },
  ferretdb: {
    plan: {
      10: { sessions: 2, warmup: 2, iterations: 6, block: 3 },
      50: { sessions: 2, warmup: 2, iterations: 6, block: 3 },
    },
    peerPlan: {
      50: { sessions: 1, warmup: 1, iterations: 3 },
    },
    roundTrips: { warmup: 1, turns: 3, peerTurns: 2 },
    memory: { bigRuns: 500, samples: 2 },
    throughputLength: 10,
    overhead: { turns: 4, warmup: 1, sessions: 1, prefill: 2, block: 2 },
  },
};
