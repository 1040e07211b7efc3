// The README's demo command: sets up what a fresh machine lacks, then shows a wrapped agent
// remembering across process restarts on an embedded store (PGlite, in ./.agent-sessions/demo).
//   npm run demo                    # embedded PGlite
//   npm run demo -- --url redis://127.0.0.1:6379   # or postgres://…, mongodb://…
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensurePnpm, installAndBuild, log, root } from './lib.mjs';

const argv = process.argv.slice(2);
const pnpm = ensurePnpm();
if (!argv.includes('--no-setup')) installAndBuild(pnpm);
const urlAt = argv.indexOf('--url');
const urlArgs = urlAt >= 0 ? ['--url', argv[urlAt + 1]] : [];
const demoDir = join(root, 'examples', 'demo');

function demo(args) {
  const res = spawnSync(pnpm, ['exec', 'tsx', 'src/demo.ts', ...args, ...urlArgs], {
    cwd: demoDir,
    encoding: 'utf8',
    env: { ...process.env, DEMO_DATA_DIR: process.env.DEMO_DATA_DIR ?? join(root, '.agent-sessions', 'demo') },
  });
  process.stdout.write(res.stdout);
  process.stderr.write(res.stderr);
  if (res.status !== 0) {
    log(`the demo failed (exit ${res.status})`);
    process.exit(res.status || 1);
  }
  return res.stdout;
}

log('process 1: a new conversation');
const first = demo(['chat', "Hi, I'm Ada. My order number is 1234.", 'Where is my order?']);
const sessionId = /session id: (\S+)/.exec(first)?.[1];
if (!sessionId) {
  log('the demo printed no session id');
  process.exit(1);
}
log('process 1 has exited. process 2: a fresh process resumes the same session id');
const second = demo(['chat', '--session', sessionId, 'Do you remember what my name is?']);
if (!/Ada/.test(second) || !/1234/.test(second)) {
  log('the agent did not remember: the history did not come back from storage');
  process.exit(1);
}
log('process 3: listing the sessions in the store');
demo(['list']);
log('done: the second process knew the name and order number only from the stored session.');
