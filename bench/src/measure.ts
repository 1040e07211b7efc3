import { parallel, type Contender } from './contender.js';
import { summarize, type Summary } from './stats.js';

/** How one contender is driven at one session length. */
export interface TurnPlan {
  /** Sessions of this length, turned round-robin, so each grows by at most iterations / sessions runs. */
  sessions: number;
  warmup: number;
  iterations: number;
}

export interface TurnResult {
  id: string;
  label: string;
  backend: string;
  role: string;
  /** Runs in each session before the first timed turn. */
  length: number;
  plan: TurnPlan;
  /** Per-turn latency in ms. */
  ms: Summary;
  /** The read part (window or history) and the write part (save the run) of each turn, in ms. */
  readMs: Summary;
  writeMs: Summary;
}

export function sessionKey(prefix: string, length: number, k: number): string {
  return `${prefix}-l${length}-${k}`;
}

/** Fills `plan.sessions` sessions of `length` runs for one contender. */
export async function populate(c: Contender, prefix: string, length: number, sessions: number): Promise<void> {
  await parallel(sessions, 4, (k) => c.populate(sessionKey(prefix, length, k), length));
}

/**
 * Times turns of several contenders at one session length. Contenders take turns in rounds
 * (a slice of each one's iterations per round) so drift on the machine (another process, the
 * server's own background work) falls on all of them alike rather than on whoever ran last.
 */
export async function measureTurns(
  entries: { contender: Contender; plan: TurnPlan }[],
  prefix: string,
  length: number,
  rounds = 5,
): Promise<TurnResult[]> {
  const samples = new Map<Contender, number[]>();
  const reads = new Map<Contender, number[]>();
  const counters = new Map<Contender, number>();
  const next = (c: Contender, plan: TurnPlan) => {
    const i = counters.get(c) ?? 0;
    counters.set(c, i + 1);
    return { key: sessionKey(prefix, length, i % plan.sessions), n: length + i };
  };
  for (const { contender, plan } of entries) {
    samples.set(contender, []);
    reads.set(contender, []);
    for (let w = 0; w < plan.warmup; w++) {
      const { key, n } = next(contender, plan);
      await contender.turn(key, n);
    }
  }
  for (let r = 0; r < rounds; r++) {
    for (const { contender, plan } of entries) {
      const quota = Math.floor(plan.iterations / rounds) + (r < plan.iterations % rounds ? 1 : 0);
      const out = samples.get(contender)!;
      const read = reads.get(contender)!;
      for (let i = 0; i < quota; i++) {
        const { key, n } = next(contender, plan);
        const t0 = process.hrtime.bigint();
        read.push(await contender.turn(key, n));
        out.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
    }
  }
  return entries.map(({ contender, plan }) => ({
    id: contender.id,
    label: contender.label,
    backend: contender.backend,
    role: contender.role,
    length,
    plan,
    ms: summarize(samples.get(contender)!),
    readMs: summarize(reads.get(contender)!),
    writeMs: summarize(samples.get(contender)!.map((total, i) => total - reads.get(contender)![i]!)),
  }));
}

export interface ThroughputResult {
  id: string;
  label: string;
  backend: string;
  role: string;
  /** Runs in each session at the start. */
  length: number;
  concurrency: number;
  seconds: number;
  turns: number;
  turnsPerSecond: number;
  ms: Summary;
}

/**
 * `concurrency` sessions, each turned by its own worker back to back for `seconds`, against
 * one server through one client (the store's own pool). Turns in the first `warmupSeconds`
 * are not counted.
 */
export async function measureThroughput(
  c: Contender,
  prefix: string,
  length: number,
  concurrency: number,
  seconds: number,
  warmupSeconds: number,
): Promise<ThroughputResult> {
  const latencies: number[] = [];
  const warmEnd = performance.now() + warmupSeconds * 1000;
  const end = warmEnd + seconds * 1000;
  // Every worker runs until `end`; a turn counts when it finishes inside the measured window.
  await Promise.all(
    Array.from({ length: concurrency }, async (_, k) => {
      const key = sessionKey(prefix, length, k);
      let n = 0;
      while (performance.now() < end) {
        const t0 = performance.now();
        await c.turn(key, length + n++);
        const t1 = performance.now();
        if (t1 > warmEnd && t1 <= end) latencies.push(t1 - t0);
      }
    }),
  );
  const turns = latencies.length;
  return {
    id: c.id,
    label: c.label,
    backend: c.backend,
    role: c.role,
    length,
    concurrency,
    seconds,
    turns,
    turnsPerSecond: turns / seconds,
    ms: summarize(latencies),
  };
}
