import type { Counter, CounterSeries, HistogramSeries } from "../metrics/registry.js";
import type { RecentActivity } from "./recent.js";

/** Invocations whose durations are kept per function for percentiles. */
const samples = 1024;
/** Seconds of per-second counts kept per function (the console's rate and sparkline). */
const window = 60;

export interface FunctionSummary {
  total: number;
  errors: number;
  /** Invocations per second over the last 10 complete seconds. */
  rate: number;
  /** Errors per second over the same 10 seconds. */
  errorRate: number;
  /** Milliseconds, over the function's last 1,024 invocations on this node (null before the first). */
  p50: number | null;
  p99: number | null;
  /** Invocations in each of the last 60 seconds, oldest first (the last one is still counting). */
  perSecond: number[];
  errorsPerSecond: number[];
}

/**
 * What one function's invocations add up to on this node: the Prometheus series (looked up once,
 * so recording is a few field updates) and what the console shows (recent durations for
 * percentiles, per-second counts for the rate). Kept across reloads, like the metrics.
 */
export class FunctionMeter {
  total = 0;
  errors = 0;
  private readonly durations = new Float64Array(samples);
  private readonly counts = new Uint32Array(window);
  private readonly errorCounts = new Uint32Array(window);
  private second = 0;
  private readonly codes = new Map<string, CounterSeries>();

  constructor(
    readonly app: string,
    readonly name: string,
    readonly kind: string,
    private readonly recent: RecentActivity,
    private readonly ok: CounterSeries,
    private readonly failed: CounterSeries,
    private readonly histogram: HistogramSeries,
    private readonly errorFamily: Counter,
  ) {}

  /**
   * One invocation that started at `started` (performance.now() time) ended now: count it, and keep
   * it among the node's recent invocations. `method` and `target` say what it served.
   */
  finish(
    requestId: string,
    method: string,
    target: string,
    status: number,
    code: string | undefined,
    started: number,
  ): number {
    const end = performance.now();
    const ms = end - started;
    this.record(end, ms, code);
    this.recent.invocation(this, requestId, method, target, status, code, ms, end);
    return ms;
  }

  /**
   * One invocation ended at `end` (performance.now() time) after `ms`; `code` is set when it failed
   * (a platform error code, or `http_5xx` for a 5xx response).
   */
  record(end: number, ms: number, code: string | undefined): void {
    this.durations[this.total % samples] = ms;
    this.total++;
    const second = Math.floor(end / 1000);
    if (second !== this.second) this.roll(second);
    const slot = second % window;
    this.counts[slot]!++;
    this.histogram.observe(ms / 1000);
    if (code === undefined) {
      this.ok.value++;
      return;
    }
    this.errors++;
    this.errorCounts[slot]!++;
    this.failed.value++;
    let series = this.codes.get(code);
    if (series === undefined) {
      series = this.errorFamily.series({ app: this.app, function: this.name, code });
      this.codes.set(code, series);
    }
    series.value++;
  }

  summary(now = performance.now()): FunctionSummary {
    this.roll(Math.floor(now / 1000));
    const perSecond: number[] = [];
    const errorsPerSecond: number[] = [];
    for (let i = window - 1; i >= 0; i--) {
      const slot = (this.second - i + window * 2) % window;
      perSecond.push(this.counts[slot]!);
      errorsPerSecond.push(this.errorCounts[slot]!);
    }
    const last10 = (values: number[]) => values.slice(-11, -1).reduce((a, b) => a + b, 0) / 10;
    const kept = Math.min(this.total, samples);
    const sorted = Array.from(this.durations.subarray(0, kept)).sort((a, b) => a - b);
    const pick = (q: number) =>
      kept === 0 ? null : Math.round(sorted[Math.min(kept - 1, Math.ceil(q * kept) - 1)]! * 1000) / 1000;
    return {
      total: this.total,
      errors: this.errors,
      rate: last10(perSecond),
      errorRate: last10(errorsPerSecond),
      p50: pick(0.5),
      p99: pick(0.99),
      perSecond,
      errorsPerSecond,
    };
  }

  /** Move to `second`, clearing the slots of the seconds that passed without invocations. */
  private roll(second: number): void {
    if (second <= this.second) return;
    const gap = Math.min(window, second - this.second);
    for (let i = 1; i <= gap; i++) {
      const slot = (this.second + i) % window;
      this.counts[slot] = 0;
      this.errorCounts[slot] = 0;
    }
    this.second = second;
  }
}
