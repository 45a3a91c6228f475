import type { AdminApi } from "../gateway/admin.js";
import type { FunctionSpec } from "../runtime/app.js";
import type { RouteTarget } from "../runtime/deployment.js";
import type { Store } from "../store/types.js";
import { pendingOf } from "../workflows/inspect.js";
import type { WorkflowEngine } from "../workflows/runs.js";
import { CairnError } from "../sdk/errors.js";
import { intParam, type ConsoleSource } from "./source.js";

/**
 * What functions are doing: every function of every app with its route or trigger, its instances
 * and its recent numbers (`GET /_cairn/functions`); recent invocations with their log lines
 * (`GET /_cairn/invocations`); and what a workflow run waits for (`GET /_cairn/workflows/{id}/pending`).
 */
export function registerFunctionRoutes(admin: AdminApi, source: ConsoleSource): void {
  admin.route("GET", "/functions", () => {
    const deployment = source.deployment();
    const now = performance.now();
    const apps = (deployment?.apps ?? []).map(({ app }) => ({
      name: app.name,
      functions: (deployment?.targets ?? [])
        .filter((target) => target.app.name === app.name)
        .map((target) => describe(target, now)),
    }));
    return {
      body: {
        node: {
          version: source.version,
          pid: process.pid,
          startedAt: source.startedAt,
          uptimeMs: Date.now() - source.startedAt,
          dev: source.dev,
          tracing: source.telemetry.tracer !== undefined,
        },
        apps,
      },
    };
  });

  admin.route("GET", "/invocations", (request) => {
    const query = request.query;
    const items = source.telemetry.recent.list({
      ...(query.get("app") && { app: query.get("app")! }),
      ...(query.get("function") && { function: query.get("function")! }),
      ...(query.get("request") && { requestId: query.get("request")! }),
      ...(query.get("errors") === "1" && { errors: true }),
      limit: intParam(request, "limit") ?? 100,
    });
    return { body: { items } };
  });

  admin.route("GET", "/logs", (request) => {
    const query = request.query;
    const lines = source.telemetry.recent.logLines({
      ...(query.get("app") && { app: query.get("app")! }),
      ...(query.get("function") && { function: query.get("function")! }),
      ...(query.get("request") && { requestId: query.get("request")! }),
      limit: intParam(request, "limit") ?? 200,
    });
    return { body: { lines } };
  });

  admin.route("GET", "/workflows/:id/pending", async (request) => {
    for (const { services } of source.deployment()?.apps ?? []) {
      const engine = services.api<WorkflowEngine>("workflows");
      const store = services.api<Store>("store");
      if (engine === undefined || store === undefined) continue;
      if ((await engine.get(request.params.id!)) === undefined) continue;
      return { body: await pendingOf(store, request.params.id!) };
    }
    throw new CairnError("not_found", `no workflow run ${request.params.id}`);
  });
}

function describe(target: RouteTarget, now: number) {
  const { spec, pool, meter } = target;
  const instances = pool.instances.filter((instance) => instance.ready && !instance.retiring);
  return {
    name: spec.name,
    kind: spec.kind,
    ...entry(spec),
    site: spec.site,
    settings: {
      timeoutMs: spec.settings.timeoutMs,
      memoryMb: spec.settings.memoryMb,
      concurrency: spec.settings.concurrency,
      minInstances: spec.settings.minInstances,
      maxInstances: spec.settings.maxInstances,
    },
    instances: {
      warm: instances.length,
      busy: instances.filter((instance) => instance.busy > 0).length,
      inFlight: pool.busy,
      list: pool.instances.map((instance) => ({
        id: instance.id,
        ready: instance.ready,
        retiring: instance.retiring,
        busy: instance.busy,
        served: instance.served,
        idleMs: instance.busy > 0 ? 0 : Math.round(now - instance.lastUsed),
      })),
    },
    stats: meter.summary(now),
  };
}

/** How a function is reached: its route, or what it consumes. */
function entry(spec: FunctionSpec): { route?: string; trigger?: string } {
  if (spec.kind === "http") {
    const methods = spec.methods === "*" ? "*" : spec.methods.join("|");
    return { route: `${methods} ${spec.path}` };
  }
  if (spec.kind === "mount") return { route: `* ${spec.path}/*` };
  const trigger = spec.trigger;
  if (trigger === undefined) return {};
  switch (trigger.kind) {
    case "event": {
      const filter = [trigger.filter.prefix, trigger.filter.suffix].filter(Boolean).join(" … ");
      return { trigger: `event ${trigger.topic}${filter ? ` (${filter})` : ""}` };
    }
    case "queue":
      return { trigger: `queue ${trigger.queue}` };
    case "schedule":
      return { trigger: `schedule ${trigger.cron} (${trigger.timezone})` };
    case "workflow":
      return { trigger: `workflow ${trigger.workflow}` };
  }
}
