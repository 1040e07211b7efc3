// What operating features cost per turn: tracing on (OpenTelemetry SDK with a batch span processor
// and a meter provider) and encryption on (AES-256-GCM per item), each as a ratio to the same
// store with neither. A turn is what a wrapped agent run does: load the window, append the run.
// `pnpm bench` runs it as its last section (main.ts); overhead.ts runs it on its own.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MemoryStore, type SessionStore, type StoreOptions } from '@agent-sessions/core';
import { loadHistory, type ItemCodec, type JsonValue } from '@agent-sessions/core/adapter';
import { spread, summarize, type Spread, type Summary } from './stats.js';

const WINDOW = 10;
const AGENT = 'bench-overhead';
const FORMAT = 'bench';

// The same four-item tool-using turn as the main benchmark (about 1.3 KB of JSON).
function turnItems(n: number): JsonValue[] {
  const id = String(100000 + (n % 900000));
  const callId = `call_${n.toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
  return [
    { type: 'message', role: 'user', content: `Can you check the status of order ${id} and tell me when it will arrive? I ordered it last week.` },
    { type: 'function_call', callId, name: 'get_order_status', arguments: `{"orderId":"${id}","include":["shipping","items"]}`, status: 'completed' },
    {
      type: 'function_call_result',
      callId,
      name: 'get_order_status',
      status: 'completed',
      output: {
        type: 'text',
        text: `{"orderId":"${id}","status":"shipped","carrier":"DHL","trackingNumber":"JD014600006250${id}","estimatedDelivery":"2025-03-14","items":[{"sku":"A-1042","name":"USB-C cable, 2 m","qty":2},{"sku":"B-2201","name":"Laptop stand, aluminium","qty":1}],"warehouse":"Leipzig","lastScan":"Departed sorting facility, 2025-03-11T06:42:00Z"}`,
      },
    },
    {
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [
        {
          type: 'output_text',
          text: `Your order ${id} has shipped with DHL (tracking number JD014600006250${id}). It left the sorting facility on 11 March and should arrive on 14 March. It contains two USB-C cables and the aluminium laptop stand. Would you like me to send the tracking link by email?`,
        },
      ],
    },
  ];
}

const codec: ItemCodec<JsonValue> = {
  format: FORMAT,
  inspect(item) {
    const it = item as { type?: string; callId?: string };
    if (it.type === 'function_call' && it.callId) return { callIds: [it.callId] };
    if (it.type === 'function_call_result' && it.callId) return { resultFor: it.callId };
    return {};
  },
};

// The OpenTelemetry SDK is a dev dependency of core: load it from there. It registers global
// providers and an AsyncLocalStorage context manager (what an application's NodeSDK does), so
// run it after anything that must be measured without them.
export async function startTracing(): Promise<{ spans: () => number; stop: () => Promise<void> }> {
  const req = createRequire(new URL('../../packages/core/package.json', import.meta.url));
  const load = async (name: string) => (await import(pathToFileURL(req.resolve(name)).href)) as Record<string, any>;
  const api = await load('@opentelemetry/api');
  const { AsyncLocalStorageContextManager } = await load('@opentelemetry/context-async-hooks');
  const { BasicTracerProvider, BatchSpanProcessor } = await load('@opentelemetry/sdk-trace-base');
  const { MeterProvider, PeriodicExportingMetricReader, AggregationTemporality } = await load('@opentelemetry/sdk-metrics');
  let exported = 0;
  // An exporter that drops what it gets: the cost measured is the library's and the SDK's, not a collector's.
  const spanExporter = {
    export(spans: unknown[], done: (r: { code: number }) => void) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  const metricExporter = {
    export(_m: unknown, done: (r: { code: number }) => void) {
      done({ code: 0 });
    },
    selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE,
    forceFlush: async () => {},
    shutdown: async () => {},
  };
  const tracer = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(spanExporter)] });
  const meter = new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 1000 })] });
  api.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  api.trace.setGlobalTracerProvider(tracer);
  api.metrics.setGlobalMeterProvider(meter);
  return {
    spans: () => exported,
    stop: async () => {
      await tracer.forceFlush();
      await tracer.shutdown();
      await meter.shutdown();
    },
  };
}

/** The backends the operating cost is measured on. */
export type OverheadBackend = 'memory' | 'pglite' | 'postgres' | 'redis' | 'mongodb';
export const OVERHEAD_BACKENDS: readonly OverheadBackend[] = ['memory', 'pglite', 'postgres', 'redis', 'mongodb'];
export type Variant = 'plain' | 'traced' | 'encrypted';
const VARIANTS: readonly Variant[] = ['plain', 'traced', 'encrypted'];

/** How long the section runs. */
export interface OverheadPlan {
  /** Timed rounds (one turn of each variant per round), after `warmup` untimed ones. */
  turns: number;
  warmup: number;
  /** Sessions per variant, turns spread over them round-robin. */
  sessions: number;
  /** Runs stored in each session before timing (the window read returns min(prefill, 10) runs and more as it runs). */
  prefill: number;
  /** Rounds per block of the ratios. */
  block: number;
}

export interface OverheadResult {
  backend: OverheadBackend;
  label: string;
  plan: OverheadPlan;
  /** Wall time per turn of each variant (ms). */
  ms: Record<Variant, Summary>;
  /** Median per-turn time of the variant over plain's, per block of `plan.block` rounds. */
  tracedRatio: Spread;
  encryptedRatio: Spread;
}

export interface OverheadSection {
  /** When and at which commit this section was measured (it may be merged into an older run's results). */
  date: string;
  commit: string | null;
  /** Spans the tracing variant exported (to an exporter that drops them). */
  spans: number;
  results: OverheadResult[];
  /** Backends left out, and why. */
  notMeasured: { backend: string; reason: string }[];
}

interface Setup {
  label: string;
  make: (options: StoreOptions) => SessionStore;
  close: () => Promise<void>;
}

async function setupBackend(backend: OverheadBackend, url: string | undefined, tag: string): Promise<Setup> {
  const made: SessionStore[] = [];
  const closeStores = async () => {
    for (const s of made) await s.close().catch(() => {});
  };
  const keep = (s: SessionStore) => (made.push(s), s);
  switch (backend) {
    case 'memory':
      return { label: 'MemoryStore', make: (o) => keep(new MemoryStore(o)), close: closeStores };
    case 'pglite': {
      const { PGlite } = await import('@electric-sql/pglite');
      const { PostgresStore } = await import('@agent-sessions/postgres');
      const db = new PGlite();
      const schema = `ovh_${tag}`;
      return {
        label: 'PostgresStore (PGlite)',
        make: (o) => keep(new PostgresStore({ ...o, client: db, schema })),
        close: async () => {
          await closeStores();
          await db.close();
        },
      };
    }
    case 'postgres': {
      if (!url) throw new Error('no PostgreSQL server');
      const pg = (await import('pg')).default;
      const { PostgresStore } = await import('@agent-sessions/postgres');
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      // pool.end() resolves before its connections are gone: a server stopped right after must not crash the run.
      pool.on('error', () => {});
      const schema = `ovh_${tag}`;
      return {
        label: 'PostgresStore (pg)',
        make: (o) => keep(new PostgresStore({ ...o, client: pool, schema })),
        close: async () => {
          await closeStores();
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await pool.end();
        },
      };
    }
    case 'redis': {
      if (!url) throw new Error('no Redis server');
      const { RedisStore } = await import('@agent-sessions/redis');
      const prefix = `ovh:${tag}:`;
      return { label: 'RedisStore (ioredis)', make: (o) => keep(RedisStore.fromConnectionString(url, { ...o, prefix })), close: closeStores };
    }
    case 'mongodb': {
      if (!url) throw new Error('no MongoDB server');
      const { MongoClient } = await import('mongodb');
      const { MongoStore } = await import('@agent-sessions/mongodb');
      const client = new MongoClient(url);
      await client.connect();
      const database = `ovh_${tag}`;
      return {
        label: 'MongoStore (mongodb driver)',
        // FerretDB scans whole collections: the call bound of the main benchmark's MongoStore.
        make: (o) => keep(new MongoStore({ timeoutMs: 300_000, ...o, client, database })),
        close: async () => {
          await closeStores();
          await client.db(database).dropDatabase();
          await client.close();
        },
      };
    }
  }
}

const med = (xs: number[]): number => summarize(xs).median;

async function turn(store: SessionStore, sessionId: string, n: number): Promise<number> {
  const t0 = performance.now();
  await loadHistory(store, { agentId: AGENT, sessionId }, codec, { lastRuns: WINDOW });
  await store.appendRun({ agentId: AGENT, sessionId, format: FORMAT, items: turnItems(n) });
  return performance.now() - t0;
}

/** One backend: the three variants of the same store, interleaved round by round in a rotating order. */
async function measureBackend(backend: OverheadBackend, setup: Setup, plan: OverheadPlan): Promise<OverheadResult> {
  const key = randomBytes(32);
  const stores: Record<Variant, SessionStore> = {
    plain: setup.make({ telemetry: false }),
    traced: setup.make({}),
    encrypted: setup.make({ telemetry: false, encryption: key }),
  };
  // Each variant gets its own sessions, prefilled so the window read returns runs from the start.
  const sessions: Record<Variant, string[]> = { plain: [], traced: [], encrypted: [] };
  for (const v of VARIANTS) {
    for (let s = 0; s < plan.sessions; s++) {
      const id = `${v}-${s}-${randomBytes(4).toString('hex')}`;
      sessions[v].push(id);
      for (let i = 1; i <= plan.prefill; i++) await stores[v].appendRun({ agentId: AGENT, sessionId: id, format: FORMAT, items: turnItems(i) });
    }
  }
  const times: Record<Variant, number[]> = { plain: [], traced: [], encrypted: [] };
  // Interleaved, one turn of each variant per round in a rotating order, so drift (JIT, GC,
  // server caches, the other tenants of the machine) falls on every variant alike.
  for (let i = 0; i < plan.warmup + plan.turns; i++) {
    const order = VARIANTS.map((_, k) => VARIANTS[(i + k) % VARIANTS.length] as Variant);
    for (const v of order) {
      const ms = await turn(stores[v], sessions[v][i % plan.sessions] as string, plan.prefill + i + 1);
      if (i >= plan.warmup) times[v].push(ms);
    }
  }
  const blocks = (v: Variant): Spread => {
    const ratios: number[] = [];
    for (let at = 0; at + plan.block <= times.plain.length; at += plan.block) {
      ratios.push(med(times[v].slice(at, at + plan.block)) / med(times.plain.slice(at, at + plan.block)));
    }
    return spread(ratios);
  };
  return {
    backend,
    label: setup.label,
    plan,
    ms: { plain: summarize(times.plain), traced: summarize(times.traced), encrypted: summarize(times.encrypted) },
    tracedRatio: blocks('traced'),
    encryptedRatio: blocks('encrypted'),
  };
}

/**
 * Measures each backend in turn; one that fails is reported in `notMeasured` and the rest carry
 * on. Starts tracing (global providers) first and stops it at the end.
 */
export async function measureOverhead(options: {
  backends: readonly OverheadBackend[];
  urls: Partial<Record<OverheadBackend, string>>;
  plan: (backend: OverheadBackend) => OverheadPlan;
  commit: string | null;
  log: (msg: string) => void;
}): Promise<OverheadSection> {
  const tracing = await startTracing();
  const section: OverheadSection = { date: new Date().toISOString(), commit: options.commit, spans: 0, results: [], notMeasured: [] };
  try {
    for (const backend of options.backends) {
      const plan = options.plan(backend);
      let setup: Setup | undefined;
      try {
        setup = await setupBackend(backend, options.urls[backend], randomBytes(4).toString('hex'));
        options.log(`operating cost ${backend}: ${plan.turns} rounds of plain / traced / encrypted turns after ${plan.warmup} warm-up rounds`);
        const r = await measureBackend(backend, setup, plan);
        section.results.push(r);
        options.log(
          `  ${backend}: plain ${r.ms.plain.median.toFixed(3)} ms, traced ${r.ms.traced.median.toFixed(3)} ms (${r.tracedRatio.median.toFixed(2)}x), encrypted ${r.ms.encrypted.median.toFixed(3)} ms (${r.encryptedRatio.median.toFixed(2)}x)`,
        );
      } catch (err) {
        const reason = err instanceof Error ? err.message : String(err);
        options.log(`NOT MEASURED operating cost ${backend}: ${reason}`);
        section.notMeasured.push({ backend, reason });
      } finally {
        await setup?.close().catch(() => {});
      }
    }
  } finally {
    await tracing.stop();
    section.spans = tracing.spans();
  }
  return section;
}

/** The section's table: per-turn medians and the block ratios (median, min-max). */
export function overheadTable(s: OverheadSection): { head: string[]; rows: string[][] } {
  const x = (r: Spread) => (r.n ? `${r.median.toFixed(2)}x (${r.min.toFixed(2)}-${r.max.toFixed(2)})` : '-');
  return {
    head: ['store', 'plain ms', 'tracing on ms', 'tracing on / plain', 'encryption on ms', 'encryption on / plain', 'rounds'],
    rows: s.results.map((r) => [
      r.label,
      r.ms.plain.median.toFixed(3),
      r.ms.traced.median.toFixed(3),
      x(r.tracedRatio),
      r.ms.encrypted.median.toFixed(3),
      x(r.encryptedRatio),
      `${r.ms.plain.n} (${r.tracedRatio.n} x ${r.plan.block})`,
    ]),
  };
}
