import type { BenchConfig } from './config.js';
import { BACKENDS, type NotMeasured } from './contender.js';
import type { Environment } from './environment.js';
import type { LoadMemory } from './memory.js';
import { readFileSync, writeFileSync } from 'node:fs';
import type { InterleavedResult, ThroughputResult, TurnResult } from './measure.js';
import { overheadTable, type OverheadSection } from './operating-cost.js';
import { round, type Spread, type Summary } from './stats.js';

export interface RoundTripResult {
  id: string;
  label: string;
  backend: string;
  role: string;
  length: number;
  turns: number;
  /** Request flights per turn counted at a TCP proxy; null for in-process stores. */
  roundTrips: Summary | null;
  /** Statements or commands per turn counted at the driver, where counted. */
  commands: Summary | null;
  /** Bytes on the wire per turn, both directions. */
  bytes: Summary | null;
}

export interface MemoryResult {
  id: string;
  label: string;
  backend: string;
  small: LoadMemory;
  big: LoadMemory;
}

export interface BenchResults {
  config: BenchConfig;
  environment: Environment;
  perTurn: TurnResult[];
  /** Each store against its floor, turn by turn (block ratios). */
  interleaved: InterleavedResult[];
  roundTrips: RoundTripResult[];
  throughput: ThroughputResult[];
  /** Store / floor throughput with many sessions, per alternating segment pair. */
  throughputRatios: { backend: string; ours: string; floor: string; ratio: Spread }[];
  memory: MemoryResult[];
  /** Per-turn cost with tracing on and with encryption on, against the same store without (absent in results older than it). */
  overhead?: OverheadSection | undefined;
  notMeasured: NotMeasured[];
  durationSeconds: number;
}

export interface Target {
  target: string;
  subject: string;
  value: number;
  limit: number;
  met: boolean;
  detail: string;
}

const PEER_TARGET_LENGTH = 1000;
/** Issue 20: the median interleaved ratio to the floor per turn, at every length (backends absent here are reported, not judged). */
const TURN_LIMITS: Record<string, number> = { postgres: 1.4, redis: 1.5, pglite: 1.6 };
/** Issue 20: throughput with many sessions, as a ratio to the floor's. */
const THROUGHPUT_LIMITS: Record<string, number> = { postgres: 0.6, redis: 0.7 };
/** Round trips per turn that must not grow (counted at the proxy). */
const ROUND_TRIP_LIMITS: Record<string, number> = { postgres: 2, redis: 2 };

const fmtMs = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtX = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}x`);
const fmtN = (n: number) => n.toLocaleString('en-US');
const fmtUs = (v: number | null | undefined) => (v === undefined || v === null || !Number.isFinite(v) ? '-' : v >= 1000 ? `${(v / 1000).toFixed(2)} ms` : `${v.toFixed(0)} us`);
/** `1.85x (IQR 1.78-1.92, 1.70-2.05)`: median of the blocks, interquartile range, extremes. */
const fmtSpread = (x: Spread | null | undefined, iqr = true) =>
  !x || !x.n
    ? '-'
    : x.n === 1
      ? fmtX(x.median)
      : `${fmtX(x.median)} (${iqr ? `IQR ${x.q1.toFixed(2)}-${x.q3.toFixed(2)}, ` : ''}${x.min.toFixed(2)}-${x.max.toFixed(2)})`;
const fmtBytes = (b: number) => (Math.abs(b) >= 1024 * 1024 ? `${(b / 1024 / 1024).toFixed(1)} MiB` : Math.abs(b) >= 1024 ? `${(b / 1024).toFixed(1)} KiB` : `${b} B`);

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(head: string[], rows: string[][]): string {
  // Numeric columns align right, text columns left.
  const numeric = head.map((_, i) => i > 0 && rows.every((r) => /^[-\d.,]/.test(r[i] ?? '-')));
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (numeric[i] ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}

/** `postgres-fsync` shares the Postgres code (round trips are counted once, on `postgres`). */
const factoryBase = (b: string) => (b === 'postgres-fsync' ? 'postgres' : b);

/** The derived view: ratios and targets, plus everything measured. */
export function derive(r: BenchResults) {
  const lengths = r.config.lengths;
  const shortest = lengths[0]!;
  const longest = lengths[lengths.length - 1]!;
  const find = (backend: string, role: string, length: number, id?: string) =>
    r.perTurn.find((t) => t.backend === backend && t.role === role && t.length === length && (id === undefined || t.id === id));
  const backends = BACKENDS.filter((b) => r.config.backends.includes(b));
  const stores = backends.map((backend) => {
    const ours = Object.fromEntries(lengths.map((l) => [l, find(backend, 'ours', l)]));
    const floor = Object.fromEntries(lengths.map((l) => [l, find(backend, 'floor', l)]));
    const inter = Object.fromEntries(lengths.map((l) => [l, r.interleaved.find((x) => x.backend === backend && x.length === l)]));
    // The median of the interleaved block ratios (what the targets judge).
    const toFloor = Object.fromEntries(lengths.map((l) => [l, inter[l]?.ratio.median]));
    const scaling = ours[longest] && ours[shortest] ? ours[longest]!.ms.median / ours[shortest]!.ms.median : undefined;
    const floorScaling = floor[longest] && floor[shortest] ? floor[longest]!.ms.median / floor[shortest]!.ms.median : undefined;
    const peerIds = [...new Set(r.perTurn.filter((t) => t.backend === backend && t.role === 'peer').map((t) => t.id))];
    const peers = peerIds.map((id) => {
      const any = r.perTurn.find((t) => t.id === id)!;
      return {
        id,
        label: any.label,
        byLength: Object.fromEntries(
          lengths.map((l) => {
            const p = find(backend, 'peer', l, id);
            return [l, p ? { median: p.ms.median, p99: p.ms.p99, ratioToOurs: ours[l] ? p.ms.median / ours[l]!.ms.median : undefined } : undefined];
          }),
        ),
      };
    });
    const rt = r.roundTrips.find((x) => x.backend === factoryBase(backend) && x.role === 'ours');
    const floorRt = r.roundTrips.find((x) => x.backend === factoryBase(backend) && x.role === 'floor');
    const tput = r.throughput.find((t) => t.backend === backend && t.role === 'ours' && t.mode !== 'one-session');
    const floorTput = r.throughput.find((t) => t.backend === backend && t.role === 'floor');
    const oneSession = r.throughput.find((t) => t.backend === backend && t.mode === 'one-session');
    const tputRatio = r.throughputRatios.find((t) => t.backend === backend)?.ratio;
    return { backend, label: ours[shortest]?.label ?? backend, ours, floor, inter, toFloor, scaling, floorScaling, peers, rt, floorRt, tput, floorTput, oneSession, tputRatio };
  });

  const targets: Target[] = [];
  for (const s of stores) {
    const limit = TURN_LIMITS[s.backend];
    if (limit !== undefined) {
      const ratios = lengths.map((l) => [l, s.inter[l]?.ratio] as const).filter(([, v]) => v !== undefined) as [number, Spread][];
      if (ratios.length) {
        const worst = ratios.reduce((a, b) => (b[1].median > a[1].median ? b : a));
        targets.push({
          target: `per turn at most ${limit}x the driver floor (median of interleaved block ratios, every length)`,
          subject: s.backend,
          value: round(worst[1].median, 2),
          limit,
          met: worst[1].median <= limit,
          detail: ratios.map(([l, v]) => `${fmtN(l)} runs: ${fmtSpread(v, false)}`).join('; '),
        });
      }
    }
    const tLimit = THROUGHPUT_LIMITS[s.backend];
    if (tLimit !== undefined && s.tputRatio) {
      targets.push({
        target: `throughput with ${r.config.throughput.concurrency} sessions at least ${tLimit}x the floor's`,
        subject: s.backend,
        value: round(s.tputRatio.median, 2),
        limit: tLimit,
        met: s.tputRatio.median >= tLimit,
        detail: `median of ${s.tputRatio.n} alternating segment pairs ${fmtSpread(s.tputRatio, false)}; ${s.tput?.turnsPerSecond.toFixed(0)} vs ${s.floorTput?.turnsPerSecond.toFixed(0)} turns/s`,
      });
    }
    const rLimit = ROUND_TRIP_LIMITS[s.backend];
    if (rLimit !== undefined && s.rt?.roundTrips) {
      targets.push({
        target: `round trips per turn at most ${rLimit}`,
        subject: s.backend,
        value: s.rt.roundTrips.max,
        limit: rLimit,
        met: s.rt.roundTrips.max <= rLimit,
        detail: `counted at the proxy over ${s.rt.turns} turns at ${fmtN(s.rt.length)} runs (median ${s.rt.roundTrips.median})`,
      });
    }
    if (s.scaling !== undefined) {
      targets.push({
        target: `${fmtN(longest)}-run / ${fmtN(shortest)}-run per-turn ratio at most 1.2`,
        subject: s.backend,
        value: round(s.scaling, 2),
        limit: 1.2,
        met: s.scaling <= 1.2,
        detail: `${fmtMs(s.ours[longest]?.ms.median)} ms vs ${fmtMs(s.ours[shortest]?.ms.median)} ms (medians)${s.floorScaling !== undefined ? `; the floor's own ratio: ${fmtX(s.floorScaling)}` : ''}`,
      });
    }
    const peerLength = lengths.includes(PEER_TARGET_LENGTH) ? PEER_TARGET_LENGTH : longest;
    for (const p of s.peers) {
      const at = p.byLength[peerLength];
      if (!at || at.ratioToOurs === undefined) continue;
      targets.push({
        target: `faster than every measured peer at ${fmtN(peerLength)} runs`,
        subject: `${s.backend} vs ${p.label}`,
        value: round(at.ratioToOurs, 2),
        limit: 1,
        met: at.ratioToOurs > 1,
        detail: `peer ${fmtMs(at.median)} ms vs ours ${fmtMs(s.ours[peerLength]?.ms.median)} ms (medians)`,
      });
    }
  }
  return { lengths, shortest, longest, stores, targets };
}

export function buildReport(r: BenchResults): { json: unknown; svg: string; text: string; markdown: string; readmePerformance: string; whereTimeGoes: string } {
  const d = derive(r);
  const { lengths, stores } = d;
  const sections: { title: string; head: string[]; rows: string[][]; note?: string }[] = [];

  sections.push({
    title: 'Per-turn cost: load the 10-run window, append one run (ms, median / p99)',
    head: ['store', ...lengths.map((l) => `${fmtN(l)} runs`), `${fmtN(d.longest)}/${fmtN(d.shortest)}`, ...lengths.map((l) => `vs floor @${fmtN(l)}`)],
    rows: stores.map((s) => [
      s.label,
      ...lengths.map((l) => (s.ours[l] ? `${fmtMs(s.ours[l]!.ms.median)} / ${fmtMs(s.ours[l]!.ms.p99)}` : '-')),
      fmtX(s.scaling),
      ...lengths.map((l) => fmtX(s.toFloor[l])),
    ]),
  });
  sections.push({
    title: `Per turn against the floor, interleaved turn by turn (store / floor: median of the block ratios of ${r.config.blockRounds} rounds, IQR and min-max of the blocks)`,
    head: ['store', 'runs', 'turn', 'read', 'append', 'Node CPU', 'server CPU', 'blocks'],
    rows: stores.flatMap((s) =>
      lengths
        .filter((l) => s.inter[l])
        .map((l) => {
          const x = s.inter[l]!;
          return [s.label, fmtN(l), fmtSpread(x.ratio), fmtSpread(x.readRatio), fmtSpread(x.writeRatio), fmtSpread(x.nodeCpuRatio, false), fmtSpread(x.serverCpuRatio, false), `${x.blocks} x ${x.blockRounds}`];
        }),
    ),
  });
  const wtg = whereTimeGoes(r, d);
  sections.push({ title: wtg.title, head: wtg.head, rows: wtg.rows });
  sections.push({
    title: 'Driver floor: 1 read of the last 10 runs + 1 write, same server, same run (ms, median / p99)',
    head: ['floor', ...lengths.map((l) => `${fmtN(l)} runs`), `${fmtN(d.longest)}/${fmtN(d.shortest)}`],
    rows: stores
      .filter((s) => lengths.some((l) => s.floor[l]))
      .map((s) => [
        s.floor[lengths[0]!]?.label ?? s.backend,
        ...lengths.map((l) => (s.floor[l] ? `${fmtMs(s.floor[l]!.ms.median)} / ${fmtMs(s.floor[l]!.ms.p99)}` : '-')),
        fmtX(s.floorScaling),
      ]),
  });
  const peerRows: string[][] = [];
  for (const s of stores) {
    for (const p of s.peers) {
      peerRows.push([
        p.label,
        ...lengths.map((l) => {
          const at = p.byLength[l];
          return at ? `${fmtMs(at.median)} / ${fmtMs(at.p99)} (${fmtX(at.ratioToOurs)})` : '-';
        }),
      ]);
    }
  }
  if (peerRows.length) {
    sections.push({
      title: 'Peers, same turn on the same server: read the history, add the 4 messages (ms, median / p99, and the ratio to ours)',
      head: ['peer', ...lengths.map((l) => `${fmtN(l)} runs`)],
      rows: peerRows,
    });
  }
  if (r.notMeasured.length) {
    sections.push({
      title: 'Peers not measured (at some or all lengths)',
      head: ['peer', 'reason'],
      rows: r.notMeasured.map((n) => [n.label, n.reason]),
    });
  }
  sections.push({
    title: `Round trips per turn at ${fmtN(r.config.roundTrips.length)} runs (counted: request flights at a TCP proxy; statements/commands at the driver)`,
    head: ['who', 'round trips', 'statements/commands', 'bytes on the wire'],
    rows: r.roundTrips.map((x) => [
      x.role === 'ours' ? x.label : x.role === 'floor' ? `floor: ${x.backend}` : x.label,
      x.roundTrips ? (x.roundTrips.min === x.roundTrips.max ? String(x.roundTrips.median) : `${x.roundTrips.median} (${x.roundTrips.min}-${x.roundTrips.max})`) : 'in process',
      x.commands ? (x.commands.min === x.commands.max ? String(x.commands.median) : `${x.commands.median} (${x.commands.min}-${x.commands.max})`) : '-',
      x.bytes ? fmtBytes(x.bytes.median) : '-',
    ]),
  });
  const tp = throughputTable(r, d);
  sections.push(tp);
  if (r.memory.length) {
    sections.push({
      title: 'Memory: V8 heap allocated (and still held after a full GC) by loading a 10-run window, small session vs huge session (medians)',
      head: ['store', 'small session', 'allocated', 'held', 'huge session', 'allocated', 'held', 'huge / small'],
      rows: r.memory.map((m) => [
        m.label,
        `${fmtN(m.small.sessionRuns)} runs`,
        fmtBytes(m.small.allocatedBytes),
        fmtBytes(m.small.retainedBytes),
        `${fmtN(m.big.sessionRuns)} runs`,
        fmtBytes(m.big.allocatedBytes),
        fmtBytes(m.big.retainedBytes),
        fmtX(m.big.allocatedBytes / m.small.allocatedBytes),
      ]),
    });
  }
  const ovh = overheadSection(r);
  if (ovh) sections.push(ovh);
  sections.push({
    title: 'Targets',
    head: ['target', 'store', 'value', 'limit', 'met', 'detail'],
    rows: d.targets.map((t) => [t.target, t.subject, String(t.value), String(t.limit), t.met ? 'yes' : 'NO', t.detail]),
  });

  const env = r.environment;
  const header = [
    `agent-sessions benchmark (${r.config.name} run, ${r.durationSeconds} s, ${env.date}, commit ${env.commit ?? '?'})`,
    `machine: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB, ${env.machine.os}; Node ${env.node}${env.load ? `; load average ${env.load.start.join(' / ')} at the start${env.load.end ? `, ${env.load.end.join(' / ')} at the end` : ''}` : ''}`,
    ...Object.entries(env.servers).map(([k, v]) => `${k}: ${v}`),
    ...Object.entries(env.storeNotes ?? {}).map(([k, v]) => `${k}: ${v}`),
    ...Object.entries(env.serverCpu ?? {}).map(([k, v]) => `server CPU, ${v}`),
  ];
  const text = [...header, '', ...sections.map((s) => `${s.title}\n${table(s.head, s.rows)}\n`)].join('\n');
  const markdown = [
    ...header.map((h) => `- ${h}`),
    '',
    ...sections.map((s) => `**${s.title}**\n\n${markdownTable(s.head, s.rows)}\n`),
  ].join('\n');
  const json = { ...r, derived: { stores: d.stores, targets: d.targets } };
  const whereMd = `${markdownTable(wtg.head, wtg.rows)}\n\n${wtg.note}\n`;
  return { json, svg: chart(r, d), text, markdown, readmePerformance: readmePerformance(r, d, wtg), whereTimeGoes: whereMd };
}

/** Read and append (wall, medians) and CPU per turn (means), ours beside the floor, at the shortest and longest length. */
function whereTimeGoes(r: BenchResults, d: ReturnType<typeof derive>) {
  const ls = [...new Set([d.shortest, d.longest])];
  const rows: string[][] = [];
  for (const s of d.stores) {
    for (const l of ls) {
      const o = s.ours[l];
      if (!o) continue;
      const f = s.floor[l];
      const cell = (ours: string, floor: string | undefined) => (f ? `${ours} / ${floor}` : ours);
      rows.push([
        s.label,
        fmtN(l),
        cell(fmtMs(o.readMs.median), fmtMs(f?.readMs.median)),
        cell(fmtMs(o.writeMs.median), fmtMs(f?.writeMs.median)),
        cell(fmtMs(o.ms.median), fmtMs(f?.ms.median)),
        cell(fmtUs(o.cpu?.nodeUs), fmtUs(f?.cpu?.nodeUs)),
        o.cpu?.serverUs === null || o.cpu?.serverUs === undefined ? 'in process' : cell(fmtUs(o.cpu.serverUs), fmtUs(f?.cpu?.serverUs)),
      ]);
    }
  }
  return {
    title: 'Where the time goes: store / floor per turn (read and append: median wall ms; CPU: mean per turn)',
    head: ['store', 'runs', 'read ms', 'append ms', 'turn ms', 'Node CPU', 'server CPU'],
    rows,
    note: `Each cell is *store / floor*, measured turn by turn in the same run (${r.environment.date.slice(0, 10)}, commit ${r.environment.commit ?? '?'}, ${r.config.name} run). Node CPU: \`process.cpuUsage()\` around each timed turn (this process, all threads; for PGlite it includes the database). Server CPU: the server's process tree (every PostgreSQL backend and background process, redis-server, FerretDB) from /proc schedstat, read before and after each turn.`,
  };
}

function throughputTable(r: BenchResults, d: ReturnType<typeof derive>) {
  const rows: string[][] = [];
  for (const s of d.stores) {
    for (const t of [s.tput, s.floorTput, s.oneSession]) {
      if (!t) continue;
      const who = t.mode === 'one-session' ? `${s.label}: ${t.concurrency} writers on ONE session` : t.role === 'floor' ? `floor: ${s.backend}` : s.label;
      const vs =
        t.mode === 'one-session'
          ? s.tput
            ? `${fmtX(t.turnsPerSecond / s.tput.turnsPerSecond)} of ${t.concurrency} sessions`
            : '-'
          : t.role === 'ours'
            ? fmtSpread(s.tputRatio, false)
            : '1x';
      rows.push([
        who,
        fmtN(t.length),
        t.turnsPerSecond.toFixed(0),
        vs,
        fmtMs(t.ms.median),
        fmtMs(t.ms.p99),
        fmtUs(t.cpu.nodeUs),
        t.cpu.serverUs === null ? '-' : fmtUs(t.cpu.serverUs),
        t.errors ? `${t.errors}: ${t.firstError ?? ''}`.slice(0, 120) : '0',
      ]);
    }
  }
  const c = r.config.throughput;
  return {
    title: `Throughput: ${c.concurrency} sessions turned in parallel against one server, store and floor alternating in ${c.segments} segment pairs (${fmtN(c.seconds / c.segments)} s each after ${c.warmupSeconds} s of warm-up), in a fresh process per store; then ${c.concurrency} writers on one session for ${c.oneSessionSeconds} s`,
    head: ['who', 'session runs', 'turns/s', 'vs floor (median pair, min-max)', 'median ms', 'p99 ms', 'Node CPU/turn', 'server CPU/turn', 'failed turns'],
    rows,
  };
}

/** The operating-cost table (tracing on, encryption on, each against the same store without). */
function overheadSection(r: BenchResults): { title: string; head: string[]; rows: string[][] } | undefined {
  const o = r.overhead;
  if (!o || (o.results.length === 0 && o.notMeasured.length === 0)) return undefined;
  const t = overheadTable(o);
  const plan = o.results[0]?.plan;
  const measured = `${o.date.slice(0, 10)}, commit ${o.commit ?? '?'}`;
  return {
    title: `Operating cost per turn (load the 10-run window, append one run): the same store plain, with tracing on (OpenTelemetry SDK, batch span processor, metrics) and with encryption on (AES-256-GCM per item), interleaved round by round; ms medians, ratios are the median of per-block ratios (min-max)${plan ? `, blocks of ${plan.block} rounds` : ''}; measured ${measured}`,
    head: t.head,
    rows: [...t.rows, ...o.notMeasured.map((n) => [n.backend, 'not measured', n.reason, '', '', '', ''])],
  };
}

/** The text of the root README's Performance section, from this run (the lead pastes it). */
function readmePerformance(r: BenchResults, d: ReturnType<typeof derive>, wtg: ReturnType<typeof whereTimeGoes>): string {
  const env = r.environment;
  const { lengths } = d;
  const head = ['store', ...lengths.map((l) => `${fmtN(l)} runs`), `${fmtN(d.longest)} / ${fmtN(d.shortest)}`, ...[d.shortest, d.longest].map((l) => `vs floor @${fmtN(l)}`), 'round trips'];
  const rows = d.stores.map((s) => [
    s.label,
    ...lengths.map((l) => fmtMs(s.ours[l]?.ms.median)),
    fmtX(s.scaling),
    ...[d.shortest, d.longest].map((l) => fmtSpread(s.inter[l]?.ratio, false)),
    s.rt?.roundTrips ? String(s.rt.roundTrips.median) : s.rt?.commands ? `${s.rt.commands.median} statements` : s.backend === 'postgres-fsync' ? 'as Postgres' : 'in process',
  ]);
  const c = r.config.throughput;
  const tRows = d.stores
    .filter((s) => s.tput)
    .map((s) => [
      s.label,
      s.tput!.turnsPerSecond.toFixed(0),
      s.floorTput ? s.floorTput.turnsPerSecond.toFixed(0) : '-',
      fmtSpread(s.tputRatio, false),
      s.oneSession ? s.oneSession.turnsPerSecond.toFixed(0) : '-',
      fmtUs(s.tput!.cpu.nodeUs),
      s.tput!.cpu.serverUs === null ? '-' : fmtUs(s.tput!.cpu.serverUs),
    ]);
  const peerLines = d.stores
    .flatMap((s) => s.peers.map((p) => ({ s, p, at: p.byLength[PEER_TARGET_LENGTH] })))
    .filter((x) => x.at?.ratioToOurs !== undefined)
    .map((x) => `${x.p.label} ${fmtMs(x.at!.median)} ms (${fmtX(x.at!.ratioToOurs)} ours)`);
  const servers = Object.entries(env.servers).map(([k, v]) => `- ${k}: ${v}`);
  const missed = d.targets.filter((t) => !t.met);
  const minutes = Math.max(1, Math.round(r.durationSeconds / 60));
  return [
    '## Performance',
    '',
    `\`pnpm bench\` (after \`npm test\`'s set-up; about ${minutes} minute${minutes === 1 ? '' : 's'} on ${env.machine.cores} cores) times one agent turn, *load`,
    'the 10-run window, save one run* (a user message, a tool call, its result, the answer: 1.3 KB),',
    `for every store at session lengths of ${lengths.slice(0, -1).map(fmtN).join(', ')} and ${fmtN(d.longest)} runs. Each store's turns are interleaved turn by turn`,
    'with the same turn written directly with the driver in two round trips (the *floor*), on the same',
    `server and session length; the ratio to the floor is taken per block of ${r.config.blockRounds} rounds and reported as`,
    'the median block ratio with the range of the blocks, so that whatever else the machine does falls on',
    'both alike. CPU per turn is measured beside wall time, in Node and in the server process. It writes',
    '[`bench/results/latest.json`](bench/results/latest.json), [`latest.svg`](bench/results/latest.svg) and',
    '[`latest.md`](bench/results/latest.md) (every table, with LangChain and LangGraph peers); [bench/README.md](bench/README.md)',
    'says how each number is made.',
    '',
    `Latest ${r.config.name} run (${env.date.slice(0, 10)}, commit ${env.commit ?? '?'}, ${r.durationSeconds} s): ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB, Node ${env.node.replace(/^v/, '')}${env.load ? ` (load average ${env.load.start[0]} at the start${env.load.end ? `, ${env.load.end[0]} at the end` : ''}: a shared machine)` : ''}; all servers on loopback:`,
    '',
    ...servers,
    '',
    'Per turn, median ms; *vs floor*: median of the interleaved block ratios (min-max of the blocks):',
    '',
    markdownTable(head, rows),
    '',
    '![Per-turn cost of each store, its driver floor and the peers](bench/results/latest.svg)',
    '',
    `Where the time goes (store / floor):`,
    '',
    markdownTable(wtg.head, wtg.rows),
    '',
    `Throughput, ${c.concurrency} sessions in parallel on one server (store and floor alternating, ${c.segments} pairs of ${fmtN(c.seconds / c.segments)} s, in a fresh process per store), and ${c.concurrency} writers on one session:`,
    '',
    markdownTable(['store', 'turns/s', 'floor turns/s', 'vs floor', `${c.concurrency} writers, one session`, 'Node CPU/turn', 'server CPU/turn'], tRows),
    '',
    ...(peerLines.length ? [`Peers at ${fmtN(PEER_TARGET_LENGTH)} runs: ${peerLines.join('; ')}.`, ''] : []),
    ...readmeOverhead(r),
    missed.length
      ? `Targets missed in this run: ${missed.map((t) => `${t.subject}: ${t.target} (${t.value} against ${t.limit})`).join('; ')}.`
      : 'Every target met in this run.',
    '',
  ].join('\n');
}

/** The README's lines for the operating cost (none when the results predate it). */
function readmeOverhead(r: BenchResults): string[] {
  const o = r.overhead;
  if (!o || o.results.length === 0) return [];
  const t = overheadTable(o);
  return [
    `Operating cost: the same turn with tracing on (OpenTelemetry SDK with a batch span processor and metrics) and with encryption on (AES-256-GCM per item), against the same store with neither, interleaved round by round (measured ${o.date.slice(0, 10)}, commit ${o.commit ?? '?'}; ratio: median of per-block ratios, min-max):`,
    '',
    markdownTable(t.head, t.rows),
    '',
  ];
}

/** Replaces the generated table between the markers in bench/README.md (left alone when the markers are missing). */
export function writeReadmeTable(path: string, table: string): void {
  const begin = '<!-- where-the-time-goes:begin (generated by pnpm bench) -->';
  const end = '<!-- where-the-time-goes:end -->';
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return;
  writeFileSync(path, `${text.slice(0, a + begin.length)}\n\n${table}\n${text.slice(b)}`);
}

// ---- the chart: per-turn medians on a log scale, ours beside the floor and the peers ----

const COLORS = { ours: '#2563eb', floor: '#9ca3af', peer: '#f97316' } as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function chart(r: BenchResults, d: ReturnType<typeof derive>): string {
  type Bar = { label: string; value: number; role: keyof typeof COLORS };
  const groups: { title: string; bars: Bar[] }[] = [];
  for (const s of d.stores) {
    for (const l of d.lengths) {
      const bars: Bar[] = [];
      if (s.ours[l]) bars.push({ label: s.label, value: s.ours[l]!.ms.median, role: 'ours' });
      if (s.floor[l]) bars.push({ label: 'driver floor', value: s.floor[l]!.ms.median, role: 'floor' });
      for (const p of s.peers) {
        const at = p.byLength[l];
        if (at) bars.push({ label: p.label, value: at.median, role: 'peer' });
      }
      if (bars.length) groups.push({ title: `${s.backend} · ${fmtN(l)} runs`, bars });
    }
  }
  const values = groups.flatMap((g) => g.bars.map((b) => b.value)).filter((v) => v > 0);
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 1)));
  const W = 1000;
  const left = 380;
  const right = 90;
  const barH = 14;
  const gap = 4;
  const groupGap = 14;
  const top = 70;
  const plotW = W - left - right;
  const x = (v: number) => left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  let y = top;
  const parts: string[] = [];
  for (const g of groups) {
    parts.push(`<text x="12" y="${y + 11}" font-weight="bold">${esc(g.title)}</text>`);
    y += 16;
    for (const b of g.bars) {
      parts.push(`<text x="${left - 8}" y="${y + barH - 3}" text-anchor="end">${esc(b.label)}</text>`);
      parts.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(b.value) - left).toFixed(1)}" height="${barH}" fill="${COLORS[b.role]}"/>`);
      parts.push(`<text x="${(x(b.value) + 4).toFixed(1)}" y="${y + barH - 3}">${fmtMs(b.value)} ms</text>`);
      y += barH + gap;
    }
    y += groupGap;
  }
  const bottom = y;
  const ticks: string[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) {
    const tx = x(v).toFixed(1);
    ticks.push(`<line x1="${tx}" y1="${top - 6}" x2="${tx}" y2="${bottom}" stroke="#e5e7eb"/>`);
    ticks.push(`<text x="${tx}" y="${top - 10}" text-anchor="middle" fill="#6b7280">${v >= 1 ? v : v.toPrecision(1)} ms</text>`);
  }
  const env = r.environment;
  const legend = (['ours', 'floor', 'peer'] as const)
    .map((k, i) => `<rect x="${12 + i * 150}" y="${bottom + 8}" width="12" height="12" fill="${COLORS[k]}"/><text x="${30 + i * 150}" y="${bottom + 18}">${{ ours: 'agent-sessions', floor: 'driver floor', peer: 'peer library' }[k]}</text>`)
    .join('');
  const H = bottom + 56;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif" font-size="11">
<rect width="${W}" height="${H}" fill="#ffffff"/>
<text x="12" y="22" font-size="15" font-weight="bold">Per-turn cost (median ms, log scale): load the window + save one run</text>
<text x="12" y="40" fill="#4b5563">${esc(`${env.machine.cpu}, ${env.machine.cores} cores, Node ${env.node}, ${env.date.slice(0, 10)}, commit ${env.commit ?? '?'} (${r.config.name} run)`)}</text>
${ticks.join('\n')}
${parts.join('\n')}
${legend}
<text x="12" y="${bottom + 40}" fill="#6b7280">Peers read the whole history each turn (their API has no window); ours and the floor read the last 10 runs.${/ferretdb/i.test(env.servers.mongodb ?? '') ? ' MongoDB here is FerretDB 1.x: every find scans the collection.' : ''}</text>
</svg>
`;
}
