import { http, on, workflow } from "cairn";

/** GET /: the harness's readiness check. */
export const ready = http("GET /", () => new Response("ok"));

/** (a) One table read and one write per request (a fresh key each request: no row contention). */
export const getPut = http("POST /getput/:id", async (_request, ctx) => {
  const item = await ctx.tables.kv.get({ id: ctx.params.id });
  const count = typeof item?.count === "number" ? item.count : 0;
  await ctx.tables.kv.put({ id: ctx.params.id, value: "x".repeat(100), count: count + 1 });
  return new Response(null, { status: 204 });
});

/** (b) Three sequential steps that do nothing, as in bench/workflows. */
export const three = workflow("three", async (_input, wf) => {
  await wf.step("a", () => null);
  await wf.step("b", () => null);
  await wf.step("c", () => null);
  return "done";
});

/** POST /run: start a run and answer once it has completed. */
export const run = http("POST /run", async (_request, ctx) => {
  const { id } = await ctx.workflows.start("three");
  const result = await ctx.workflows.result(id, { timeout: "30s" });
  if (result.status !== "completed") return new Response(`run ${id} ${result.status}`, { status: 500 });
  return new Response(result.output as string);
});

/** (c) POST /send { batches }: `batches` × 100 messages with sendBatch. */
export const send = http("POST /send", async (request, ctx) => {
  const { batches, from } = (await request.json()) as { batches: number; from: number };
  await Promise.all(
    Array.from({ length: batches }, (_, b) =>
      ctx.queues.work.sendBatch(Array.from({ length: 100 }, (_, i) => ({ body: { n: from + b * 100 + i } }))),
    ),
  );
  return new Response(null, { status: 204 });
});

// The count lives in Redis, so it is one figure across every node.
export const consume = on.queue<{ n: number }>("work", async (batch, ctx) => {
  await ctx.cache.increment("handled", batch.messages.length);
});

/** GET /handled → { handled }: messages the consumers of every node have handled so far. */
export const handled = http("GET /handled", async (_request, ctx) =>
  Response.json({ handled: (await ctx.cache.get<number>("handled")) ?? 0 }),
);
