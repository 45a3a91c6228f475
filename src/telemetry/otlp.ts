import type { AttributeValue, Span, SpanSink } from "./tracing.js";

export interface OtlpSettings {
  /** The full URL spans are POSTed to (…/v1/traces). */
  url: string;
  headers: Record<string, string>;
  serviceName: string;
  /** Attributes of the resource besides service.name (the node's host and pid). */
  resource: Record<string, AttributeValue>;
}

export interface ExportLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Spans a batch holds before it is sent without waiting for the timer. */
const batchSize = 512;
/** Spans kept while the collector is slow or gone; beyond it new spans are dropped (and counted). */
const maxQueued = 8192;
const intervalMs = 1000;
const requestTimeoutMs = 10_000;

/**
 * Sends ended spans to an OpenTelemetry collector over OTLP/HTTP with JSON bodies, in batches: every
 * second, or as soon as 512 are waiting. Export never blocks or fails a request: a collector that is
 * down costs a warning (at most one a minute) and the spans that did not fit the queue.
 */
export class OtlpExporter implements SpanSink {
  private queue: Span[] = [];
  private timer: NodeJS.Timeout | undefined;
  private sending: Promise<void> = Promise.resolve();
  private lastWarning = 0;
  dropped = 0;
  exported = 0;

  constructor(
    private readonly settings: OtlpSettings,
    private readonly log: ExportLog,
  ) {}

  add(span: Span): void {
    if (this.queue.length >= maxQueued) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= batchSize) void this.flush();
    else if (this.timer === undefined) {
      this.timer = setTimeout(() => void this.flush(), intervalMs);
      this.timer.unref();
    }
  }

  /** Send everything queued now; resolves once it is sent (or failed). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.sending = this.sending.then(async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, batchSize);
        await this.send(batch);
      }
    });
    return this.sending;
  }

  async close(): Promise<void> {
    await this.flush();
  }

  private async send(spans: Span[]): Promise<void> {
    try {
      const response = await fetch(this.settings.url, {
        method: "POST",
        headers: { ...this.settings.headers, "content-type": "application/json" },
        body: JSON.stringify(otlpBody(spans, this.settings)),
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new Error(`the collector answered ${response.status}`);
      this.exported += spans.length;
    } catch (error) {
      this.dropped += spans.length;
      const now = Date.now();
      if (now - this.lastWarning >= 60_000) {
        this.lastWarning = now;
        this.log.warn(
          { url: this.settings.url, dropped: this.dropped, err: (error as Error).message },
          "traces: could not export spans to the OTLP endpoint; dropping them",
        );
      }
    }
  }
}

/** The OTLP/JSON request body (ExportTraceServiceRequest) for some spans. */
export function otlpBody(spans: Span[], settings: Pick<OtlpSettings, "serviceName" | "resource">) {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: attributes({ "service.name": settings.serviceName, ...settings.resource }),
        },
        scopeSpans: [{ scope: { name: "cairn" }, spans: spans.map(toOtlp) }],
      },
    ],
  };
}

function toOtlp(span: Span) {
  return {
    traceId: span.traceId,
    spanId: span.spanId,
    ...(span.parentSpanId !== undefined && { parentSpanId: span.parentSpanId }),
    name: span.name,
    kind: span.kind,
    startTimeUnixNano: nanos(span.startMs),
    endTimeUnixNano: nanos(span.endMs ?? span.startMs),
    attributes: attributes(span.attributes),
    status:
      span.status === 0
        ? {}
        : span.statusMessage === undefined
          ? { code: span.status }
          : { code: span.status, message: span.statusMessage },
  };
}

/** Epoch milliseconds as a decimal string of nanoseconds (int64 travels as a string in OTLP/JSON). */
function nanos(ms: number): string {
  return `${Math.round(ms * 1000)}000`;
}

function attributes(values: Record<string, AttributeValue>) {
  return Object.entries(values).map(([key, value]) => ({ key, value: anyValue(value) }));
}

function anyValue(value: AttributeValue) {
  if (typeof value === "string") return { stringValue: value };
  if (typeof value === "boolean") return { boolValue: value };
  return Number.isInteger(value) ? { intValue: String(value) } : { doubleValue: value };
}
