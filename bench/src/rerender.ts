// Renders the report again from a results file, without measuring: after a change to the
// report's wording or tables (src/report.ts), so that latest.{md,svg} and README-performance.md
// match the same latest.json.
//   TSX_TSCONFIG_PATH=bench/tsconfig.json node --import tsx bench/src/rerender.ts [bench/results] [--readme]
// --readme also rewrites bench/README.md's "where the time goes" table.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildReport, writeReadmeTable, type BenchResults } from './report.js';

const args = process.argv.slice(2);
const dir = resolve(args.find((a) => !a.startsWith('--')) ?? join(import.meta.dirname, '..', 'results'));
const { derived: _derived, ...results } = JSON.parse(readFileSync(join(dir, 'latest.json'), 'utf8')) as BenchResults & { derived?: unknown };
const report = buildReport(results);
writeFileSync(join(dir, 'latest.json'), `${JSON.stringify(report.json, null, 2)}\n`);
writeFileSync(join(dir, 'latest.svg'), report.svg);
writeFileSync(join(dir, 'latest.md'), report.markdown);
writeFileSync(join(dir, 'README-performance.md'), report.readmePerformance);
if (args.includes('--readme')) writeReadmeTable(join(import.meta.dirname, '..', 'README.md'), report.whereTimeGoes);
process.stdout.write(`${report.text}\n`);
