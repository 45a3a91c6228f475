/**
 * Metrics in the Prometheus text exposition format: counters, gauges and histograms with labels.
 * Small on purpose: recording is a map lookup and an addition on the hot path, and it loads in
 * no time (a full client library would add tens of milliseconds to every start).
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

function formatNumber(value: number): string {
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

export class Counter implements Family {
  readonly type = "counter";
  private readonly values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  render(): string[] {
    return [...this.values].map(
      ([key, value]) => `${this.name}${key ? `{${key}}` : ""} ${formatNumber(value)}`,
    );
  }
}

export class Gauge implements Family {
  readonly type = "gauge";
  private values = new Map<string, number>();

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  set(labels: Labels, value: number): void {
    this.values.set(labelKey(labels), value);
  }

  inc(labels: Labels = {}, by = 1): void {
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** Forget every series (before a collector sets the current ones). */
  reset(): void {
    this.values = new Map();
  }

  render(): string[] {
    return [...this.values].map(
      ([key, value]) => `${this.name}${key ? `{${key}}` : ""} ${formatNumber(value)}`,
    );
  }
}

export class Histogram implements Family {
  readonly type = "histogram";
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const key = labelKey(labels);
    let entry = this.series.get(key);
    if (entry === undefined) {
      entry = { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
      this.series.set(key, entry);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) entry.counts[i]!++;
    entry.sum += value;
    entry.count++;
  }

  render(): string[] {
    const lines: string[] = [];
    for (const [key, entry] of this.series) {
      const prefix = key ? `${key},` : "";
      this.buckets.forEach((bound, i) =>
        lines.push(`${this.name}_bucket{${prefix}le="${formatNumber(bound)}"} ${entry.counts[i]}`),
      );
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${entry.count}`);
      lines.push(`${this.name}_sum${key ? `{${key}}` : ""} ${entry.sum}`);
      lines.push(`${this.name}_count${key ? `{${key}}` : ""} ${entry.count}`);
    }
    return lines;
  }
}

export class Registry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => Promise<void> | void> = [];

  counter(name: string, help: string): Counter {
    return this.register(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.register(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
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
        `# HELP ${family.name} ${family.help}`,
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
