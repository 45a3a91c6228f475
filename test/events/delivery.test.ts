import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/shared/clock.js";
import type { EventsHost } from "../../src/events/service.js";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig, queue, table } from "cairn";
    const config = defineConfig({
      tables: {
        seen: table<{ id: string; count: number; attempts?: number[] }>({ partitionKey: "id" }),
        notes: { partitionKey: "id", changeEvents: true },
      },
      queues: {
        jobs: queue<{ n: number; fail?: number }>({ maxAttempts: 3, backoff: "1s", batchSize: 5 }),
        ordered: queue<{ n: number }>({ batchSize: 1 }),
      },
    });
    export default config;
    declare module "cairn" { interface Register { config: typeof config } }
  `,
  "functions/producers.ts": `
    import { http } from "cairn";
    export const send = http("POST /jobs", async (req, ctx) => {
      const { n, fail, key, delay } = (await req.json()) as { n: number; fail?: number; key?: string; delay?: number };
      return Response.json(await ctx.queues.jobs.send({ n, fail }, { idempotencyKey: key, delay }));
    });
    export const sendOrdered = http("POST /ordered", async (req, ctx) => {
      const { items } = (await req.json()) as { items: number[] };
      return Response.json(await ctx.queues.ordered.sendBatch(items.map((n) => ({ body: { n }, orderingKey: "k" }))));
    });
    export const publish = http("POST /publish", async (req, ctx) => {
      const { id } = (await req.json()) as { id: string };
      await ctx.tables.transact([{ put: { table: "notes", item: { id } } }], { events: [{ topic: "note.created", key: id, payload: { id } }] });
      return new Response(null, { status: 204 });
    });
    export const seen = http("GET /seen/:id", async (_req, ctx) => Response.json((await ctx.tables.seen.get({ id: ctx.params.id })) ?? null));
  `,
  "functions/consumers.ts": `
    import { on } from "cairn";
    export const worker = on.queue<{ n: number; fail?: number }>("jobs", async (batch, ctx) => {
      for (const message of batch.messages) {
        if (message.body.fail !== undefined && message.attempt <= message.body.fail) {
          message.retry();
          continue;
        }
        await ctx.tables.seen.update({ id: "job-" + message.body.n }, { increment: { count: 1 }, append: { attempts: [message.attempt] } });
        message.ack();
      }
    });
    export const orderedWorker = on.queue<{ n: number }>("ordered", async (batch, ctx) => {
      for (const message of batch.messages) {
        await ctx.tables.seen.update({ id: "order" }, { append: { attempts: [message.body.n] } });
      }
    });
    export const onNote = on.event<{ id: string }>("note.created", async (event, ctx) => {
      await ctx.tables.seen.update({ id: "event-" + event.payload.id }, { increment: { count: 1 } });
    });
    export const onChange = on.tableChange("notes", async (event, ctx) => {
      await ctx.tables.seen.update({ id: "change-" + String(event.payload.key.id) }, { increment: { count: 1 } });
    });
    export const nightly = on.schedule("0 3 * * *", async (tick, ctx) => {
      await ctx.tables.seen.update({ id: "tick" }, { increment: { count: 1 }, append: { attempts: [tick.scheduledAt] } });
    });
  `,
};

describe("events, queues and schedules", () => {
  let dir: string;
  let t: TestNode;
  const clock = new ManualClock(Date.UTC(2030, 0, 1, 2, 0, 0));
  const events = () => t.node.deployment.apps[0]!.services.api<EventsHost>("queues")!;
  const json = (path: string, body: unknown) =>
    getJson(`${t.url}${path}`, {
      method: "POST",
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });
  const seen = async (id: string) => (await getJson(`${t.url}/seen/${id}`)).body;

  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir, clock });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  it("delivers queue messages to their consumer and acknowledges them", async () => {
    for (let n = 0; n < 20; n++) await json("/jobs", { n });
    for (let n = 0; n < 20; n++)
      await eventually(async () => ((await seen(`job-${n}`))?.count === 1 ? true : undefined));
    const stats = await events().stats.all();
    expect(stats.find((s) => s.consumer === "q:jobs")).toMatchObject({ ready: 0, inflight: 0, dead: 0 });
  });

  it("drops a duplicate send within the idempotency window", async () => {
    const first = await json("/jobs", { n: 100, key: "same" });
    const second = await json("/jobs", { n: 100, key: "same" });
    expect(first.body.sent).toBe(true);
    expect(second.body).toEqual({ id: first.body.id, sent: false });
    await eventually(async () => ((await seen("job-100"))?.count === 1 ? true : undefined));
  });

  it("retries with backoff, then succeeds", async () => {
    await json("/jobs", { n: 200, fail: 1 });
    await eventually(async () => {
      clock.advance(2000);
      events().dispatcher.kick();
      return (await seen("job-200"))?.count === 1 ? true : undefined;
    });
    expect((await seen("job-200")).attempts).toEqual([2]);
  });

  it("dead-letters a message that keeps failing", async () => {
    await json("/jobs", { n: 300, fail: 99 });
    await eventually(async () => {
      clock.advance(5000);
      events().dispatcher.kick();
      const stats = await events().stats.all();
      return stats.find((s) => s.consumer === "q:jobs")!.dead === 1 ? true : undefined;
    });
    expect(await seen("job-300")).toBeNull();
  });

  it("delivers ordered messages one at a time, in order", async () => {
    await json("/ordered", { items: [1, 2, 3, 4, 5, 6, 7, 8] });
    await eventually(async () => ((await seen("order"))?.attempts?.length === 8 ? true : undefined));
    expect((await seen("order")).attempts).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("delivers events published in a transaction, and table change events", async () => {
    await json("/publish", { id: "a" });
    await eventually(async () => ((await seen("event-a"))?.count === 1 ? true : undefined));
    await eventually(async () => ((await seen("change-a"))?.count === 1 ? true : undefined));
  });

  it("fires a cron tick once when its time comes", async () => {
    clock.set(Date.UTC(2030, 0, 1, 3, 0, 1));
    await events().scheduler.poll();
    await events().scheduler.poll();
    await eventually(async () => ((await seen("tick"))?.count === 1 ? true : undefined));
    expect((await seen("tick")).attempts).toEqual([Date.UTC(2030, 0, 1, 3, 0, 0)]);
  });
});
