// The public types of telemetry, apart from the implementation so that declaration files never
// name `@opentelemetry/api` (an optional peer an application may not have).

/** The part of an OpenTelemetry TracerProvider core uses. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): unknown;
}

/** The part of an OpenTelemetry MeterProvider core uses. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): unknown;
}

/**
 * The `telemetry` store option. Default `true`: spans and metrics go to the global providers of
 * `@opentelemetry/api` when it is installed (a no-op otherwise). `false` turns them off for this
 * store; providers given here are used instead of the global ones.
 */
export type TelemetryOption =
  | boolean
  | {
      tracerProvider?: TracerProviderLike | undefined;
      meterProvider?: MeterProviderLike | undefined;
    };

/** What a call can add to its span once it knows (counts, sizes). */
export interface CallRecorder {
  /** True when a span is being recorded: compute costly attributes only then. */
  readonly recording: boolean;
  set(attributes: Record<string, string | number | boolean | undefined>): void;
}

/** Where the store's server is, for `server.address`, `server.port` and `db.namespace`. */
export interface ServerInfo {
  address?: string | undefined;
  port?: number | undefined;
  /** The schema, database or key prefix. */
  namespace?: string | undefined;
}

/** Attributes a turn span may carry: ids and counts, never content. */
export interface TurnSpanAttributes {
  /** The framework: `openai-agents`, `langchain`. */
  framework?: string | undefined;
  agentId?: string | undefined;
  /** Runs loaded for the window, items loaded, items saved... any count or flag. */
  [key: string]: string | number | boolean | undefined;
}
