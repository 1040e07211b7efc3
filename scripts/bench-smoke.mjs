// The benchmark's smoke run, part of the test command (scripts/test.mjs runs it after the
// tests): the same code as `pnpm bench` with tiny sizes, so it cannot rot. It starts its own
// servers (including the fsync-on PostgreSQL), exercises every section (per-turn cost with the
// store and floor interleaved and CPU per turn, peers, round trips, throughput with its floor
// ratio and the one-session writers, memory, the operating cost with tracing on and with
// encryption on, the report and the README text) and fails on any error or on a section that
// came back empty.
// Expects the packages to be built (the test command builds them first).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { log, root, run } from './lib.mjs';

const out = join(root, '.tmp', 'bench-smoke');
run('node', ['--import', 'tsx', join('bench', 'src', 'main.ts'), '--smoke', '--out', out, ...process.argv.slice(2)], {
  env: { TSX_TSCONFIG_PATH: join(root, 'bench', 'tsconfig.json') },
});

const file = join(out, 'latest.json');
if (!existsSync(file) || !existsSync(join(out, 'latest.svg'))) {
  log(`bench smoke: ${out} lacks latest.json or latest.svg`);
  process.exit(1);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const problems = [];
for (const backend of r.config.backends) {
  for (const length of r.config.lengths) {
    if (!r.perTurn.some((t) => t.backend === backend && t.role === 'ours' && t.length === length && t.ms.n > 0)) {
      problems.push(`no per-turn result for ${backend} at ${length} runs`);
    }
  }
  if (backend !== 'memory' && !r.perTurn.some((t) => t.backend === backend && t.role === 'floor')) problems.push(`no floor for ${backend}`);
  if (backend !== 'memory') {
    for (const length of r.config.lengths) {
      const x = r.interleaved.find((i) => i.backend === backend && i.length === length);
      if (!x || !(x.ratio.n > 0) || !Number.isFinite(x.ratio.median)) problems.push(`no interleaved ratio for ${backend} at ${length} runs`);
    }
    if (!r.throughputRatios.some((x) => x.backend === backend && x.ratio.n > 0)) problems.push(`no throughput ratio for ${backend}`);
  }
  for (const t of r.perTurn.filter((t) => t.backend === backend && t.role !== 'peer')) {
    if (!(t.cpu?.nodeUs > 0)) problems.push(`no Node CPU per turn for ${t.id} at ${t.length} runs`);
    if (['postgres', 'postgres-fsync', 'redis', 'mongodb'].includes(backend) && !(t.cpu?.serverUs > 0)) problems.push(`no server CPU per turn for ${t.id} at ${t.length} runs`);
  }
  if (backend !== 'postgres-fsync' && !r.roundTrips.some((x) => x.backend === backend && x.role === 'ours')) problems.push(`no round-trip count for ${backend}`);
  if (!r.throughput.some((x) => x.backend === backend && x.role === 'ours' && x.mode === 'sessions' && x.turns > 0)) problems.push(`no throughput run for ${backend}`);
  const one = r.throughput.find((x) => x.backend === backend && x.mode === 'one-session');
  if (!one || one.turns === 0) problems.push(`no one-session throughput for ${backend}`);
  else if (one.errors) problems.push(`${backend}: ${one.errors} failed turns with writers on one session: ${one.firstError}`);
}
if (r.config.backends.includes('postgres-fsync') && !/fsync=on, synchronous_commit=on/.test(r.environment.servers['postgres-fsync'] ?? '')) {
  problems.push(`the fsync-on server does not report fsync=on, synchronous_commit=on: ${r.environment.servers['postgres-fsync']}`);
}
// The operating-cost section: every store measured plain, traced and encrypted, with finite ratios.
for (const backend of r.config.backends.filter((b) => ['memory', 'pglite', 'postgres', 'redis', 'mongodb'].includes(b))) {
  const o = r.overhead?.results.find((x) => x.backend === backend);
  if (!o) problems.push(`no operating-cost result for ${backend}${r.overhead?.notMeasured.find((n) => n.backend === backend) ? `: ${r.overhead.notMeasured.find((n) => n.backend === backend).reason}` : ''}`);
  else if (!(o.tracedRatio.n > 0 && Number.isFinite(o.tracedRatio.median) && o.encryptedRatio.n > 0 && Number.isFinite(o.encryptedRatio.median))) {
    problems.push(`no tracing/encryption ratio for ${backend}`);
  }
}
if (!(r.overhead?.spans > 0)) problems.push('the tracing variant exported no spans');
if (!/Operating cost per turn/.test(readFileSync(join(out, 'latest.md'), 'utf8'))) problems.push('latest.md has no operating-cost table');
if (!existsSync(join(out, 'README-performance.md'))) problems.push('no README-performance.md');
if (!r.perTurn.some((t) => t.role === 'peer') && r.notMeasured.length === 0) problems.push('no peer was run');
if (r.memory.length === 0) problems.push('no memory result');
if (!Array.isArray(r.derived?.targets) || r.derived.targets.length === 0) problems.push('no targets evaluated');
if (problems.length) {
  log(`bench smoke failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
log(`bench smoke passed: ${r.perTurn.length} per-turn results, ${r.overhead.results.length} operating-cost results, ${r.roundTrips.length} round-trip counts, ${r.throughput.length} throughput runs, ${r.memory.length} memory results, ${r.notMeasured.length} peers not measured`);
