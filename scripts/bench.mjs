// `pnpm bench`: builds the packages, makes sure the database servers are installed, then runs
// the benchmark (bench/src/main.ts, through tsx) against throwaway servers the test-services
// harness starts. Writes bench/results/latest.{json,svg,md} and prints the table.
// Extra arguments go to the benchmark: `pnpm bench --only postgres,redis`, `--no-peers`,
// `--smoke`, `--out <dir>`.
import { join } from 'node:path';
import { ensurePnpm, installAndBuild, log, root, run } from './lib.mjs';
import { ensureServices } from './install-services.mjs';

const pnpm = ensurePnpm();
installAndBuild(pnpm);
ensureServices();

log('running the benchmark (about 11 to 15 minutes on 2 cores; progress below, the table at the end)');
run('node', ['--import', 'tsx', join('bench', 'src', 'main.ts'), ...process.argv.slice(2)], {
  // bench/tsconfig.json has no path mapping: @agent-sessions/* resolve to the built packages.
  env: { TSX_TSCONFIG_PATH: join(root, 'bench', 'tsconfig.json') },
});
