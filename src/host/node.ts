import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { BlobStore } from "../blobs/blob-store.js";
import { registerBlobRoutes } from "../blobs/http.js";
import { registerJwksRoutes } from "../sessions/jwks.js";
import { registerQueueRoutes } from "../events/admin.js";
import { registerWorkflowRoutes } from "../workflows/admin.js";
import type { WorkflowEngine } from "../workflows/runs.js";
import { registerQueueMetrics } from "../events/metrics.js";
import { Registry } from "../metrics/registry.js";
import { registerConsole } from "../console/routes.js";
import { registerCollectors } from "../telemetry/collectors.js";
import { OtlpExporter } from "../telemetry/otlp.js";
import { Telemetry } from "../telemetry/telemetry.js";
import { otlpSettings } from "../telemetry/trace-config.js";
import { Tracer } from "../telemetry/tracing.js";
import { packageVersion } from "../runtime/package-root.js";
import type { EventsHost } from "../events/service.js";
import { AdminApi } from "../gateway/admin.js";
import { createHandler, type GatewayState } from "../gateway/handler.js";
import { createHttpServer } from "../gateway/server.js";
import { createLogger, flushLogger, type HostLogger, type LogFormat } from "../log/logger.js";
import { Redactor } from "../log/redact.js";
import { appDataDir, loadApps } from "../runtime/app.js";
import { Deployment, type DeployedApp } from "../runtime/deployment.js";
import { instanceRuntime } from "../runtime/own-files.js";
import { defaultSettings } from "../runtime/settings.js";
import { WorkerFactory } from "../runtime/workers.js";
import { systemClock, type Clock } from "../shared/clock.js";
import { defaultProviders } from "./providers.js";
import { AppServices, type ServiceProvider } from "./services.js";
import { findApps, type Workspace } from "./workspace.js";
import { watchApps, type Watcher } from "./watch.js";

export interface NodeOptions {
  /** An app folder, or a folder of apps. */
  dir: string;
  /** Port to listen on (default 8787; 0 picks a free one). */
  port?: number;
  /** Address to listen on (default 127.0.0.1). */
  host?: string;
  /** Where durable state lives (default `<app>/.cairn`). */
  dataDir?: string;
  /** Run every invocation in a fresh instance. */
  strict?: boolean;
  /** Development mode: reload on change, admin API open without a token. */
  dev?: boolean;
  logger?: HostLogger;
  logLevel?: string;
  logFormat?: LogFormat;
  env?: NodeJS.ProcessEnv;
  /** Booted workers kept ready for new instances (default 1). */
  spares?: number;
  /** How long stop() waits for running invocations (default 10 s). */
  drainTimeoutMs?: number;
  services?: ServiceProvider[];
  /** Time for TTLs, expiry and timers (tests pass a manual clock). */
  clock?: Clock;
}

/** One Cairn server: the HTTP gateway, the loaded apps and their instance pools. */
export class CairnNode implements GatewayState {
  deployment!: Deployment;
  draining = false;
  readonly admin: AdminApi;
  /** This node's metrics, served at /_cairn/metrics. */
  readonly metrics = new Registry();
  /** Metrics, traces (when an OTLP endpoint is set) and the recent activity the console shows. */
  readonly telemetry: Telemetry;
  private readonly exporter: OtlpExporter | undefined;
  private readonly startedAt = Date.now();
  private server: Server | undefined;
  private watcher: Watcher | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private readonly env: NodeJS.ProcessEnv;
  private readonly workspace: Workspace;

  private constructor(
    readonly options: NodeOptions,
    private readonly factory: WorkerFactory,
    private readonly runtime: string,
    readonly logger: HostLogger,
  ) {
    this.env = options.env ?? process.env;
    this.admin = new AdminApi(this.env.CAIRN_ADMIN_TOKEN || undefined, options.dev === true);
    this.admin.route("GET", "/health", () => this.health(), { public: true });
    registerBlobRoutes(this.admin, (app) => this.services(app)?.api<BlobStore>("blobs"), logger);
    registerJwksRoutes(this.admin, () => this.deployment?.apps ?? []);
    const events = () =>
      (this.deployment?.apps ?? []).map(({ app, services }) => ({
        app: app.name,
        events: services.api<EventsHost>("queues"),
      }));
    registerQueueRoutes(this.admin, events);
    registerWorkflowRoutes(this.admin, () =>
      (this.deployment?.apps ?? []).map(({ app, services }) => ({
        app: app.name,
        engine: services.api<WorkflowEngine>("workflows"),
      })),
    );
    registerQueueMetrics(this.metrics, events);
    const otlp = otlpSettings(this.env);
    if (otlp !== undefined) {
      this.exporter = new OtlpExporter(otlp, logger);
      logger.info({ url: otlp.url }, "traces: exporting spans over OTLP/HTTP");
    }
    this.telemetry = new Telemetry(
      this.metrics,
      this.exporter === undefined ? undefined : new Tracer(this.exporter),
    );
    registerCollectors(this.metrics, () => this.deployment, this.exporter);
    registerConsole(
      this.admin,
      {
        deployment: () => this.deployment,
        telemetry: this.telemetry,
        dev: options.dev === true,
        version: packageVersion(),
        startedAt: this.startedAt,
      },
      this.env.CAIRN_ADMIN_TOKEN || undefined,
    );
    this.admin.route("GET", "/metrics", async ({ res }) => {
      const text = await this.metrics.render();
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(text);
    });
    this.workspace = findApps(options.dir);
  }

  static async start(options: NodeOptions): Promise<CairnNode> {
    const runtime = await instanceRuntime();
    const factory = new WorkerFactory(runtime, options.spares ?? 1, defaultSettings.memoryMb);
    factory.warm();
    let node: CairnNode | undefined;
    try {
      const logger =
        options.logger ??
        (await createLogger({
          level: options.logLevel,
          format: options.logFormat ?? (options.dev ? "pretty" : undefined),
        }));
      node = new CairnNode(options, factory, runtime, logger);
      node.deployment = await node.deploy();
      await node.listen();
      if (options.dev) node.watcher = await watchApps(node.workspace.apps, () => node!.reload());
      return node;
    } catch (error) {
      await node?.deployment?.close(performance.now());
      await factory.close();
      throw error;
    }
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null;
    if (!address) return "";
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** Set only while traces are exported. */
  get tracer(): Tracer | undefined {
    return this.telemetry.tracer;
  }

  get apps(): readonly string[] {
    return this.workspace.apps;
  }

  /** Load the apps again and switch new requests to them; requests in flight finish on the old code. */
  reload(): Promise<void> {
    if (this.reloading !== undefined) {
      this.reloadAgain = true;
      return this.reloading;
    }
    this.reloading = (async () => {
      do {
        this.reloadAgain = false;
        const started = performance.now();
        try {
          const next = await this.deploy();
          const previous = this.deployment;
          this.deployment = next;
          this.logger.info({ ms: Math.round(performance.now() - started) }, "reloaded");
          void previous.close(performance.now() + this.drainTimeout);
        } catch (error) {
          this.logger.error(
            `reload failed; still serving the previous version:\n${(error as Error).message}`,
          );
        }
      } while (this.reloadAgain);
      this.reloading = undefined;
    })();
    return this.reloading;
  }

  /** Stop accepting, let running invocations finish (up to the drain timeout), then shut down. */
  async stop(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const deadline = performance.now() + this.drainTimeout;
    await this.watcher?.close();
    const server = this.server;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    server?.closeIdleConnections();
    await this.reloading;
    await this.deployment.close(deadline);
    server?.closeAllConnections();
    await closed;
    await this.factory.close();
    await this.telemetry.tracer?.close();
    flushLogger(this.logger);
  }

  private get drainTimeout(): number {
    return this.options.drainTimeoutMs ?? 10_000;
  }

  /** The services of an app of the deployment serving now. */
  private services(app: string) {
    return this.deployment?.apps.find((deployed) => deployed.app.name === app)?.services;
  }

  private health() {
    if (this.draining) return { status: 503, body: { status: "draining" } };
    return { body: { status: "ok", apps: this.deployment.apps.map(({ app }) => app.name) } };
  }

  private async deploy(): Promise<Deployment> {
    const { apps: dirs, workspace } = this.workspace;
    const apps = await loadApps(dirs, {
      factory: this.factory,
      runtime: this.runtime,
      strict: this.options.strict === true,
      env: this.env,
      dataDir: (name, dir) => appDataDir(this.options.dataDir, workspace, name, dir),
    });
    const deployed: DeployedApp[] = [];
    // Services get a way to invoke trigger functions before the pools exist; it is bound below.
    let deployment: Deployment | undefined;
    try {
      for (const app of apps) {
        const services = await AppServices.open(this.options.services ?? defaultProviders(), {
          app,
          logger: this.logger.child({ app: app.name }),
          env: this.env,
          clock: this.options.clock ?? systemClock,
          telemetry: this.telemetry,
          functions: {
            invoke: (name, requestId, input) =>
              deployment === undefined
                ? Promise.reject(new Error("functions are not running yet"))
                : deployment.invokeTrigger(app.name, name, requestId, input),
          },
        });
        deployed.push({ app, services, redactor: new Redactor(Object.values(app.config.secrets)) });
      }
      deployment = new Deployment(deployed, this.factory, this.logger, this.telemetry);
      await deployment.start();
      return deployment;
    } catch (error) {
      if (deployment !== undefined) await deployment.close(performance.now());
      else for (const { services } of deployed) await services.close();
      throw error;
    }
  }

  private async listen(): Promise<void> {
    const server = createHttpServer(createHandler(this));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.options.port ?? 8787, this.options.host ?? "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  }
}
