// A stand-in TracerProvider with no OpenTelemetry SDK behind it (nothing is loaded or registered).

/** A span as `capturingProvider` saw it: its name and attributes. */
export interface Captured {
  name: string;
  attributes: Record<string, unknown>;
}

/**
 * The few methods of an OpenTelemetry TracerProvider core calls, capturing span attributes into
 * `spans`: no SDK needed, for tests that only read what a span was given.
 */
export function capturingProvider(spans: Captured[]) {
  const span = (captured: Captured) => ({
    spanContext: () => ({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 }),
    setAttribute(k: string, v: unknown) {
      captured.attributes[k] = v;
      return this;
    },
    setAttributes(a: Record<string, unknown>) {
      Object.assign(captured.attributes, a);
      return this;
    },
    addEvent() {
      return this;
    },
    setStatus() {
      return this;
    },
    updateName() {
      return this;
    },
    recordException() {},
    isRecording: () => true,
    end() {},
  });
  return {
    getTracer: () => ({
      startSpan(name: string, options: { attributes?: Record<string, unknown> } = {}) {
        const captured = { name, attributes: { ...options.attributes } };
        spans.push(captured);
        return span(captured);
      },
      startActiveSpan() {
        throw new Error('not used');
      },
    }),
  };
}
