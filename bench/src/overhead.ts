// What operating features cost per turn: tracing on (OpenTelemetry SDK with a batch span processor
// and a meter provider) and encryption on (AES-256-GCM per item), each as a ratio to the same
// store with neither. A turn is what a wrapped agent run does: load the window, append the run.
//
// Run it against the sources (no build needed; starts its own PostgreSQL and Redis):
//   TSX_TSCONFIG_PATH=tsconfig.json node --import tsx bench/src/overhead.ts [--turns 400] [--only memory,pglite,postgres,redis]
// POSTGRES_URL / REDIS_URL in the environment use those servers instead.

import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MemoryStore, type SessionStore, type StoreOptions } from '@agent-sessions/core';
import { loadHistory, type ItemCodec, type JsonValue } from '@agent-sessions/core/adapter';

type Backend = 'memory' | 'pglite' | 'postgres' | 'redis';
type Variant = 'plain' | 'traced' | 'encrypted';
const VARIANTS: readonly Variant[] = ['plain', 'traced', 'encrypted'];
const BACKENDS: readonly Backend[] = ['memory', 'pglite', 'postgres', 'redis'];

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const TURNS = Number(arg('turns') ?? 400);
const ONLY = (arg('only')?.split(',') as Backend[] | undefined) ?? BACKENDS;
const WARMUP = 40;
const PREFILL = 20;
const WINDOW = 10;
const SESSIONS = 8;
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

// The OpenTelemetry SDK is a dev dependency of core: load it from there.
async function startTracing(): Promise<{ spans: () => number; stop: () => Promise<void> }> {
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

interface Setup {
  make: (options: StoreOptions) => SessionStore;
  close: () => Promise<void>;
}

async function setupBackend(backend: Backend, stops: (() => Promise<void>)[]): Promise<Setup> {
  switch (backend) {
    case 'memory':
      return { make: (o) => new MemoryStore(o), close: async () => {} };
    case 'pglite': {
      const { PGlite } = await import('@electric-sql/pglite');
      const { PostgresStore } = await import('@agent-sessions/postgres');
      const db = new PGlite();
      const schema = `ovh_${randomBytes(4).toString('hex')}`;
      return { make: (o) => new PostgresStore({ ...o, client: db, schema }), close: () => db.close() };
    }
    case 'postgres': {
      let url = process.env.POSTGRES_URL;
      if (!url) {
        const { startPostgresServer } = await import('../../test/services/postgres.js');
        const server = await startPostgresServer();
        stops.push(server.destroy);
        url = server.url;
      }
      const pg = (await import('pg')).default;
      const { PostgresStore } = await import('@agent-sessions/postgres');
      const pool = new pg.Pool({ connectionString: url, max: 4 });
      const schema = `ovh_${randomBytes(4).toString('hex')}`;
      return {
        make: (o) => new PostgresStore({ ...o, client: pool, schema }),
        close: async () => {
          await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
          await pool.end();
        },
      };
    }
    case 'redis': {
      let url = process.env.REDIS_URL;
      if (!url) {
        const { startRedisServer } = await import('../../test/services/redis.js');
        const server = await startRedisServer();
        stops.push(server.destroy);
        url = server.url;
      }
      const { RedisStore } = await import('@agent-sessions/redis');
      const prefix = `ovh:${randomBytes(4).toString('hex')}:`;
      const made: SessionStore[] = [];
      return {
        make: (o) => {
          const s = RedisStore.fromConnectionString(url as string, { ...o, prefix });
          made.push(s);
          return s;
        },
        close: async () => {
          for (const s of made) await s.close();
        },
      };
    }
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

async function turn(store: SessionStore, sessionId: string, n: number): Promise<number> {
  const t0 = performance.now();
  await loadHistory(store, { agentId: AGENT, sessionId }, codec, { lastRuns: WINDOW });
  await store.appendRun({ agentId: AGENT, sessionId, format: FORMAT, items: turnItems(n) });
  return performance.now() - t0;
}

async function measure(backend: Backend, setup: Setup): Promise<Record<Variant, { median: number; mean: number }>> {
  const key = randomBytes(32);
  const stores: Record<Variant, SessionStore> = {
    plain: setup.make({ telemetry: false }),
    traced: setup.make({}),
    encrypted: setup.make({ telemetry: false, encryption: key }),
  };
  // Each variant gets its own sessions, prefilled so the window read returns WINDOW runs.
  const sessions: Record<Variant, string[]> = { plain: [], traced: [], encrypted: [] };
  for (const v of VARIANTS) {
    for (let s = 0; s < SESSIONS; s++) {
      const id = `${v}-${s}-${randomBytes(4).toString('hex')}`;
      sessions[v].push(id);
      for (let i = 1; i <= PREFILL; i++) await stores[v].appendRun({ agentId: AGENT, sessionId: id, format: FORMAT, items: turnItems(i) });
    }
  }
  const times: Record<Variant, number[]> = { plain: [], traced: [], encrypted: [] };
  // Interleaved, one turn of each variant per round in a rotating order, so drift (JIT, GC,
  // server caches, the other tenants of the machine) falls on every variant alike.
  for (let i = 0; i < WARMUP + TURNS; i++) {
    const order = VARIANTS.map((_, k) => VARIANTS[(i + k) % VARIANTS.length] as Variant);
    for (const v of order) {
      const ms = await turn(stores[v], sessions[v][i % SESSIONS] as string, PREFILL + i + 1);
      if (i >= WARMUP) times[v].push(ms);
    }
  }
  if (backend !== 'redis') for (const v of VARIANTS) await stores[v].close();
  const out = {} as Record<Variant, { median: number; mean: number }>;
  for (const v of VARIANTS) out[v] = { median: median(times[v]), mean: mean(times[v]) };
  return out;
}

async function main(): Promise<void> {
  const tracing = await startTracing();
  const stops: (() => Promise<void>)[] = [];
  const rows: string[] = [];
  try {
    for (const backend of ONLY) {
      const setup = await setupBackend(backend, stops);
      process.stderr.write(`[overhead] ${backend}: ${TURNS} turns per variant after ${WARMUP} warm-up turns...\n`);
      const r = await measure(backend, setup);
      await setup.close();
      const ratio = (v: Variant) => (r[v].median / r.plain.median).toFixed(2);
      rows.push(
        `| ${backend} | ${r.plain.median.toFixed(3)} | ${r.traced.median.toFixed(3)} | ${ratio('traced')} | ${r.encrypted.median.toFixed(3)} | ${ratio('encrypted')} |`,
      );
    }
  } finally {
    await tracing.stop();
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
  console.log(`\nPer-turn cost (load the last ${WINDOW} runs + append one 4-item run), median ms over ${TURNS} turns; ${tracing.spans()} spans exported\n`);
  console.log('| store | plain ms | traced ms | traced / plain | encrypted ms | encrypted / plain |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const row of rows) console.log(row);
}

await main();
