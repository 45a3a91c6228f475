import { randomFillSync } from "node:crypto";

/**
 * Spans in the OpenTelemetry model, made by hand: a span is a plain object that becomes one entry
 * of an OTLP/JSON export when it ends. A node makes a Tracer only when an OTLP endpoint is
 * configured; without one no span object is ever made (callers test `tracer !== undefined`).
 */
export const SpanKind = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 } as const;
export type SpanKindValue = (typeof SpanKind)[keyof typeof SpanKind];

export type AttributeValue = string | number | boolean;

/** Where a span hangs in its trace: the W3C trace-context identifiers. */
export interface SpanContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

/** Milliseconds since the epoch, with sub-millisecond precision. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export class Span implements SpanContext {
  readonly sampled = true;
  attributes: Record<string, AttributeValue>;
  endMs: number | undefined;
  /** 0 unset, 1 ok, 2 error (OTLP status codes). */
  status: 0 | 1 | 2 = 0;
  statusMessage: string | undefined;

  constructor(
    private readonly tracer: Tracer,
    readonly traceId: string,
    readonly spanId: string,
    readonly parentSpanId: string | undefined,
    public name: string,
    readonly kind: SpanKindValue,
    readonly startMs: number,
    attributes: Record<string, AttributeValue> | undefined,
  ) {
    this.attributes = attributes ?? {};
  }

  set(key: string, value: AttributeValue | undefined): this {
    if (value !== undefined) this.attributes[key] = value;
    return this;
  }

  /** Mark the span failed (an error code and message, as OTLP's error status). */
  fail(code: string, message?: string): this {
    this.status = 2;
    this.statusMessage = message === undefined ? code : `${code}: ${message}`;
    this.attributes["error.type"] = code;
    return this;
  }

  /** End the span (once; later calls are ignored) and hand it to the exporter. */
  end(atMs: number = nowMs()): void {
    if (this.endMs !== undefined) return;
    this.endMs = Math.max(atMs, this.startMs);
    this.tracer.finished(this);
  }

  /** A span below this one. */
  child(name: string, options: Omit<SpanOptions, "parent"> = {}): Span {
    return this.tracer.start(name, { ...options, parent: this })!;
  }

  /** The `traceparent` header that makes the next hop a child of this span. */
  traceparent(): string {
    return `00-${this.traceId}-${this.spanId}-01`;
  }
}

export interface SpanOptions {
  parent?: SpanContext | undefined;
  kind?: SpanKindValue;
  attributes?: Record<string, AttributeValue>;
  startMs?: number;
}

/** Where ended spans go: the OTLP exporter, or a test's collector. */
export interface SpanSink {
  add(span: Span): void;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export class Tracer {
  constructor(private readonly sink: SpanSink) {}

  /**
   * Start a span; undefined when its parent was not sampled (the caller that sent the
   * traceparent asked for no recording, and nothing is made below it).
   */
  start(name: string, options: SpanOptions = {}): Span | undefined {
    const parent = options.parent;
    if (parent !== undefined && !parent.sampled) return undefined;
    return new Span(
      this,
      parent?.traceId ?? randomHex(16),
      randomHex(8),
      parent?.spanId,
      name,
      options.kind ?? SpanKind.internal,
      options.startMs ?? nowMs(),
      options.attributes,
    );
  }

  finished(span: Span): void {
    this.sink.add(span);
  }

  flush(): Promise<void> {
    return this.sink.flush();
  }

  close(): Promise<void> {
    return this.sink.close();
  }
}

const traceparentPattern = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;

/** Parse a W3C `traceparent` header; undefined when it is absent or malformed (then a new trace starts). */
export function parseTraceparent(value: string | string[] | undefined): SpanContext | undefined {
  if (typeof value !== "string" || value.length > 512) return undefined;
  const match = traceparentPattern.exec(value.trim().toLowerCase());
  if (match === null) return undefined;
  const [, version, traceId, spanId, flags] = match;
  if (version === "ff" || /^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined;
  if (version === "00" && value.trim().length !== 55) return undefined;
  return { traceId: traceId!, spanId: spanId!, sampled: (parseInt(flags!, 16) & 1) === 1 };
}

// Random ids come from a pool refilled 4 KB at a time: one crypto call per many spans.
const pool = Buffer.alloc(4096);
let used = pool.length;

function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  const hex = pool.toString("hex", used, used + bytes);
  used += bytes;
  // An all-zero id is invalid; vanishingly unlikely, but cheap to rule out.
  return /^0+$/.test(hex) ? randomHex(bytes) : hex;
}
