import type { AdminApi } from "../gateway/admin.js";
import { CairnError } from "../sdk/errors.js";
import { parseDuration } from "../shared/duration.js";
import type { WorkflowEngine } from "./runs.js";
import { maxResultWaitMs } from "./service.js";
import type { WorkflowStatus } from "./types.js";

export type EngineResolver = () => Array<{ app: string; engine: WorkflowEngine | undefined }>;

const statuses = new Set(["running", "completed", "failed", "cancelled"]);

/**
 * The workflow contract over HTTP (admin token required):
 * POST /_cairn/workflows/{name} → { id }; GET /_cairn/workflows/{id}; signals, cancel, retry, list.
 */
export function registerWorkflowRoutes(admin: AdminApi, resolve: EngineResolver): void {
  const engines = () =>
    resolve().filter((entry): entry is { app: string; engine: WorkflowEngine } => entry.engine !== undefined);
  const byName = (name: string) => {
    const found = engines().filter(({ engine }) => engine.has(name));
    if (found.length === 0) throw new CairnError("not_found", `no workflow named "${name}" on this node`);
    return found[0]!.engine;
  };
  const byRun = async (id: string) => {
    for (const { engine } of engines()) {
      const run = await engine.get(id);
      if (run !== undefined) return { engine, run };
    }
    throw new CairnError("not_found", `no workflow run ${id}`);
  };
  const waitMs = (value: string | null) =>
    value === null
      ? undefined
      : Math.min(maxResultWaitMs, parseDuration(/^\d+$/.test(value) ? Number(value) : value, "wait"));

  admin.route("POST", "/workflows/:name", async (request) => {
    const engine = byName(request.params.name!);
    const input = await request.json();
    const key = request.req.headers["idempotency-key"];
    const id = typeof key === "string" && key.length > 0 ? key : undefined;
    const { id: runId, started } = await engine.start(
      request.params.name!,
      input ?? null,
      id === undefined ? {} : { id },
    );
    const wait = waitMs(request.query.get("wait"));
    if (wait !== undefined) return { status: 200, body: await engine.result(runId, wait) };
    return { status: started ? 202 : 200, body: { id: runId } };
  });

  admin.route("GET", "/workflows", async (request) => {
    const status = request.query.get("status");
    if (status !== null && !statuses.has(status)) {
      throw new CairnError("invalid_argument", "status is one of running, completed, failed, cancelled");
    }
    const app = request.query.get("app");
    const chosen = engines().filter((entry) => app === null || entry.app === app);
    if (chosen.length > 1 && request.query.get("cursor") !== null) {
      throw new CairnError("invalid_argument", "pass ?app= to page through one app's runs");
    }
    const filter = {
      ...(request.query.get("name") !== null && { name: request.query.get("name")! }),
      ...(status !== null && { status: status as WorkflowStatus }),
      ...(request.query.get("limit") !== null && { limit: Number(request.query.get("limit")) }),
      ...(request.query.get("cursor") !== null && { cursor: request.query.get("cursor")! }),
      ...(request.query.get("since") !== null && { since: Number(request.query.get("since")) }),
      ...(request.query.get("until") !== null && { until: Number(request.query.get("until")) }),
    };
    if (chosen.length === 1)
      return { body: { app: chosen[0]!.app, ...(await chosen[0]!.engine.list(filter)) } };
    const items = [];
    for (const { app: name, engine } of chosen)
      for (const item of (await engine.list(filter)).items) items.push({ app: name, ...item });
    items.sort((a, b) => b.createdAt - a.createdAt);
    return { body: { items: items.slice(0, filter.limit ?? 50) } };
  });

  admin.route("GET", "/workflows/:id", async (request) => {
    const { engine, run } = await byRun(request.params.id!);
    const wait = waitMs(request.query.get("wait"));
    return { body: wait === undefined ? run : await engine.result(run.id, wait) };
  });

  admin.route("POST", "/workflows/:id/signals/:signal", async (request) => {
    const { engine } = await byRun(request.params.id!);
    await engine.signal(request.params.id!, request.params.signal!, await request.json());
    return { status: 202, body: { ok: true } };
  });

  admin.route("POST", "/workflows/:id/cancel", async (request) => {
    const { engine } = await byRun(request.params.id!);
    await engine.cancel(request.params.id!);
    return { status: 202, body: { ok: true } };
  });

  admin.route("POST", "/workflows/:id/retry", async (request) => {
    const { engine } = await byRun(request.params.id!);
    await engine.retry(request.params.id!);
    return { status: 202, body: { ok: true } };
  });
}
