import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { createStore, type CreateStoreOptions, type SessionStore } from '@agent-sessions/core';
export { allRuns } from '@agent-sessions/conformance';

/** A server store the reliability suite runs against, reached by URL through createStore. */
export interface Backend {
  name: string;
  url: string;
  /** Store options that put this test's data in its own namespace. */
  options: (ns: string) => CreateStoreOptions;
}

export function backends(): Backend[] {
  return [
    { name: 'postgres', url: inject('postgresUrl'), options: (ns) => ({ schema: ns }) },
    { name: 'redis', url: inject('redisUrl'), options: (ns) => ({ prefix: `${ns}:` }) },
    { name: 'mongodb', url: inject('mongodbUrl'), options: (ns) => ({ database: ns }) },
  ];
}

export function open(b: Backend, ns: string): Promise<SessionStore> {
  return createStore(b.url, b.options(ns));
}

export interface WorkerConfig {
  url: string;
  options: CreateStoreOptions;
  worker: string;
  agentId: string;
  sessions: string[];
  count: number;
  itemsPerRun: number;
  pad?: number;
  retry?: boolean;
}

const WORKER = fileURLToPath(new URL('./worker.mjs', import.meta.url));
const CWD = fileURLToPath(new URL('..', import.meta.url));

/** A writer process; `acked` grows as it reports appended runs. */
export function startWorker(cfg: WorkerConfig) {
  const child = spawn(process.execPath, [WORKER, JSON.stringify(cfg)], { cwd: CWD, stdio: ['ignore', 'pipe', 'pipe'] });
  const acked: { sessionId: string; runId: string; seq: number }[] = [];
  let err = '';
  let buf = '';
  const listeners: (() => void)[] = [];
  child.stdout.on('data', (b: Buffer) => {
    buf += b.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const [tag, sessionId, runId, seq] = line.split(' ');
      if (tag === 'ok' && sessionId && runId) acked.push({ sessionId, runId, seq: Number(seq) });
      for (const l of listeners) l();
    }
  });
  child.stderr.on('data', (b: Buffer) => {
    err = (err + b.toString()).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    acked,
    stderr: () => err,
    exited,
    /** Resolves once at least n runs were acknowledged (or the process ended). */
    waitForAcks: (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (acked.length >= n || child.exitCode !== null) resolve();
        };
        listeners.push(check);
        void exited.then(check);
        check();
      }),
  };
}

/** Counters a reliability file prints when it ends. */
export class Tally {
  operations = 0;
  faults = 0;
  inputs = 0;
  runsLost = 0;
  constructor(readonly name: string) {}
  print(): void {
    process.stdout.write(
      `[reliability] ${this.name}: operations ${this.operations}, faults injected ${this.faults}, inputs tried ${this.inputs}, runs lost: ${this.runsLost}\n`,
    );
  }
}
