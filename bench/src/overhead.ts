// The operating-cost section of `pnpm bench` on its own: per-turn cost with tracing on and with
// encryption on, as ratios to the same store without (see operating-cost.ts).
//
// Against the sources (no build needed; starts its own servers with the test-services harness):
//   TSX_TSCONFIG_PATH=tsconfig.json node --import tsx bench/src/overhead.ts [--turns 400] [--only memory,pglite,postgres,redis,mongodb] [--merge bench/results]
// POSTGRES_URL / REDIS_URL / MONGODB_URL in the environment use those servers instead.
// --merge <dir>: writes the section into <dir>/latest.json (keeping the other sections of that
// run) and renders latest.md, latest.svg and README-performance.md again from it.

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL } from './config.js';
import { measureOverhead, OVERHEAD_BACKENDS, overheadTable, type OverheadBackend } from './operating-cost.js';
import { buildReport, type BenchResults } from './report.js';
import { startServers } from './services.js';

const { values: args } = parseArgs({
  options: { turns: { type: 'string' }, only: { type: 'string' }, merge: { type: 'string' } },
});
const only = (args.only?.split(',').map((s) => s.trim()) as OverheadBackend[] | undefined) ?? [...OVERHEAD_BACKENDS];
for (const b of only) if (!OVERHEAD_BACKENDS.includes(b)) throw new Error(`unknown backend '${b}' (one of ${OVERHEAD_BACKENDS.join(', ')})`);
const servers = await startServers(only);
const log = (msg: string) => process.stderr.write(`[overhead] ${msg}\n`);
let commit: string | null = null;
try {
  commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
} catch {}
try {
  const isFerret = /ferretdb/i.test(servers.mongodbServer ?? '');
  const section = await measureOverhead({
    backends: only,
    urls: { postgres: servers.postgres, redis: servers.redis, mongodb: servers.mongodb },
    plan: (b) => {
      const plan = b === 'mongodb' && isFerret ? FULL.ferretdb.overhead : FULL.overhead;
      return args.turns ? { ...plan, turns: Number(args.turns) } : plan;
    },
    commit,
    log,
  });
  const t = overheadTable(section);
  console.log(`\nPer-turn cost (load the last 10 runs + append one 4-item run), median ms; ratios: median of per-block ratios (min-max); ${section.spans} spans exported\n`);
  console.log(`| ${t.head.join(' | ')} |`);
  console.log(`| ${t.head.map(() => '---').join(' | ')} |`);
  for (const row of t.rows) console.log(`| ${row.join(' | ')} |`);
  for (const n of section.notMeasured) console.log(`not measured: ${n.backend}: ${n.reason}`);
  if (args.merge) {
    const dir = resolve(args.merge);
    const { derived: _derived, ...results } = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchResults & { derived?: unknown };
    const report = buildReport({ ...results, overhead: section });
    writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report.json, null, 2)}\n`);
    writeFileSync(join(dir, 'latest.svg'), report.svg);
    writeFileSync(join(dir, 'latest.md'), report.markdown);
    writeFileSync(join(dir, 'README-performance.md'), report.readmePerformance);
    log(`merged into ${join(dir, 'latest.json')} and rendered latest.md, latest.svg, README-performance.md`);
  }
} finally {
  await servers.stop();
}
