import type { BenchConfig } from './config.js';
import { BACKENDS, type NotMeasured } from './contender.js';
import type { Environment } from './environment.js';
import type { LoadMemory } from './memory.js';
import type { ThroughputResult, TurnResult } from './measure.js';
import { round, type Summary } from './stats.js';

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
  roundTrips: RoundTripResult[];
  throughput: ThroughputResult[];
  memory: MemoryResult[];
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

const SERVER_BACKENDS = ['postgres', 'redis', 'mongodb'];
const PEER_TARGET_LENGTH = 1000;

const fmtMs = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const fmtX = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}x`);
const fmtN = (n: number) => n.toLocaleString('en-US');
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
    const toFloor = Object.fromEntries(
      lengths.map((l) => [l, floor[l] && ours[l] ? ours[l]!.ms.median / floor[l]!.ms.median : undefined]),
    );
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
    return { backend, label: ours[shortest]?.label ?? backend, ours, floor, toFloor, scaling, floorScaling, peers };
  });

  const targets: Target[] = [];
  for (const s of stores) {
    if (SERVER_BACKENDS.includes(s.backend)) {
      const ratios = lengths.map((l) => [l, s.toFloor[l]] as const).filter(([, v]) => v !== undefined) as [number, number][];
      if (ratios.length) {
        const worst = ratios.reduce((a, b) => (b[1] > a[1] ? b : a));
        targets.push({
          target: 'per-turn cost within 1.3x of the driver floor',
          subject: s.backend,
          value: round(worst[1], 2),
          limit: 1.3,
          met: worst[1] <= 1.3,
          detail: ratios.map(([l, v]) => `${fmtN(l)} runs: ${fmtX(v)}`).join(', '),
        });
      }
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

export function buildReport(r: BenchResults): { json: unknown; svg: string; text: string; markdown: string } {
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
  const split = lengths.includes(PEER_TARGET_LENGTH) ? PEER_TARGET_LENGTH : d.longest;
  sections.push({
    title: `Where a turn's time goes at ${fmtN(split)} runs: read (load the window) + write (save the run), medians in ms`,
    head: ['store', 'read', 'write', 'floor read', 'floor write'],
    rows: stores.map((s) => [
      s.label,
      fmtMs(s.ours[split]?.readMs.median),
      fmtMs(s.ours[split]?.writeMs.median),
      fmtMs(s.floor[split]?.readMs.median),
      fmtMs(s.floor[split]?.writeMs.median),
    ]),
  });
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
  sections.push({
    title: `Throughput: ${r.config.throughput.concurrency} sessions turned in parallel against one server for ${r.config.throughput.seconds} s`,
    head: ['who', 'session runs', 'turns/s', 'median ms', 'p99 ms'],
    rows: r.throughput.map((t) => [
      t.role === 'floor' ? `floor: ${t.backend}` : t.label,
      fmtN(t.length),
      t.turnsPerSecond.toFixed(0),
      fmtMs(t.ms.median),
      fmtMs(t.ms.p99),
    ]),
  });
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
  sections.push({
    title: 'Targets',
    head: ['target', 'store', 'value', 'limit', 'met', 'detail'],
    rows: d.targets.map((t) => [t.target, t.subject, String(t.value), String(t.limit), t.met ? 'yes' : 'NO', t.detail]),
  });

  const env = r.environment;
  const header = [
    `agent-sessions benchmark (${r.config.name} run, ${r.durationSeconds} s, ${env.date}, commit ${env.commit ?? '?'})`,
    `machine: ${env.machine.cpu}, ${env.machine.cores} cores, ${env.machine.memoryGiB} GiB, ${env.machine.os}; Node ${env.node}`,
    ...Object.entries(env.servers).map(([k, v]) => `${k}: ${v}`),
    ...Object.entries(env.storeNotes ?? {}).map(([k, v]) => `${k}: ${v}`),
  ];
  const text = [...header, '', ...sections.map((s) => `${s.title}\n${table(s.head, s.rows)}\n`)].join('\n');
  const markdown = [
    ...header.map((h) => `- ${h}`),
    '',
    ...sections.map((s) => `**${s.title}**\n\n${markdownTable(s.head, s.rows)}\n`),
  ].join('\n');
  const json = { ...r, derived: { stores: d.stores, targets: d.targets } };
  return { json, svg: chart(r, d), text, markdown };
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
