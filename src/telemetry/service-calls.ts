import type { CounterSeries, HistogramSeries } from "../metrics/registry.js";
import type { JournalRecord } from "../shared/protocol.js";
import type { Telemetry } from "./telemetry.js";
import { nowMs, SpanKind, type Span } from "./tracing.js";

/** What an invocation's sink may carry: its span, while tracing. */
export interface Traced {
  span?: Span | undefined;
}

interface OperationSeries {
  duration: HistogramSeries;
  errors: Map<string, CounterSeries>;
}

/**
 * Service calls of one app's functions as telemetry sees them: a latency series per operation,
 * errors by code, cache hits and misses, workflow step outcomes (from the journal records the
 * instance reports) and, while tracing, a span per call under the invocation's span and a span per
 * workflow step under the activation's.
 */
export class ServiceCallMeter {
  private readonly operations = new Map<string, OperationSeries>();
  private readonly stepOutcomes = new Map<string, CounterSeries>();
  private readonly hits: CounterSeries;
  private readonly misses: CounterSeries;

  constructor(
    private readonly telemetry: Telemetry,
    readonly app: string,
  ) {
    this.hits = telemetry.cache.series({ app, result: "hit" });
    this.misses = telemetry.cache.series({ app, result: "miss" });
  }

  /**
   * Run `call` (the host side of `operation`) and record it. `parent` is the calling invocation's
   * span when there is one; `workflow` names the workflow when the caller is one.
   */
  observe(
    operation: string,
    args: unknown[],
    parent: Span | undefined,
    workflow: string | undefined,
    call: () => Promise<unknown>,
  ): Promise<unknown> {
    const started = performance.now();
    let span: Span | undefined;
    let result: Promise<unknown>;
    if (parent !== undefined) {
      span = parent.child(operation, {
        kind: SpanKind.client,
        attributes: { "cairn.app": this.app, "cairn.operation": operation },
      });
      // Starting a run delivers its first activation from inside this call: it becomes a child.
      result = operation === "workflows.start" ? this.telemetry.activeSpan.run(span, call) : call();
    } else {
      result = call();
    }
    return result.then(
      (value) => {
        this.series(operation).duration.observe((performance.now() - started) / 1000);
        if (operation === "cache.get") (value === undefined ? this.misses : this.hits).value++;
        else if (operation === "cache.getMany" && Array.isArray(value)) {
          for (const entry of value)
            (entry === undefined || entry === null ? this.misses : this.hits).value++;
        } else if (workflow !== undefined && operation.startsWith("workflows.")) {
          this.steps(operation, args, workflow, parent);
        }
        span?.end();
        return value;
      },
      (error: unknown) => {
        const code =
          typeof (error as { code?: unknown })?.code === "string"
            ? (error as { code: string }).code
            : "internal_error";
        const series = this.series(operation);
        series.duration.observe((performance.now() - started) / 1000);
        let errors = series.errors.get(code);
        if (errors === undefined) {
          const [service, name] = split(operation);
          errors = this.telemetry.serviceErrors.series({ app: this.app, service, operation: name, code });
          series.errors.set(code, errors);
        }
        errors.value++;
        span?.fail(code, (error as Error)?.message).end();
        throw error;
      },
    );
  }

  private series(operation: string): OperationSeries {
    let series = this.operations.get(operation);
    if (series === undefined) {
      const [service, name] = split(operation);
      series = {
        duration: this.telemetry.serviceCalls.series({ app: this.app, service, operation: name }),
        errors: new Map(),
      };
      this.operations.set(operation, series);
    }
    return series;
  }

  /** A workflow's step outcome counter, looked up once (every step of every run counts). */
  private stepSeries(workflow: string, status: string): CounterSeries {
    const key = `${workflow}\n${status}`;
    let series = this.stepOutcomes.get(key);
    if (series === undefined) {
      series = this.telemetry.steps.series({ app: this.app, workflow, status });
      this.stepOutcomes.set(key, series);
    }
    return series;
  }

  /** Journal records of steps, once they are committed: outcomes, retries and (tracing) a span each. */
  private steps(operation: string, args: unknown[], workflow: string, parent: Span | undefined): void {
    let records: JournalRecord[];
    if (operation === "workflows.journal" && Array.isArray(args[2])) records = args[2] as JournalRecord[];
    // The last records of an activation may travel with its outcome.
    else if (operation === "workflows.finish" && Array.isArray(args[5])) records = args[5] as JournalRecord[];
    else if (operation === "workflows.commitStep" && typeof args[2] === "object" && args[2] !== null)
      records = [args[2] as JournalRecord];
    else return;
    for (const record of records) {
      if (record.kind !== "step" && record.kind !== "compensation") continue;
      if (record.status !== "completed" && record.status !== "failed" && record.status !== "retrying")
        continue;
      this.stepSeries(workflow, record.status).value++;
      if (record.status === "retrying")
        this.telemetry.stepRetries.inc({ app: this.app, workflow, step: record.name });
      if (parent === undefined) continue;
      const span = parent.child(`step ${record.name}`, {
        startMs: record.startedAt,
        attributes: {
          "cairn.workflow": workflow,
          "cairn.run_id": String(args[0]),
          "cairn.step": record.name,
          "cairn.step.kind": record.kind,
          "cairn.step.seq": record.seq,
          "cairn.step.attempts": record.attempts,
          "cairn.step.status": record.status,
        },
      });
      if (record.status !== "completed") {
        const error = parseError(record.error);
        span.fail(error.code, error.message);
      }
      span.end(record.endedAt ?? nowMs());
    }
  }
}

function split(operation: string): [string, string] {
  const dot = operation.indexOf(".");
  return dot === -1 ? [operation, ""] : [operation.slice(0, dot), operation.slice(dot + 1)];
}

function parseError(text: string | null | undefined): { code: string; message: string } {
  try {
    const parsed = JSON.parse(text ?? "null") as { code?: unknown; message?: unknown } | null;
    return {
      code: typeof parsed?.code === "string" ? parsed.code : "step_failed",
      message: typeof parsed?.message === "string" ? parsed.message : "",
    };
  } catch {
    return { code: "step_failed", message: "" };
  }
}
