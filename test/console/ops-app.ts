/**
 * A small app for the console, metrics and trace tests: a workflow that completes (with a step that
 * is retried once), one that fails until it is approved, a queue whose consumer fails until it is
 * switched on (one attempt: straight to the dead-letter queue), a table, blobs and the cache.
 */
export const opsApp: Record<string, string> = {
  "cairn.config.ts": `
    import { defineConfig, queue, table } from "cairn";
    export default defineConfig({
      name: "ops",
      tables: {
        notes: table<{ owner: string; id: string; text: string }>({ partitionKey: "owner", sortKey: "id" }),
        switches: table<{ name: string }>({ partitionKey: "name" }),
      },
      queues: { jobs: queue<{ job: string }>({ maxAttempts: 1, backoff: "10ms" }) },
    });
  `,
  "functions/ops.ts": `
    import { http, on, workflow, NonRetryableError } from "cairn";

    export const hello = http("GET /hello", async (request, ctx) => {
      ctx.log.info("saying hello", { who: new URL(request.url).searchParams.get("who") ?? "world" });
      const cached = await ctx.cache.get("greeting");
      if (cached === undefined) await ctx.cache.set("greeting", "hello", { ttl: "1m" });
      return Response.json({ hello: true, requestId: ctx.requestId });
    });

    // Calls another function over HTTP: the trace context travels with the fetch.
    export const relay = http("GET /relay", async (request) => {
      const response = await fetch(new URL("/hello?who=relay", request.url));
      return new Response(await response.text(), { headers: { "content-type": "application/json" } });
    });

    export const boom = http("POST /boom", async (_request, ctx) => {
      ctx.log.warn("about to fail");
      throw new Error("boom on purpose");
    });

    export const seed = http("POST /seed", async (_request, ctx) => {
      for (let i = 1; i <= 12; i++)
        await ctx.tables.notes.put({ owner: "ann", id: "note-" + String(i).padStart(2, "0"), text: "note " + i });
      await ctx.tables.notes.put({ owner: "bob", id: "note-01", text: "bob's" });
      await ctx.blobs.put("reports/2024/q1.txt", "first quarter", { contentType: "text/plain", metadata: { author: "ann" } });
      await ctx.blobs.put("reports/2025/q1.txt", "next year", { contentType: "text/plain" });
      await ctx.blobs.put("readme.txt", "read me");
      return new Response(null, { status: 204 });
    });

    export const flip = http("POST /switch/:name", async (_request, ctx) => {
      await ctx.tables.switches.put({ name: ctx.params.name });
      return new Response(null, { status: 204 });
    });

    export const sendJob = http("POST /jobs/:job", async (_request, ctx) => {
      const sent = await ctx.queues.jobs.send({ job: ctx.params.job });
      return Response.json(sent, { status: 202 });
    });

    export const worker = on.queue<{ job: string }>("jobs", async (batch, ctx) => {
      if ((await ctx.tables.switches.get({ name: "jobs" })) === undefined) throw new Error("the worker is switched off");
      for (const message of batch.messages) ctx.log.info("did the job", { job: message.body.job });
    });

    export const start = http("POST /start/:workflow", async (request, ctx) => {
      const input = await request.json().catch(() => ({}));
      const run = await ctx.workflows.start(ctx.params.workflow, input);
      return Response.json(run, { status: 202 });
    });

    export const greet = workflow("greet", async (input: { name?: string }, wf, ctx) => {
      wf.state = { stage: "preparing" };
      const name = await wf.step("prepare", () => input.name ?? "ada");
      const greeting = await wf.step(
        "flaky",
        (step) => {
          if (step.attempt === 1) throw new Error("first attempts fail");
          return "hello " + name;
        },
        { retry: { attempts: 3, backoff: "20ms" } },
      );
      await wf.step("record", async (step) => {
        await ctx.cache.get("greeting");
        step.tables.notes.put({ owner: "greetings", id: wf.id, text: greeting });
      });
      wf.state = { stage: "done", greeting };
      return { greeting };
    });

    export const approval = workflow("approval", async (_input: unknown, wf, ctx) => {
      await wf.step("submit", () => ({ submitted: true }));
      await wf.step("check", async () => {
        if ((await ctx.tables.switches.get({ name: "approval" })) === undefined)
          throw new NonRetryableError("not approved yet");
        return { approved: true };
      });
      return { ok: true };
    });
  `,
};
