/** The backends the benchmark covers, in report order. */
export const BACKENDS = ['memory', 'pglite', 'postgres', 'postgres-fsync', 'redis', 'mongodb'] as const;
export type Backend = (typeof BACKENDS)[number];

/**
 * The factories a backend's contenders come from: `postgres-fsync` is the Postgres store and
 * floor (and no peers) on a second server with fsync and synchronous_commit on.
 */
export function factoryBackend(b: Backend): Backend {
  return b === 'postgres-fsync' ? 'postgres' : b;
}

/** Ours (an agent-sessions store), the driver floor, or a peer library. */
export type Role = 'ours' | 'floor' | 'peer';

/**
 * One thing whose turn is timed. A turn reads the history the agent needs (our window of 10
 * runs; the floor's 10 latest rows; a peer's whole history, as its API gives it) and saves the
 * turn's one run (four messages).
 */
export interface Contender {
  /** Stable id used in the JSON, e.g. `postgres`, `postgres/floor`, `postgres/langchain-history`. */
  readonly id: string;
  readonly label: string;
  readonly backend: Backend;
  readonly role: Role;
  /** Fills session `key` with `runs` runs as fast as possible; not timed. */
  populate(key: string, runs: number): Promise<void>;
  /**
   * One timed turn on session `key`; `n` only varies the message text. Resolves to the ms the
   * read took (the rest of the turn is the write), so the report can split the two.
   */
  turn(key: string, n: number): Promise<number>;
  /** Loads the window only (ours): used by the memory section. */
  load?(key: string): Promise<unknown>;
  /** Statements or commands sent so far, counted at the driver (where there is a driver to count at). */
  commands?(): number;
  /** What the report should say about how this contender ran (e.g. a mode the store chose for the server). */
  notes?: string;
  close(): Promise<void>;
}

/** Creates a contender talking to `url` (a server URL, possibly through the round-trip proxy). */
export interface ContenderFactory {
  readonly id: string;
  readonly label: string;
  readonly backend: Backend;
  readonly role: Role;
  create(url: string | undefined): Promise<Contender>;
}

/** The factories of `list` that serve `b` (see factoryBackend). */
export const byBackend = (list: ContenderFactory[], b: Backend): ContenderFactory[] => list.filter((f) => f.backend === factoryBackend(b));

/** A contender of `backend`: for `postgres-fsync`, the Postgres one renamed (same code, the other server). */
export async function createFor(f: ContenderFactory, backend: Backend, url: string | undefined): Promise<Contender> {
  const c = await f.create(url);
  if (backend === f.backend) return c;
  return Object.assign(c, {
    id: c.id.replace(/^postgres/, backend),
    label: `${c.label}, fsync on`,
    backend,
  });
}

/** A contender that could not run here, with the actual error. */
export interface NotMeasured {
  id: string;
  label: string;
  backend: Backend;
  reason: string;
}

export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return `${err.name}${code !== undefined ? ` (${String(code)})` : ''}: ${err.message}`.slice(0, 400);
  }
  return String(err).slice(0, 400);
}

/** Runs `fn` for every index below `count` with at most `width` in flight. */
export async function parallel(count: number, width: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
}

/** The agent every benchmark session belongs to. */
export const AGENT_ID = 'bench';

/**
 * `l<length>` from a session key (`<prefix>-l<length>-<k>`). MongoDB contenders keep each
 * session length in its own database or collection: FerretDB 1.x scans a whole collection for
 * every find (no filter, sort or limit pushdown), so mixing lengths would time the collection,
 * not the session.
 */
export function lengthTag(key: string): string {
  return `l${/-l(\d+)-/.exec(key)?.[1] ?? 'x'}`;
}
