import { http, workflow } from "cairn";

/** The measured workflow, the same as bench/workflows': three sequential steps that do nothing. */
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

/** POST /getput/:id: read an item and write it back with its counter incremented. */
export const getPut = http("POST /getput/:id", async (_request, ctx) => {
  const item = await ctx.tables.kv.get({ id: ctx.params.id });
  await ctx.tables.kv.put({ id: ctx.params.id, value: "x".repeat(100), count: (item?.count ?? 0) + 1 });
  return new Response(null, { status: 204 });
});

/**
 * POST /seed/items/:from/:count: items k<from>..k<from+count-1>, each as getput would first write
 * it, in transactions of 100 puts (the most one may hold), 10 in flight so that they share commits.
 */
export const seedItems = http(
  "POST /seed/items/:from/:count",
  async (_request, ctx) => {
    const from = Number(ctx.params.from);
    const end = from + Number(ctx.params.count);
    const batches: number[] = [];
    for (let start = from; start < end; start += 100) batches.push(start);
    const worker = async () => {
      for (let start = batches.shift(); start !== undefined; start = batches.shift()) {
        const ops = [];
        for (let i = start; i < Math.min(start + 100, end); i++) {
          ops.push({
            put: { table: "kv" as const, item: { id: `k${i}`, value: "x".repeat(100), count: 1 } },
          });
        }
        await ctx.tables.transact(ops);
      }
    };
    await Promise.all(Array.from({ length: 10 }, worker));
    return new Response(null, { status: 204 });
  },
  { timeout: "5m" },
);

/**
 * POST /seed/workflows/:count: that many runs of `three`, each started and awaited to its end, 25 at
 * a time (more would only queue activations behind the workflow's instances).
 */
export const seedWorkflows = http(
  "POST /seed/workflows/:count",
  async (_request, ctx) => {
    let left = Number(ctx.params.count);
    const lane = async () => {
      while (left > 0) {
        left--;
        const { id } = await ctx.workflows.start("three");
        const result = await ctx.workflows.result(id, { timeout: "5m" });
        if (result.status !== "completed") throw new Error(`run ${id} ${result.status}`);
      }
    };
    await Promise.all(Array.from({ length: 25 }, lane));
    return new Response(null, { status: 204 });
  },
  { timeout: "5m" },
);

export const ready = http("GET /", () => new Response("ok"));
