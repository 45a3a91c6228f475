import { Router } from "../gateway/router.js";
import type { HostLogger } from "../log/logger.js";
import type { Redactor } from "../log/redact.js";
import type { AppServices } from "../host/services.js";
import type { LogRecord, TriggerInput } from "../shared/protocol.js";
import type { TriggerOutcome } from "../events/dispatcher.js";
import type { FunctionMeter } from "../telemetry/function-meter.js";
import type { RecentLog } from "../telemetry/recent.js";
import { ServiceCallMeter, type Traced } from "../telemetry/service-calls.js";
import { Telemetry } from "../telemetry/telemetry.js";
import { parseTraceparent, SpanKind, type Span } from "../telemetry/tracing.js";
import { TriggerJob, triggerTarget } from "./trigger-job.js";
import type { FunctionSpec, LoadedApp } from "./app.js";
import type { Instance } from "./instance.js";
import { FunctionPool } from "./pool.js";
import type { WorkerFactory } from "./workers.js";

export interface RouteTarget {
  spec: FunctionSpec;
  pool: FunctionPool;
  app: LoadedApp;
  /** Logger bound to the app and function. */
  log: HostLogger;
  /** The function's counters, durations and recent invocations. */
  meter: FunctionMeter;
}

export interface DeployedApp {
  app: LoadedApp;
  services: AppServices;
  redactor: Redactor;
}

/**
 * One loaded version of the apps: their router, pools and services. Hot reload builds a new
 * deployment, switches traffic to it, and lets this one finish what it started.
 */
export class Deployment {
  readonly router: Router<RouteTarget>;
  readonly pools: FunctionPool[] = [];
  readonly targets: RouteTarget[] = [];
  private readonly ticker: NodeJS.Timeout;

  constructor(
    readonly apps: DeployedApp[],
    factory: WorkerFactory,
    private readonly logger: HostLogger,
    private readonly telemetry: Telemetry = new Telemetry(),
  ) {
    for (const deployed of apps) {
      const { app, services, redactor } = deployed;
      const calls = new ServiceCallMeter(telemetry, app.name);
      for (const spec of app.functions) {
        const fnLogger = logger.child({ app: app.name, fn: spec.name });
        const workflow = spec.trigger?.kind === "workflow" ? spec.trigger.workflow : undefined;
        const pool = new FunctionPool(
          spec.name,
          spec.settings,
          factory,
          {
            t: "load",
            module: spec.module,
            exportName: spec.exportName,
            functionName: spec.name,
            env: app.config.vars,
            secrets: app.config.secrets,
            services: services.specs,
          },
          {
            call: (instance: Instance, message) => {
              const caller = {
                app: app.name,
                functionName: spec.name,
                invocation: message.i,
                instanceId: instance.id,
              };
              const sink = instance.pending.get(message.i)?.sink as Traced | undefined;
              return calls.observe(message.s, message.a, sink?.span, workflow, () =>
                services.call(message.s, message.a, caller),
              );
            },
            logs: (_instance, records) =>
              writeFunctionLogs(fnLogger, redactor, records, (entry) =>
                telemetry.recent.log({ ...entry, app: app.name, function: spec.name }),
              ),
            problem: (message, error) => fnLogger.error({ code: error?.code }, redactor.text(message)),
          },
        );
        this.pools.push(pool);
        const meter = telemetry.meter(app.name, spec.name, spec.kind);
        this.targets.push({ spec, pool, app, log: fnLogger, meter });
      }
    }
    this.router = new Router(
      this.targets.filter((target) => target.spec.kind === "http" || target.spec.kind === "mount"),
    );
    this.ticker = setInterval(() => {
      const now = performance.now();
      for (const pool of this.pools) pool.tick(now);
    }, 100);
    this.ticker.unref();
  }

  /** Start pools (minimum instances), then the services' background work (dispatchers, schedules). */
  async start(): Promise<void> {
    for (const pool of this.pools) pool.start();
    for (const { services } of this.apps) await services.start();
  }

  /** Run a trigger function of an app (an event, a queue batch, a schedule tick) through its pool. */
  invokeTrigger(
    app: string,
    functionName: string,
    requestId: string,
    input: TriggerInput,
  ): Promise<TriggerOutcome> {
    const target = this.targets.find(
      (candidate) => candidate.app.name === app && candidate.spec.name === functionName,
    );
    if (target === undefined) {
      return Promise.resolve({
        ok: false,
        error: { code: "not_found", message: `no function ${functionName} in app ${app}` },
      });
    }
    const job = new TriggerJob(requestId, input, target.log, target.meter, this.triggerSpan(target, input));
    target.pool.dispatch(job);
    return job.outcome;
  }

  /** The span of a delivery, while tracing: a workflow's activations join the trace of the run's start. */
  private triggerSpan(target: RouteTarget, input: TriggerInput): Span | undefined {
    const tracer = this.telemetry.tracer;
    if (tracer === undefined) return undefined;
    const attributes = {
      "cairn.app": target.app.name,
      "cairn.function": target.spec.name,
      "cairn.trigger": input.kind,
    };
    if (input.kind !== "workflow") {
      return tracer.start(`${input.kind} ${triggerTarget(input)}`, { kind: SpanKind.consumer, attributes });
    }
    const name = `workflow ${target.spec.trigger?.kind === "workflow" ? target.spec.trigger.workflow : target.spec.name}`;
    // A run's first activation is delivered from inside the service call that started it.
    const starting = input.activation === undefined ? undefined : this.telemetry.activeSpan.getStore();
    // Later activations (on any node, after any restart) carry the start's traceparent with them.
    const parent = starting ?? parseTraceparent(input.trace);
    return tracer.start(name, { parent, attributes: { ...attributes, "cairn.run_id": input.runId } });
  }

  get busy(): number {
    let busy = 0;
    for (const pool of this.pools) busy += pool.busy;
    return busy;
  }

  /** Finish running invocations (until the deadline), stop instances, close services. */
  async close(deadline: number): Promise<void> {
    await Promise.all([
      ...this.pools.map((pool) => pool.close(deadline)),
      ...this.apps.map(({ services }) => services.drain()),
    ]);
    clearInterval(this.ticker);
    for (const { app, services } of this.apps) {
      try {
        await services.close();
      } catch (error) {
        this.logger.error({ app: app.name, err: error }, "closing services failed");
      }
    }
  }
}

function writeFunctionLogs(
  logger: HostLogger,
  redactor: Redactor,
  records: LogRecord[],
  keep: (entry: Omit<RecentLog, "app" | "function">) => void,
): void {
  for (const record of records) {
    const fields = redactor.fields(record.fields);
    const line = record.req === undefined ? { ...fields } : { ...fields, req: record.req };
    const msg = redactor.text(record.msg);
    logger[record.level](line, msg);
    keep({
      req: record.req,
      level: record.level,
      msg,
      time: record.time,
      ...(fields !== undefined && Object.keys(fields).length > 0 && { fields }),
    });
  }
}
