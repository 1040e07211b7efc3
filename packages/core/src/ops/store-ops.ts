import { invalidInput, isAgentSessionsError, type ErrorCode } from '../errors.js';
import { Encryption, type EncryptionOption } from './encryption.js';
import { assertLogger, opsLogger, type Logger, type OpsLogger } from './logger.js';
import { errorType, NO_RECORDER, StoreTelemetry, type CallRecorder, type ServerInfo, type TelemetryOption } from './telemetry.js';

/** The operating options every store takes (see `StoreOptions`). */
export interface OpsOptions {
  logger?: Logger | undefined;
  telemetry?: TelemetryOption | undefined;
  encryption?: EncryptionOption | undefined;
}

// Failures a caller causes or expects (a lost race, an absent session, a bad input) are logged
// at debug; failures an operator should look at (the server, permissions, a bug) at warn.
const QUIET: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['invalid_input', 'not_found', 'conflict']);

/** The operating side of one store: its logger, telemetry and encryption, built once. */
export class StoreOps {
  readonly logger: OpsLogger;
  readonly encryption: Encryption | null;
  readonly #telemetry: StoreTelemetry;

  /**
   * `source` is the store's name; a function is read on first use, since a subclass's `name`
   * field is set only after the base constructor ran. Bad options throw here, at construction.
   */
  constructor(options: OpsOptions, source: string | (() => string)) {
    const sourceOf = typeof source === 'function' ? source : () => source;
    if (options.logger !== undefined && options.logger !== null) assertLogger(options.logger);
    this.logger = opsLogger(options.logger, sourceOf);
    this.encryption = options.encryption === undefined || options.encryption === null ? null : new Encryption(options.encryption, sourceOf);
    this.#telemetry = new StoreTelemetry(options.telemetry, sourceOf);
    if (options.telemetry !== undefined && typeof options.telemetry !== 'boolean' && (typeof options.telemetry !== 'object' || options.telemetry === null)) {
      throw invalidInput('telemetry must be true, false or { tracerProvider?, meterProvider? }');
    }
  }

  /**
   * Runs one store call with its span, metrics and failure log. Without OpenTelemetry and
   * without a logger this is the call itself.
   */
  run<T>(op: string, agentId: string | undefined, server: () => ServerInfo | undefined, fn: (rec: CallRecorder) => Promise<T>): Promise<T> {
    const api = this.#telemetry.api();
    if (api === null) return this.logger.enabled ? this.#logged(op, agentId, () => fn(NO_RECORDER)) : fn(NO_RECORDER);
    if (api instanceof Promise) {
      return api.then((loaded) =>
        loaded === null
          ? this.#logged(op, agentId, () => fn(NO_RECORDER))
          : this.#logged(op, agentId, () => this.#telemetry.trace(loaded, op, server(), agentId, fn)),
      );
    }
    const traced = () => this.#telemetry.trace(api, op, server(), agentId, fn);
    return this.logger.enabled ? this.#logged(op, agentId, traced) : traced();
  }

  async #logged<T>(op: string, agentId: string | undefined, fn: () => Promise<T>): Promise<T> {
    if (!this.logger.enabled) return fn();
    const started = performance.now();
    try {
      return await fn();
    } catch (err) {
      const code = errorType(err);
      const durationMs = Math.round(performance.now() - started);
      if (isAgentSessionsError(err) && QUIET.has(err.code)) {
        // An input error's message may quote the input: the code is enough here.
        this.logger.debug(`${op} failed: ${code}`, { op, code, agentId, durationMs });
      } else {
        // The driver's reason (ids, addresses, SQLSTATE text; URLs masked), never content.
        const error = err instanceof Error ? err.message : String(err);
        this.logger.warn(`${op} failed: ${code}`, { op, code, agentId, durationMs, error });
      }
      throw err;
    }
  }
}
