import { AgentSessionsError } from '../errors.js';
import type { Encryption } from '../ops/encryption.js';
import type { OpsLogger } from '../ops/logger.js';
import { RAW_ACCESS, type RawAccess } from '../ops/reencrypt.js';
import { openHeader, sealedBytes } from '../ops/sealing.js';
import { StoreOps } from '../ops/store-ops.js';
import { ATTR } from '../ops/telemetry.js';
import type { CallRecorder, ServerInfo } from '../ops/telemetry-types.js';
import { ttlToMs } from '../ttl.js';
import type { Run, SessionHeader } from '../types.js';
import { guarded, type GuardOptions } from './guard.js';
import { listRunsAt, listRunsInput, scopedRef } from './inputs.js';
import { DEFAULT_TIMEOUT_MS, completeHeader, type StoreOptions } from './normalized.js';
import { StorePrimitives } from './primitives.js';

/**
 * What every public store call goes through: the store-wide options, one-time setup, the time
 * bound, error classification, the span and metrics, the logger and encryption at rest.
 * `SessionStore` (session-store.ts) builds the public methods on it.
 */
export abstract class CallLayer extends StorePrimitives {
  protected readonly defaultTtlMs: number | null;
  protected readonly touchOnRead: boolean;
  protected readonly clock: () => number;
  /** The bound of one call, in ms. */
  protected readonly timeoutMs: number;
  #setupDone = false;
  #setupRunning: Promise<void> | undefined;
  /** Logging, telemetry and encryption (see `ops/`). */
  readonly #ops: StoreOps;
  /** Encryption at rest, or null. */
  protected readonly sealing: Encryption | null;

  constructor(options: StoreOptions = {}) {
    super();
    // A subclass's `name` field is set after this constructor: read it when first needed.
    this.#ops = new StoreOps(options, () => this.name ?? this.constructor.name);
    this.sealing = this.#ops.encryption;
    this.defaultTtlMs = ttlToMs(options.ttl ?? null) ?? null;
    this.touchOnRead = options.touchOnRead ?? false;
    this.clock = options.clock ?? Date.now;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 1 || timeout > 2 ** 31 - 1) {
      throw new AgentSessionsError('invalid_input', `timeoutMs must be a whole number of ms from 1 to ${2 ** 31 - 1}`, {
        source: this.constructor.name,
      });
    }
    this.timeoutMs = timeout;
  }

  /**
   * Runs the store's one-time setup (connecting, migrating, loading scripts) now instead of on the
   * first call. Concurrent callers share one attempt; a failed attempt is retried by the next call.
   */
  async setup(): Promise<void> {
    await this.callGuard('setup', async () => {});
  }

  /** Releases what the store opened itself; an injected client stays open. */
  async close(): Promise<void> {
    await this.callGuard('close', () => this.doClose(), { setup: false });
  }

  toJSON(): { store: string } {
    return { store: this.name };
  }

  /**
   * Core's own tools only (`reencryptSession`): reads that return what is stored, still sealed.
   * @internal
   */
  [RAW_ACCESS](): RawAccess {
    return {
      source: this.name,
      encryption: this.sealing,
      getSession: async (input) => {
        const ref = scopedRef(input, this.name);
        return this.callGuard('getSession', async () => {
          const h = await this.doGetSession({ agentId: ref.agentId, sessionId: ref.sessionId, userId: ref.userId, now: this.clock(), touch: false });
          return h && completeHeader(h);
        });
      },
      listRuns: async (input) => {
        const checked = listRunsInput(input, this.name, false);
        return this.callGuard('listRuns', () => this.doListRuns(listRunsAt(checked, this.clock())));
      },
    };
  }

  /**
   * The store's logger (the `logger` option, or a no-op): for a store's own warnings, such as an
   * index entry cleaned up or a risky server setting. Never log session content or credentials.
   */
  protected get logger(): OpsLogger {
    return this.#ops.logger;
  }

  #ready(): Promise<void> | undefined {
    if (this.#setupDone) return undefined;
    this.#setupRunning ??= this.doSetup().then(
      () => {
        this.#setupDone = true;
        this.#setupRunning = undefined;
      },
      (err: unknown) => {
        this.#setupRunning = undefined;
        throw err;
      },
    );
    return this.#setupRunning;
  }

  /** A header as stored, opened (when encryption is on). */
  protected openSealed(h: SessionHeader): SessionHeader {
    return this.sealing ? openHeader(this.sealing, h) : h;
  }

  /** Run, item and byte counts of runs read or written, for the call's span (computed only when it records). */
  protected recordCallRuns(rec: CallRecorder, runs: readonly Run[]): void {
    if (!rec.recording) return;
    let items = 0;
    let bytes = 0;
    for (const r of runs) {
      items += r.items.length;
      bytes += this.sealing ? sealedBytes(r.items) : JSON.stringify(r.items).length;
    }
    rec.set({ [ATTR.runCount]: runs.length, [ATTR.itemCount]: items, [ATTR.bytes]: bytes, [ATTR.encrypted]: this.sealing !== null });
  }

  /**
   * Setup first, then `fn`, bounded by `timeoutMs`; every failure becomes an AgentSessionsError.
   * The whole call is one span (and one latency sample), and a failure is logged once.
   */
  protected callGuard<T>(
    op: string,
    fn: (rec: CallRecorder) => Promise<T>,
    opts: { setup?: boolean; timeout?: boolean; agentId?: string | undefined } = {},
  ): Promise<T> {
    const guard = this.#guardOptions(opts.setup !== false, opts.timeout !== false);
    return this.#ops.run(op, opts.agentId, this.#serverInfo, (rec) => guarded(op, () => fn(rec), guard));
  }

  readonly #serverInfo = (): ServerInfo | undefined => this.serverInfo();
  /** The guard's options by (setup, timeout), made once: a store call allocates none of them. */
  readonly #guards: (GuardOptions | undefined)[] = [];

  #guardOptions(setup: boolean, timeout: boolean): GuardOptions {
    const i = (setup ? 1 : 0) + (timeout ? 2 : 0);
    const cached = this.#guards[i];
    if (cached) return cached;
    const made: GuardOptions = {
      source: this.name,
      timeoutMs: timeout ? this.timeoutMs : null,
      ready: setup ? () => this.#ready() : undefined,
      classify: (err) => this.classifyError(err),
    };
    // Before a subclass's constructor has set `name`, nothing is kept.
    if (this.name !== undefined) this.#guards[i] = made;
    return made;
  }
}
