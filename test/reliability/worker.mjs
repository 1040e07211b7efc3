// A writer process for the reliability suite: appends runs through the published packages
// (createStore from @agent-sessions/core, loading the store package for the URL), and reports
// each acknowledged run on stdout. Plain JavaScript so it starts fast and runs on built dist.
import { createStore } from '@agent-sessions/core';

const cfg = JSON.parse(process.argv[2]);
const store = await createStore(cfg.url, cfg.options);

function itemsFor(runId) {
  return Array.from({ length: cfg.itemsPerRun }, (_, k) => ({ runId, k, of: cfg.itemsPerRun, pad: 'x'.repeat(cfg.pad ?? 0) }));
}

for (let i = 0; i < cfg.count; i++) {
  const sessionId = cfg.sessions[i % cfg.sessions.length];
  const runId = `${cfg.worker}-${i}`;
  const input = { agentId: cfg.agentId, sessionId, runId, format: 'plain', items: itemsFor(runId) };
  // A retried append: the same run id sent twice at once, then once more after both returned.
  const sends = cfg.retry ? [store.appendRun(input), store.appendRun(input)] : [store.appendRun(input)];
  const results = await Promise.all(sends);
  if (cfg.retry) results.push(await store.appendRun(input));
  const seqs = new Set(results.map((r) => r.run.seq));
  if (seqs.size !== 1) throw new Error(`retries of ${runId} returned different seqs: ${[...seqs].join(',')}`);
  process.stdout.write(`ok ${sessionId} ${runId} ${results[0].run.seq}\n`);
}
await store.close();
process.stdout.write('done\n');
