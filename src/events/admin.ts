import type { AdminApi, AdminRequest } from "../gateway/admin.js";
import { CairnError } from "../sdk/errors.js";
import type { EventsHost } from "./service.js";
import { queueConsumer } from "./subscriptions.js";

/** The apps of the current deployment and their events services. */
export type EventsResolver = () => Array<{ app: string; events: EventsHost | undefined }>;

/**
 * Operating queues over the platform API (admin token required): depth and in-flight per consumer,
 * and the dead-letter queue with inspect, redrive and purge. `?app=` picks the app when a node serves
 * several.
 */
export function registerQueueRoutes(admin: AdminApi, resolve: EventsResolver): void {
  const pick = (request: AdminRequest) => {
    const wanted = request.query.get("app") ?? undefined;
    const apps = resolve().filter((entry) => entry.events !== undefined);
    const found =
      wanted === undefined
        ? apps.length === 1
          ? apps[0]
          : undefined
        : apps.find((entry) => entry.app === wanted);
    if (found === undefined) {
      throw wanted === undefined
        ? new CairnError(
            "invalid_argument",
            `this node serves several apps (${apps.map((a) => a.app).join(", ")}): add ?app=<name>`,
          )
        : new CairnError("not_found", `no app "${wanted}" on this node`);
    }
    return { app: found.app, events: found.events! };
  };
  /** "jobs" → "q:jobs", "f:fn" stays; a consumer may be named by queue or by function. */
  const consumerOf = (value: string | null | undefined) =>
    value === null || value === undefined ? undefined : value.includes(":") ? value : queueConsumer(value);

  admin.route("GET", "/queues", async (request) => {
    const wanted = request.query.get("app");
    const apps = resolve().filter(
      (entry) => entry.events !== undefined && (wanted === null || entry.app === wanted),
    );
    const out = [];
    for (const { app, events } of apps) out.push({ app, consumers: await events!.stats.all() });
    return { body: { apps: out } };
  });

  admin.route("GET", "/queues/dead", async (request) => {
    const { app, events } = pick(request);
    const limit = request.query.get("limit");
    const page = await events.deadLetters.list({
      consumer: consumerOf(request.query.get("consumer")),
      limit: limit === null ? undefined : Number(limit),
      after: request.query.get("after") ?? undefined,
    });
    return { body: { app, ...page } };
  });

  admin.route("GET", "/queues/dead/:id", async (request) => {
    const { events } = pick(request);
    return { body: await events.deadLetters.get(request.params.id!) };
  });

  admin.route("POST", "/queues/dead/:id/redrive", async (request) => {
    const { events } = pick(request);
    return { body: { redriven: await events.deadLetters.redrive({ id: request.params.id! }) } };
  });

  admin.route("POST", "/queues/dead/redrive", async (request) => {
    const { events } = pick(request);
    const consumer = consumerOf(request.query.get("consumer"));
    return {
      body: { redriven: await events.deadLetters.redrive(consumer === undefined ? {} : { consumer }) },
    };
  });

  admin.route("DELETE", "/queues/dead/:id", async (request) => {
    const { events } = pick(request);
    const purged = await events.deadLetters.purge({ id: request.params.id! });
    if (purged === 0) throw new CairnError("not_found", `no dead letter ${request.params.id}`);
    return { body: { purged } };
  });

  admin.route("POST", "/queues/:queue/messages", async (request) => {
    const { events } = pick(request);
    const body = (await request.json()) as
      { body?: unknown; delay?: number | string; idempotencyKey?: string } | undefined;
    if (typeof body !== "object" || body === null || !("body" in body)) {
      throw new CairnError(
        "invalid_argument",
        'send { "body": <message>, "delay"?: "5s", "idempotencyKey"?: "..." }',
      );
    }
    const result = await events.queues.send(request.params.queue!, body.body, {
      ...(body.delay !== undefined && { delay: body.delay as number }),
      ...(body.idempotencyKey !== undefined && { idempotencyKey: body.idempotencyKey }),
    });
    return { status: 202, body: result };
  });
}
