import { parallel, type Contender } from './contender.js';
import { cpuDelta, nodeCpuUs, type CpuProbe } from './cpu.js';
import { spread, summarize, type Spread, type Summary } from './stats.js';

/** How one contender is driven at one session length. */
export interface TurnPlan {
  /** Sessions of this length, turned round-robin, so each grows by at most iterations / sessions runs. */
  sessions: number;
  warmup: number;
  iterations: number;
  /** Rounds per block for the interleaved ratios (default: the config's `blockRounds`). */
  block?: number;
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
  /** CPU per timed turn (means, in microseconds): this Node process, and the server's process tree (null: in process, or not readable). */
  cpu?: { nodeUs: number; serverUs: number | null };
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

/** A store against its floor, turn by turn in the same run. */
export interface InterleavedResult {
  backend: string;
  ours: string;
  floor: string;
  length: number;
  /** Rounds per block; a round is one store turn and one floor turn, in alternating order. */
  blockRounds: number;
  blocks: number;
  /** Per block: median store turn / median floor turn (whole turn, read, write); then their spread over the blocks. */
  ratio: Spread;
  readRatio: Spread;
  writeRatio: Spread;
  /** Per block: store CPU / floor CPU, Node and server (sums over the block's turns). */
  nodeCpuRatio: Spread;
  serverCpuRatio: Spread | null;
}

interface Sample {
  ms: number;
  readMs: number;
  nodeUs: number;
  serverNs: number | null;
}

function turnResult(c: Contender, plan: TurnPlan, length: number, samples: Sample[]): TurnResult {
  const server = samples.every((s) => s.serverNs !== null) && samples.length ? samples.reduce((a, s) => a + s.serverNs!, 0) / samples.length / 1000 : null;
  return {
    id: c.id,
    label: c.label,
    backend: c.backend,
    role: c.role,
    length,
    plan,
    ms: summarize(samples.map((s) => s.ms)),
    readMs: summarize(samples.map((s) => s.readMs)),
    writeMs: summarize(samples.map((s) => s.ms - s.readMs)),
    cpu: { nodeUs: samples.reduce((a, s) => a + s.nodeUs, 0) / Math.max(1, samples.length), serverUs: server },
  };
}

const median = (v: number[]) => summarize(v).median;
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

/**
 * Times a store and its floor turn by turn: each round is one store turn and one floor turn on
 * sessions of the same length on the same server, the order alternating from round to round,
 * so whatever else the machine does falls on both alike. Ratios are taken per block of
 * `blockRounds` rounds (median store turn / median floor turn in the block) and reported as
 * the median block ratio with its spread. Around every timed turn: Node's CPU
 * (`process.cpuUsage`) and, given a probe, the server's (/proc schedstat); both are read
 * outside the timed interval, and the server's process tree is re-read between blocks.
 */
export async function measureInterleaved(
  ours: Contender,
  floor: Contender | undefined,
  plan: TurnPlan,
  prefix: string,
  length: number,
  blockRounds: number,
  probe: CpuProbe | undefined,
): Promise<{ results: TurnResult[]; interleaved?: InterleavedResult }> {
  const who = floor ? [ours, floor] : [ours];
  const samples = new Map<Contender, Sample[]>(who.map((c) => [c, []]));
  const counters = new Map<Contender, number>();
  const next = (c: Contender) => {
    const i = counters.get(c) ?? 0;
    counters.set(c, i + 1);
    return { key: sessionKey(prefix, length, i % plan.sessions), n: length + i };
  };
  for (let w = 0; w < plan.warmup; w++) {
    for (const c of who) {
      const { key, n } = next(c);
      await c.turn(key, n);
    }
  }
  for (let r = 0; r < plan.iterations; r++) {
    if (r % blockRounds === 0) probe?.refresh();
    const order = r % 2 === 0 ? who : [...who].reverse();
    for (const c of order) {
      const { key, n } = next(c);
      const s0 = probe?.sample();
      const cpu0 = nodeCpuUs();
      const t0 = process.hrtime.bigint();
      const readMs = await c.turn(key, n);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const cpu1 = nodeCpuUs();
      const s1 = probe?.sample();
      samples.get(c)!.push({ ms, readMs, nodeUs: cpu1 - cpu0, serverNs: s0 && s1 ? cpuDelta(s0, s1) : null });
    }
  }
  const results = who.map((c) => turnResult(c, plan, length, samples.get(c)!));
  if (!floor) return { results };
  const a = samples.get(ours)!;
  const b = samples.get(floor)!;
  const blocks: { whole: number; read: number; write: number; node: number; server: number | null }[] = [];
  for (let start = 0; start + blockRounds <= plan.iterations; start += blockRounds) {
    const x = a.slice(start, start + blockRounds);
    const y = b.slice(start, start + blockRounds);
    blocks.push({
      whole: median(x.map((s) => s.ms)) / median(y.map((s) => s.ms)),
      read: median(x.map((s) => s.readMs)) / median(y.map((s) => s.readMs)),
      write: median(x.map((s) => s.ms - s.readMs)) / median(y.map((s) => s.ms - s.readMs)),
      node: sum(x.map((s) => s.nodeUs)) / sum(y.map((s) => s.nodeUs)),
      server: probe ? sum(x.map((s) => s.serverNs ?? 0)) / sum(y.map((s) => s.serverNs ?? 0)) : null,
    });
  }
  return {
    results,
    interleaved: {
      backend: ours.backend,
      ours: ours.id,
      floor: floor.id,
      length,
      blockRounds,
      blocks: blocks.length,
      ratio: spread(blocks.map((k) => k.whole)),
      readRatio: spread(blocks.map((k) => k.read)),
      writeRatio: spread(blocks.map((k) => k.write)),
      nodeCpuRatio: spread(blocks.map((k) => k.node)),
      serverCpuRatio: probe ? spread(blocks.map((k) => k.server!)) : null,
    },
  };
}

export interface ThroughputResult {
  id: string;
  label: string;
  backend: string;
  role: string;
  /** Runs in each session at the start. */
  length: number;
  concurrency: number;
  /** `sessions`: one session per worker; `one-session`: every worker on the same session. */
  mode: 'sessions' | 'one-session';
  /** Measured seconds in all (the sum of the segments). */
  seconds: number;
  segments: number;
  turns: number;
  turnsPerSecond: number;
  /** Turns per second of each segment. */
  segmentRates: number[];
  ms: Summary;
  /** CPU per turn over the measured windows (means, microseconds). */
  cpu: { nodeUs: number; serverUs: number | null };
  /** Turns that failed (counted, not timed); a store must not fail any. */
  errors: number;
  firstError?: string;
}

/** One throughput segment: `workers` back to back for warm-up + `seconds`; CPU and turns counted over the measured window. */
async function segment(
  c: Contender,
  keyOf: (k: number) => string,
  length: number,
  workers: number,
  seconds: number,
  warmupSeconds: number,
  probe: CpuProbe | undefined,
  nStart: number,
) {
  const latencies: number[] = [];
  let counted = 0;
  let errors = 0;
  let firstError: string | undefined;
  let cpu0 = 0;
  let cpu1 = 0;
  let s0: Map<string, number> | undefined;
  let s1: Map<string, number> | undefined;
  // The window opens when the first turn finishes after the warm-up and lasts `seconds` from
  // there; the turns finishing inside it count (the one that closes it included). Checked
  // after every turn, not by timers, which a store whose turns never leave the microtask queue
  // (the memory store) would never let fire.
  const warmEnd = performance.now() + warmupSeconds * 1000;
  let t0 = 0;
  let t1 = 0;
  let measuring = false;
  let done = false;
  const tick = () => {
    const now = performance.now();
    if (!measuring && !done && now >= warmEnd) {
      probe?.refresh();
      s0 = probe?.sample();
      cpu0 = nodeCpuUs();
      t0 = performance.now();
      measuring = true;
    } else if (measuring && now >= t0 + seconds * 1000) {
      measuring = false;
      t1 = performance.now();
      cpu1 = nodeCpuUs();
      s1 = probe?.sample();
      done = true;
    }
  };
  let n = nStart;
  await Promise.all(
    Array.from({ length: workers }, async (_, k) => {
      const key = keyOf(k);
      while (!done) {
        const a = performance.now();
        try {
          await c.turn(key, length + n++);
        } catch (err) {
          errors++;
          firstError ??= err instanceof Error ? err.message : String(err);
          tick();
          await new Promise((r) => setImmediate(r)); // do not spin on a failing store
          continue;
        }
        if (measuring) {
          counted++;
          latencies.push(performance.now() - a);
        }
        tick();
      }
    }),
  );
  const secs = (t1 - t0) / 1000;
  return { latencies, turns: counted, secs, nodeUs: cpu1 - cpu0, serverNs: s0 && s1 ? cpuDelta(s0, s1) : null, errors, firstError, n };
}

/**
 * Throughput of a store and its floor, alternating: `segments` pairs of segments (store then
 * floor, the order alternating from pair to pair), each `concurrency` workers turning their own
 * session back to back for `warmupSeconds` + `seconds`, through one client (the store's own
 * pool). A ratio per pair (store turns/s / floor turns/s), reported as the median pair ratio
 * with its spread. Turns are counted when they finish inside the measured window.
 */
export async function measureThroughputPairs(
  ours: Contender,
  floor: Contender | undefined,
  prefix: string,
  length: number,
  concurrency: number,
  seconds: number,
  warmupSeconds: number,
  segments: number,
  probe: CpuProbe | undefined,
): Promise<{ results: ThroughputResult[]; ratio: Spread | null }> {
  const who = floor ? [ours, floor] : [ours];
  const segs = new Map<Contender, Awaited<ReturnType<typeof segment>>[]>(who.map((c) => [c, []]));
  const nStart = new Map<Contender, number>(who.map((c) => [c, 0]));
  for (let p = 0; p < segments; p++) {
    for (const c of p % 2 === 0 ? who : [...who].reverse()) {
      const r = await segment(c, (k) => sessionKey(prefix, length, k), length, concurrency, seconds / segments, warmupSeconds, probe, nStart.get(c)!);
      nStart.set(c, r.n);
      segs.get(c)!.push(r);
    }
  }
  const results = who.map((c) => throughputResult(c, length, concurrency, 'sessions', segs.get(c)!));
  const ratio = floor
    ? spread(segs.get(ours)!.map((s, i) => s.turns / s.secs / (segs.get(floor)![i]!.turns / segs.get(floor)![i]!.secs)))
    : null;
  return { results, ratio };
}

/** `concurrency` writers turning ONE session (key `<prefix>-l<length>-0`) for warm-up + `seconds`. */
export async function measureOneSession(
  c: Contender,
  prefix: string,
  length: number,
  concurrency: number,
  seconds: number,
  warmupSeconds: number,
  probe: CpuProbe | undefined,
): Promise<ThroughputResult> {
  const r = await segment(c, () => sessionKey(prefix, length, 0), length, concurrency, seconds, warmupSeconds, probe, 0);
  return throughputResult(c, length, concurrency, 'one-session', [r]);
}

function throughputResult(
  c: Contender,
  length: number,
  concurrency: number,
  mode: ThroughputResult['mode'],
  segs: Awaited<ReturnType<typeof segment>>[],
): ThroughputResult {
  const turns = sum(segs.map((s) => s.turns));
  const secs = sum(segs.map((s) => s.secs));
  const server = segs.every((s) => s.serverNs !== null) ? sum(segs.map((s) => s.serverNs!)) / Math.max(1, turns) / 1000 : null;
  const errors = sum(segs.map((s) => s.errors));
  return {
    id: c.id,
    label: c.label,
    backend: c.backend,
    role: c.role,
    length,
    concurrency,
    mode,
    seconds: secs,
    segments: segs.length,
    turns,
    turnsPerSecond: turns / secs,
    segmentRates: segs.map((s) => s.turns / s.secs),
    ms: summarize(segs.flatMap((s) => s.latencies)),
    cpu: { nodeUs: sum(segs.map((s) => s.nodeUs)) / Math.max(1, turns), serverUs: server },
    errors,
    ...(errors ? { firstError: segs.find((s) => s.firstError)?.firstError } : {}),
  };
}
