// CPU profiles of store turns: where Node spends a turn's CPU, by function, so the store code can
// be cut where it costs. V8's sampling profiler (what `node --cpu-prof` records), started and
// stopped through node:inspector around the timed turns only, so that start-up, module loading
// and filling the session stay out of the profile.
//
//   TSX_TSCONFIG_PATH=tsconfig.json node --import tsx bench/src/profile.ts [postgres,redis] [--turns 3000] [--length 1000]
//
// With the root tsconfig (path mapping) the stores run from their TypeScript sources, so every
// frame names its source file (packages/<pkg>/src/<file>.ts); with bench/tsconfig.json, the
// built packages (dist bundles). Writes .tmp/profile/<backend>.cpuprofile (Chrome DevTools,
// speedscope) and prints the self time by function.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Backend } from './contender.js';
import { OURS } from './ours.js';
import { sessionKey } from './measure.js';
import { closePglite } from './pglite.js';
import { startServers } from './services.js';

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    turns: { type: 'string', default: '3000' },
    length: { type: 'string', default: '1000' },
    warmup: { type: 'string', default: '300' },
    interval: { type: 'string', default: '50' },
    out: { type: 'string' },
    top: { type: 'string', default: '25' },
  },
});
const backends = (positionals[0] ?? 'postgres,redis').split(',').map((s) => s.trim()) as Backend[];
const turns = Number(opts.turns);
const length = Number(opts.length);
const root = resolve(import.meta.dirname, '..', '..');
const outDir = resolve(opts.out ?? join(root, '.tmp', 'profile'));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives. */
function place(url: string, fn: string): { group: string; where: string } {
  if (fn === '(idle)') return { group: 'idle (waiting for the server)', where: '(idle)' };
  if (fn === '(garbage collector)') return { group: 'GC', where: '(garbage collector)' };
  if (fn === '(program)' || fn === '(root)') return { group: 'V8/native (program)', where: fn };
  const path = url.replace(/^file:\/\//, '');
  const ours = /\/packages\/([^/]+)\/(src|dist)\/(.+)$/.exec(path);
  if (ours) return { group: `ours: ${ours[1]}`, where: `packages/${ours[1]}/${ours[2]}/${ours[3]}` };
  const mod = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(path);
  if (mod) return { group: `dependency: ${mod[1]}`, where: `${mod[1]}/${path.slice(path.lastIndexOf(`${mod[1]}/`) + mod[1]!.length + 1)}` };
  if (path.startsWith('node:') || !path) return { group: 'Node internals', where: path || '(native)' };
  if (path.includes('/bench/src/')) return { group: 'bench harness', where: path.slice(path.indexOf('bench/src/')) };
  return { group: 'other', where: path };
}

function analyse(profile: Profile, turnCount: number, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0));
  }
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const groups = new Map<string, number>();
  const fns = new Map<string, { us: number; group: string }>();
  for (const [id, us] of selfUs) {
    const { callFrame: cf } = byId.get(id)!;
    const fn = cf.functionName || '(anonymous)';
    const p = place(cf.url, fn);
    groups.set(p.group, (groups.get(p.group) ?? 0) + us);
    const key = p.group.startsWith('ours') ? `${p.where}:${fn}` : `${p.where}:${fn}`;
    const f = fns.get(key) ?? { us: 0, group: p.group };
    f.us += us;
    fns.set(key, f);
  }
  const idle = groups.get('idle (waiting for the server)') ?? 0;
  const busy = total - idle;
  const pct = (us: number, of: number) => `${((100 * us) / of).toFixed(1)}%`;
  const perTurn = (us: number) => `${(us / turnCount).toFixed(1)} us/turn`;
  const lines: string[] = [];
  lines.push(`profiled ${turnCount} turns: ${(total / 1000).toFixed(0)} ms sampled, ${perTurn(total)} wall; Node busy ${perTurn(busy)} (${pct(busy, total)}), idle ${pct(idle, total)}`);
  lines.push('');
  lines.push('self time by where the code lives (share of busy time):');
  for (const [g, us] of [...groups].filter(([g]) => !g.startsWith('idle')).sort((a, b) => b[1] - a[1])) {
    lines.push(`  ${g.padEnd(44)} ${pct(us, busy).padStart(6)}  ${perTurn(us)}`);
  }
  lines.push('');
  lines.push(`our packages, top ${top} functions by self time (share of busy time):`);
  const oursFns = [...fns].filter(([, f]) => f.group.startsWith('ours')).sort((a, b) => b[1].us - a[1].us);
  for (const [k, f] of oursFns.slice(0, top)) lines.push(`  ${pct(f.us, busy).padStart(6)}  ${perTurn(f.us).padStart(16)}  ${k}`);
  lines.push('');
  lines.push(`all code, top ${top} functions by self time (share of busy time):`);
  for (const [k, f] of [...fns].filter(([, f]) => !f.group.startsWith('idle')).sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    lines.push(`  ${pct(f.us, busy).padStart(6)}  ${perTurn(f.us).padStart(16)}  ${k}`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const servers = await startServers(backends);
  const session = new Session();
  session.connect();
  try {
    for (const backend of backends) {
      const factory = OURS.find((f) => f.backend === backend);
      if (!factory) throw new Error(`no store for ${backend}`);
      const url = backend === 'postgres' || backend === 'redis' || backend === 'mongodb' ? servers[backend] : undefined;
      const c = await factory.create(url);
      try {
        const prefix = `prof${Date.now().toString(36)}`;
        const key = sessionKey(prefix, length, 0);
        await c.populate(key, length);
        for (let i = 0; i < Number(opts.warmup); i++) await c.turn(key, length + i);
        await session.post('Profiler.enable');
        await session.post('Profiler.setSamplingInterval', { interval: Number(opts.interval) });
        await session.post('Profiler.start');
        const t0 = performance.now();
        for (let i = 0; i < turns; i++) await c.turn(key, length + 1000 + i);
        const ms = performance.now() - t0;
        const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
        await session.post('Profiler.disable');
        const file = join(outDir, `${backend}.cpuprofile`);
        writeFileSync(file, JSON.stringify(profile));
        process.stdout.write(`\n=== ${backend} (${c.label}), session of ${length} runs, ${turns} turns in ${ms.toFixed(0)} ms (${((1000 * ms) / turns).toFixed(0)} us/turn, profiler on) -> ${file}\n`);
        process.stdout.write(`${analyse(profile, turns, Number(opts.top))}\n`);
      } finally {
        await c.close();
      }
    }
  } finally {
    session.disconnect();
    await closePglite();
    await servers.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[profile] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
