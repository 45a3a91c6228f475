import { Router } from "../gateway/router.js";
import type { HostLogger } from "../log/logger.js";
import type { Redactor } from "../log/redact.js";
import type { AppServices } from "../host/services.js";
import type { LogRecord, TriggerInput } from "../shared/protocol.js";
import type { TriggerOutcome } from "../events/dispatcher.js";
import { TriggerJob } from "./trigger-job.js";
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
  ) {
    for (const deployed of apps) {
      const { app, services, redactor } = deployed;
      for (const spec of app.functions) {
        const fnLogger = logger.child({ app: app.name, fn: spec.name });
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
            call: (instance: Instance, message) =>
              services.call(message.s, message.a, {
                app: app.name,
                functionName: spec.name,
                invocation: message.i,
                instanceId: instance.id,
              }),
            logs: (_instance, records) => writeFunctionLogs(fnLogger, redactor, records),
            problem: (message, error) => fnLogger.error({ code: error?.code }, redactor.text(message)),
          },
        );
        this.pools.push(pool);
        this.targets.push({ spec, pool, app, log: fnLogger });
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
    const job = new TriggerJob(requestId, input, target.log);
    target.pool.dispatch(job);
    return job.outcome;
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

function writeFunctionLogs(logger: HostLogger, redactor: Redactor, records: LogRecord[]): void {
  for (const record of records) {
    const fields = redactor.fields(record.fields);
    const line = record.req === undefined ? { ...fields } : { ...fields, req: record.req };
    logger[record.level](line, redactor.text(record.msg));
  }
}
