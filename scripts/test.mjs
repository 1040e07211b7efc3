// The README's test command: sets up everything a fresh machine lacks, then runs every check.
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensurePnpm, installAndBuild, log, root, run } from './lib.mjs';
import { ensureServices } from './install-services.mjs';

const pnpm = ensurePnpm();
installAndBuild(pnpm);
ensureServices();

log('type-checking');
run(pnpm, ['run', 'typecheck']);

log('checking the published packages (publint --strict, attw --pack, pack contents)');
run('node', ['scripts/check-packages.mjs']);

log('running the tests');
mkdirSync(join(root, '.tmp'), { recursive: true });
const report = join(root, '.tmp', 'vitest-report.json');
const res = run(pnpm, ['exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`], {
  allowFail: true,
});

if (res.status === 0) {
  // The README's other command, as a user runs it (set-up already done), on a throwaway store.
  log('running the demo (npm run demo) on a fresh embedded store');
  const demoDir = mkdtempSync(join(tmpdir(), 'agent-sessions-demo-'));
  run('node', ['scripts/demo.mjs', '--no-setup'], { env: { DEMO_DATA_DIR: demoDir } });
  for (const step of ['scripts/bench-smoke.mjs']) {
    if (existsSync(join(root, step))) {
      log(`running ${step}`);
      run('node', [step]);
    }
  }
}

if (existsSync(report)) {
  const r = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  process.stdout.write(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped\n`);
  if (skipped > 0) {
    log('a skipped test counts as a failure here: every suite must run');
    process.exit(1);
  }
}
process.exit(res.status ?? 1);
