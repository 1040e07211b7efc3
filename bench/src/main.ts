import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { FULL, SMOKE, type BenchConfig } from './config.js';
import { BACKENDS, byBackend, createFor, errorText, factoryBackend, type Backend, type Contender } from './contender.js';
import { serverCpuProbe, type CpuProbe } from './cpu.js';
import { FLOORS } from './floors.js';
import type { MemoryInput } from './memory-main.js';
import type { ThroughputInput, ThroughputOutput } from './throughput-main.js';
import { closePglite } from './pglite.js';
import { measureInterleaved, measureTurns, populate, sessionKey } from './measure.js';
import { describeEnvironment } from './environment.js';
import { measureOverhead, OVERHEAD_BACKENDS, type OverheadBackend } from './operating-cost.js';
import { OURS } from './ours.js';
import { PEERS } from './peers.js';
import { hostPort, RoundTripProxy, viaProxy } from './proxy.js';
import { buildReport, writeReadmeTable, type BenchResults, type MemoryResult, type RoundTripResult } from './report.js';
import { startServers, type Servers } from './services.js';
import { summarize } from './stats.js';

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string' },
    only: { type: 'string' },
    'no-peers': { type: 'boolean', default: false },
  },
});

const config: BenchConfig = { ...(args.smoke ? SMOKE : FULL) };
if (args.only) config.backends = args.only.split(',').map((s) => s.trim()) as Backend[];
if (args['no-peers']) config.peers = false;
for (const b of config.backends) if (!BACKENDS.includes(b)) throw new Error(`unknown backend '${b}' (one of ${BACKENDS.join(', ')})`);
const outDir = resolve(args.out ?? join(import.meta.dirname, '..', 'results'));
const prefix = `b${Date.now().toString(36)}`;

const t0 = performance.now();
function log(msg: string): void {
  process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
}

const DEFAULT_PORTS: Partial<Record<Backend, number>> = { postgres: 5432, 'postgres-fsync': 5432, redis: 6379, mongodb: 27017 };

function urlFor(servers: Servers, backend: Backend): string | undefined {
  return backend === 'postgres' || backend === 'postgres-fsync' || backend === 'redis' || backend === 'mongodb' ? servers[backend] : undefined;
}

async function main(): Promise<void> {
  const started = performance.now();
  const servers = await startServers(config.backends);
  // Ctrl-C must not leave the servers running: stop them, then exit.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping the servers`);
      void servers.stop().finally(() => process.exit(130));
    });
  }
  const results: BenchResults = {
    config,
    environment: await describeEnvironment(servers, config.backends),
    perTurn: [],
    interleaved: [],
    roundTrips: [],
    throughputRatios: [],
    throughput: [],
    memory: [],
    notMeasured: [],
    durationSeconds: 0,
  };
  const isFerret = /ferretdb/i.test(results.environment.servers.mongodb ?? '');
  if (isFerret && config.backends.includes('mongodb')) {
    results.environment.storeNotes['mongodb server'] =
      'FerretDB 1.x scans the whole collection for every find (its explain: no filter, sort or limit pushdown), so every MongoDB turn here, ours, the floor\'s and the peers\', costs in proportion to the documents stored; each session length gets its own database, and fewer turns are timed (src/config.ts, `ferretdb`)';
  }
  const open: Contender[] = [];
  const notMeasured = (f: { id: string; label: string; backend: Backend }, err: unknown, when: string) => {
    const reason = `${when}: ${errorText(err)}`;
    log(`NOT MEASURED ${f.id}: ${reason}`);
    results.notMeasured.push({ id: f.id, label: f.label, backend: f.backend, reason });
  };
  // The server process tree of each backend, for its CPU per turn (undefined: in process, or not on this machine).
  const probes = new Map<Backend, CpuProbe | undefined>();
  for (const backend of config.backends) {
    const url = urlFor(servers, backend);
    if (!url) continue;
    const { port } = hostPort(url, DEFAULT_PORTS[backend]!);
    const probe = serverCpuProbe(backend, port);
    probes.set(backend, probe);
    results.environment.serverCpu[backend] = probe ? probe.describe() : `not measured: no process on this machine listens on port ${port}`;
  }
  try {
    // ---- 1. per-turn cost: ours and the floor interleaved turn by turn; the peers after them, on the same server ----
    const live = new Map<Backend, { ours: Contender; floor?: Contender | undefined; peers: Contender[] }>();
    const failed = new Set<Backend>();
    for (const backend of config.backends) {
      const url = urlFor(servers, backend);
      const oursFactory = byBackend(OURS, backend)[0];
      if (!oursFactory) throw new Error(`no store for backend ${backend}`);
      const ours = await createFor(oursFactory, backend, url);
      open.push(ours);
      if (ours.notes) results.environment.storeNotes[`${ours.id} store`] = ours.notes;
      const floorFactory = byBackend(FLOORS, backend)[0];
      const floor = floorFactory ? await createFor(floorFactory, backend, url) : undefined;
      if (floor) open.push(floor);
      const peers: Contender[] = [];
      // Peers run on the harness's servers only (not on the fsync-on one).
      for (const f of config.peers && backend === factoryBackend(backend) ? byBackend(PEERS, backend) : []) {
        try {
          const p = await f.create(url);
          open.push(p);
          peers.push(p);
        } catch (err) {
          notMeasured(f, err, 'setup');
        }
      }
      live.set(backend, { ours, floor, peers });
      const ferret = backend === 'mongodb' && isFerret;

      // A backend that fails mid-way (a server too slow for the store's call timeout on a loaded
      // machine, say) is reported under "not measured" with its error, and the rest carries on.
      try {
      for (const length of config.lengths) {
        const plan = (ferret ? config.ferretdb.plan : config.plan)[length]!;
        const t0 = performance.now();
        await populate(ours, prefix, length, plan.sessions);
        if (floor) await populate(floor, prefix, length, plan.sessions);
        const peerPlan = (ferret ? config.ferretdb.peerPlan : config.peerPlan)[length];
        if (ferret && !peerPlan && config.peerPlan[length]) {
          for (const p of peers) {
            results.notMeasured.push({
              id: p.id,
              label: p.label,
              backend,
              reason: `not run at ${length.toLocaleString('en-US')} runs on FerretDB, to keep the run short: with no query pushdown one of its turns takes seconds to tens of seconds there (bench/README.md)`,
            });
          }
        }
        const entries: { contender: Contender; plan: typeof plan }[] = [];
        if (peerPlan) {
          for (const p of [...peers]) {
            try {
              await populate(p, prefix, length, peerPlan.sessions);
              await p.turn(sessionKey(prefix, length, 0), length); // one untimed turn: fail here, not mid-measurement
              entries.push({ contender: p, plan: peerPlan });
            } catch (err) {
              notMeasured(p, err, `at ${length} runs`);
              peers.splice(peers.indexOf(p), 1);
            }
          }
        }
        log(`${backend} @ ${length} runs: populated in ${((performance.now() - t0) / 1000).toFixed(1)} s; timing ${[ours, ...(floor ? [floor] : []), ...entries.map((e) => e.contender)].map((c) => c.id).join(', ')}`);
        const inter = await measureInterleaved(ours, floor, plan, prefix, length, plan.block ?? config.blockRounds, probes.get(backend));
        results.perTurn.push(...inter.results);
        if (inter.interleaved) {
          results.interleaved.push(inter.interleaved);
          const x = inter.interleaved.ratio;
          log(`  ${ours.id} / ${floor!.id}: median block ratio ${x.median.toFixed(2)}x (IQR ${x.q1.toFixed(2)}-${x.q3.toFixed(2)}, min ${x.min.toFixed(2)}, max ${x.max.toFixed(2)}, ${x.n} blocks)`);
        }
        const measured = entries.length ? await measureTurns(entries, prefix, length, config.rounds) : [];
        results.perTurn.push(...measured);
        for (const m of [...inter.results, ...measured]) {
          const cpu = m.cpu ? `  cpu node ${m.cpu.nodeUs.toFixed(0)} us, server ${m.cpu.serverUs === null ? '-' : m.cpu.serverUs.toFixed(0)} us` : '';
          log(`  ${m.id.padEnd(32)} median ${m.ms.median.toFixed(3)} ms  p99 ${m.ms.p99.toFixed(3)} ms  (n=${m.ms.n})${cpu}`);
        }
      }
      } catch (err) {
        failed.add(backend);
        notMeasured(ours, err, `${backend}, per-turn section (this backend's later sections skipped)`);
      }
    }

    // ---- 2. round trips per turn, counted on the wire (proxy) and at the driver ----
    for (const backend of config.backends) {
      if (backend !== factoryBackend(backend) || failed.has(backend)) continue; // postgres-fsync: same code as postgres, same round trips
      const { ours, floor, peers } = live.get(backend)!;
      const length = config.roundTrips.length;
      const rt = backend === 'mongodb' && isFerret ? config.ferretdb.roundTrips : config.roundTrips;
      const url = urlFor(servers, backend);
      let proxy: RoundTripProxy | undefined;
      let proxied: Contender[] = [];
      if (url) {
        const { host, port } = hostPort(url, DEFAULT_PORTS[backend]!);
        proxy = new RoundTripProxy(host, port);
        const proxyPort = await proxy.start();
        for (const f of [...byBackend(OURS, backend), ...byBackend(FLOORS, backend), ...byBackend(PEERS, backend)]) {
          if (f.role === 'peer' && !peers.some((p) => p.id === f.id)) continue;
          const c = await f.create(viaProxy(url, proxyPort));
          open.push(c);
          proxied.push(c);
        }
      } else {
        proxied = [ours, ...(floor ? [floor] : [])];
      }
      for (const c of proxied) {
        const warmup = rt.warmup;
        const turns = c.role === 'peer' ? rt.peerTurns : rt.turns;
        const perTurn: number[] = [];
        const commands: number[] = [];
        const bytes: number[] = [];
        const key = sessionKey(prefix, length, 0);
        for (let i = 0; i < warmup + turns; i++) {
          const before = proxy?.snapshot();
          const cmd0 = c.commands?.();
          await c.turn(key, i);
          if (i < warmup) continue;
          const after = proxy?.snapshot();
          if (before && after) {
            perTurn.push(after.flights - before.flights);
            bytes.push(after.bytesUp - before.bytesUp + after.bytesDown - before.bytesDown);
          }
          if (cmd0 !== undefined) commands.push(c.commands!() - cmd0);
        }
        const r: RoundTripResult = {
          id: c.id,
          label: c.label,
          backend,
          role: c.role,
          length,
          turns,
          roundTrips: perTurn.length ? summarize(perTurn) : null,
          commands: commands.length ? summarize(commands) : null,
          bytes: bytes.length ? summarize(bytes) : null,
        };
        results.roundTrips.push(r);
        log(`round trips ${c.id.padEnd(32)} ${r.roundTrips ? `wire ${r.roundTrips.median} (min ${r.roundTrips.min}, max ${r.roundTrips.max})` : ''} ${r.commands ? `driver ${r.commands.median}` : ''}`);
      }
      if (proxy) {
        for (const c of proxied) {
          open.splice(open.indexOf(c), 1);
          await c.close();
        }
        await proxy.stop();
      }
    }

    // ---- 3. throughput: many sessions in parallel against one server, store and floor alternating; then many writers on one session (own process per backend) ----
    for (const backend of config.backends) {
      if (failed.has(backend)) continue;
      const { ours, floor } = live.get(backend)!;
      const url = urlFor(servers, backend);
      let out: ThroughputOutput;
      try {
        out = await runThroughputSection({
          backend,
          url,
          // The server's CPU is measured in the child when the parent found the server's process here.
          port: probes.get(backend) && url ? hostPort(url, DEFAULT_PORTS[backend]!).port : undefined,
          prefix: `${prefix}${backend.replace(/[^a-z]/g, '')}`,
          ...config.throughput,
          length: backend === 'mongodb' && isFerret ? config.ferretdb.throughputLength : config.throughput.length,
        });
      } catch (err) {
        notMeasured(ours, err, `${backend}, throughput section`);
        continue;
      }
      const one = out.results.find((r) => r.mode === 'one-session')!;
      const pairs = out.results.filter((r) => r.mode === 'sessions');
      results.throughput.push(...pairs, one);
      if (out.ratio) results.throughputRatios.push({ backend, ours: ours.id, floor: floor!.id, ratio: out.ratio });
      for (const r of pairs) {
        log(`throughput ${r.id.padEnd(32)} ${r.turnsPerSecond.toFixed(0)} turns/s  p99 ${r.ms.p99.toFixed(2)} ms  cpu/turn node ${r.cpu.nodeUs.toFixed(0)} us, server ${r.cpu.serverUs?.toFixed(0) ?? '-'} us${r.errors ? `  ${r.errors} errors: ${r.firstError}` : ''}`);
      }
      if (out.ratio) log(`throughput ${ours.id} / ${floor!.id}: median pair ratio ${out.ratio.median.toFixed(2)}x (min ${out.ratio.min.toFixed(2)}, max ${out.ratio.max.toFixed(2)})`);
      log(`one session ${one.id.padEnd(31)} ${one.turnsPerSecond.toFixed(0)} turns/s  p99 ${one.ms.p99.toFixed(2)} ms${one.errors ? `  ${one.errors} errors: ${one.firstError}` : ''}`);
    }

    // ---- 4. memory: loading a window from a huge session vs a small one (own process) ----
    const { skip = [], bigRuns, smallRuns, samples } = config.memory;
    const backends = config.backends.filter((b) => !skip.includes(b) && b === factoryBackend(b) && !failed.has(b));
    results.memory = await runMemorySection({
      urls: Object.fromEntries(config.backends.map((b) => [b, urlFor(servers, b)])),
      sizes: Object.fromEntries(
        backends.map((b) => [b, b === 'mongodb' && isFerret ? { ...config.ferretdb.memory, smallRuns } : { bigRuns, smallRuns, samples }]),
      ),
      prefix: `${prefix}m`,
    });

    // ---- 5. operating cost: tracing on, encryption on, each against the same store (last: it registers OpenTelemetry globally) ----
    const ovhBackends = config.backends.filter((b): b is OverheadBackend => (OVERHEAD_BACKENDS as readonly string[]).includes(b) && !failed.has(b));
    results.overhead = await measureOverhead({
      backends: ovhBackends,
      urls: { postgres: servers.postgres, redis: servers.redis, mongodb: servers.mongodb },
      plan: (b) => (b === 'mongodb' && isFerret ? config.ferretdb.overhead : config.overhead),
      commit: results.environment.commit ?? null,
      log,
    });
  } finally {
    for (const c of open.reverse()) await c.close().catch((err: unknown) => log(`closing ${c.id}: ${errorText(err)}`));
    await closePglite();
    await servers.stop();
  }
  results.durationSeconds = Math.round((performance.now() - started) / 1000);
  if (results.environment.load) results.environment.load.end = loadavg().map((x) => Math.round(x * 100) / 100);
  const report = buildReport(results);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'latest.json'), `${JSON.stringify(report.json, null, 2)}\n`);
  writeFileSync(join(outDir, 'latest.svg'), report.svg);
  writeFileSync(join(outDir, 'latest.md'), report.markdown);
  writeFileSync(join(outDir, 'README-performance.md'), report.readmePerformance);
  // The full run into the committed results also refreshes bench/README.md's "where the time goes" table.
  if (config.name === 'full' && !args.out && !args.only) writeReadmeTable(join(import.meta.dirname, '..', 'README.md'), report.whereTimeGoes);
  process.stdout.write(`${report.text}\n`);
  log(`wrote ${join(outDir, 'latest.json')}, latest.svg and latest.md in ${results.durationSeconds} s`);
}

/** Runs a section's script in a child process (`flags` before it, the input as one JSON argument) and parses its stdout; its stderr is ours. */
async function runChild<T>(script: string, flags: string[], input: unknown, what: string): Promise<T> {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, join(import.meta.dirname, script), JSON.stringify(input)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  if (code !== 0) throw new Error(`${what} failed (exit ${code})`);
  return JSON.parse(out) as T;
}

/** throughput-main.ts for one backend: a fresh heap (see there). */
const runThroughputSection = (input: ThroughputInput) =>
  runChild<ThroughputOutput>('throughput-main.ts', [], input, `the throughput section of ${input.backend}`);

/** memory-main.ts, with the GC flags it needs. */
const runMemorySection = (input: MemoryInput) =>
  runChild<MemoryResult[]>('memory-main.ts', ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'], input, 'the memory section');

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
