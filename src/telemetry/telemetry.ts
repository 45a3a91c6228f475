import { AsyncLocalStorage } from "node:async_hooks";
import { Registry, type Counter, type Histogram } from "../metrics/registry.js";
import { FunctionMeter } from "./function-meter.js";
import { RecentActivity } from "./recent.js";
import type { Span, Tracer } from "./tracing.js";

/**
 * A node's telemetry: its metrics registry, its tracer (only when an OTLP endpoint is configured)
 * and the recent activity the console shows. Meters and series outlive deployments, so counters
 * carry on across hot reloads.
 */
export class Telemetry {
  readonly recent = new RecentActivity();
  readonly invocations: Counter;
  readonly durations: Histogram;
  readonly errors: Counter;
  readonly serviceCalls: Histogram;
  readonly serviceErrors: Counter;
  readonly store: Histogram;
  readonly cache: Counter;
  readonly steps: Counter;
  readonly stepRetries: Counter;
  /** The span a host-side service call runs under (set only while tracing, only for calls that start runs). */
  readonly activeSpan = new AsyncLocalStorage<Span>();
  private readonly meters = new Map<string, FunctionMeter>();

  constructor(
    readonly metrics: Registry = new Registry(),
    readonly tracer: Tracer | undefined = undefined,
  ) {
    this.invocations = metrics.counter(
      "cairn_invocations_total",
      "Invocations that ended, by app, function, kind (http, mount, queue, event, schedule, workflow) and status (ok or error).",
    );
    this.durations = metrics.histogram(
      "cairn_invocation_duration_seconds",
      "How long invocations took, from arrival (HTTP) or dispatch (triggers) to the end of the response.",
    );
    this.errors = metrics.counter(
      "cairn_invocation_errors_total",
      "Failed invocations by error code (function_error, function_timeout, ..., or http_<status> for a 5xx response).",
    );
    this.serviceCalls = metrics.histogram(
      "cairn_service_call_duration_seconds",
      "Service calls from functions (ctx.tables, ctx.cache, ...) by service and operation, as the host served them.",
    );
    this.serviceErrors = metrics.counter(
      "cairn_service_call_errors_total",
      "Service calls that failed, by service, operation and error code.",
    );
    this.store = metrics.histogram(
      "cairn_store_duration_seconds",
      "Durable store operations: read (one query outside a transaction) and transaction (until durable).",
    );
    this.cache = metrics.counter("cairn_cache_requests_total", "Cache reads by result (hit or miss).");
    this.steps = metrics.counter(
      "cairn_workflow_steps_total",
      "Workflow step attempts that ended, by workflow and status (completed, failed, retrying).",
    );
    this.stepRetries = metrics.counter(
      "cairn_workflow_step_retries_total",
      "Workflow step attempts that failed and will be retried, by workflow and step.",
    );
  }

  /** The meter of one function (the same object across reloads). */
  meter(app: string, name: string, kind: string): FunctionMeter {
    const key = `${app}\0${name}`;
    let meter = this.meters.get(key);
    if (meter === undefined || meter.kind !== kind) {
      const labels = { app, function: name, kind };
      meter = new FunctionMeter(
        app,
        name,
        kind,
        this.recent,
        this.invocations.series({ ...labels, status: "ok" }),
        this.invocations.series({ ...labels, status: "error" }),
        this.durations.series(labels),
        this.errors,
      );
      this.meters.set(key, meter);
    }
    return meter;
  }
}
