// The benchmark's smoke run, part of the test command (scripts/test.mjs runs it after the
// tests): the same code as `pnpm bench` with tiny sizes, so it cannot rot. It starts its own
// servers, exercises every section (per-turn cost, floors, peers, round trips, throughput,
// memory, the report) and fails on any error or on a section that came back empty.
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
  if (!r.roundTrips.some((x) => x.backend === backend && x.role === 'ours')) problems.push(`no round-trip count for ${backend}`);
  if (!r.throughput.some((x) => x.backend === backend && x.role === 'ours')) problems.push(`no throughput run for ${backend}`);
}
if (!r.perTurn.some((t) => t.role === 'peer') && r.notMeasured.length === 0) problems.push('no peer was run');
if (r.memory.length === 0) problems.push('no memory result');
if (!Array.isArray(r.derived?.targets) || r.derived.targets.length === 0) problems.push('no targets evaluated');
if (problems.length) {
  log(`bench smoke failed:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
log(`bench smoke passed: ${r.perTurn.length} per-turn results, ${r.roundTrips.length} round-trip counts, ${r.throughput.length} throughput runs, ${r.memory.length} memory results, ${r.notMeasured.length} peers not measured`);
