/**
 * Metrics in the Prometheus text exposition format: counters, gauges and histograms with labels.
 * Small on purpose: it loads in no time (a full client library would add tens of milliseconds to
 * every start), and recording on a hot path is a field update on a series handle that the caller
 * looked up once (`counter.series(labels)`, `histogram.series(labels)`); the label set is only
 * turned into text when a series is created.
 */
type Labels = Record<string, string>;

interface Family {
  name: string;
  help: string;
  type: "counter" | "gauge" | "histogram";
  render(): string[];
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((key) => `${key}="${escapeLabel(labels[key]!)}"`)
    .join(",");
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
}

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

/** One labelled series of a counter or gauge: add to `value` directly on a hot path. */
export interface Series {
  value: number;
}

export class CounterSeries implements Series {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class Counter implements Family {
  readonly type: "counter" | "gauge" = "counter";
  protected values = new Map<string, CounterSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  /** The series for these labels, made on first use; keep it to record without a lookup. */
  series(labels: Labels = {}): CounterSeries {
    const key = labelKey(labels);
    let series = this.values.get(key);
    if (series === undefined) {
      series = new CounterSeries();
      this.values.set(key, series);
    }
    return series;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.series(labels).value += by;
  }

  render(): string[] {
    return [...this.values].map(
      ([key, series]) => `${this.name}${key ? `{${key}}` : ""} ${formatNumber(series.value)}`,
    );
  }
}

export class Gauge extends Counter {
  override readonly type = "gauge";

  set(labels: Labels, value: number): void {
    this.series(labels).value = value;
  }

  /** Forget every series (before a collector sets the current ones). */
  reset(): void {
    this.values = new Map();
  }
}

/** One labelled series of a histogram. Counts are kept per bucket and summed up when rendered. */
export class HistogramSeries {
  /** Per bucket (not cumulative); the last slot counts values above the highest bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class Histogram implements Family {
  readonly type = "histogram";
  private readonly values = new Map<string, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  series(labels: Labels = {}): HistogramSeries {
    const key = labelKey(labels);
    let series = this.values.get(key);
    if (series === undefined) {
      series = new HistogramSeries(this.buckets);
      this.values.set(key, series);
    }
    return series;
  }

  observe(labels: Labels, value: number): void {
    this.series(labels).observe(value);
  }

  render(): string[] {
    const lines: string[] = [];
    for (const [key, series] of this.values) {
      const prefix = key ? `${key},` : "";
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += series.counts[i]!;
        lines.push(`${this.name}_bucket{${prefix}le="${formatNumber(bound)}"} ${cumulative}`);
      });
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${series.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ""} ${series.sum}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ""} ${series.count}`);
    }
    return lines;
  }
}

/** Bucket bounds in seconds, from 0.5 ms to 60 s: invocations, service calls, store operations. */
export const latencyBuckets: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];

export class Registry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => Promise<void> | void> = [];

  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.register(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[] = latencyBuckets): Histogram {
    return this.register(new Histogram(name, help, buckets));
  }

  /** Refresh gauges that are read at scrape time (queue depths, instance counts). */
  collect(collector: () => Promise<void> | void): void {
    this.collectors.push(collector);
  }

  async render(): Promise<string> {
    for (const collector of this.collectors) await collector();
    const lines: string[] = [];
    for (const family of this.families.values()) {
      lines.push(
        `# HELP ${family.name} ${escapeHelp(family.help)}`,
        `# TYPE ${family.name} ${family.type}`,
        ...family.render(),
      );
    }
    return `${lines.join("\n")}\n`;
  }

  private register<T extends Family>(family: T): T {
    const existing = this.families.get(family.name);
    if (existing !== undefined) return existing as T;
    this.families.set(family.name, family);
    return family;
  }
}
