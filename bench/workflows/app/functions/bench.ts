import { http, workflow } from "cairn";

/** The benchmark's workflow: three sequential steps that do nothing. */
export const three = workflow("three", async (_input, wf) => {
  await wf.step("a", () => null);
  await wf.step("b", () => null);
  await wf.step("c", () => null);
  return "done";
});

/**
 * POST /run: start a run and answer once it has completed. `x-start-to-completion-ms` is the time
 * from the start call to the completed run, as the function sees it.
 */
export const run = http("POST /run", async (_request, ctx) => {
  const started = performance.now();
  const { id } = await ctx.workflows.start("three");
  const result = await ctx.workflows.result(id, { timeout: "30s" });
  const elapsed = performance.now() - started;
  if (result.status !== "completed") return new Response(`run ${id} ${result.status}`, { status: 500 });
  return new Response(result.output as string, {
    headers: { "x-start-to-completion-ms": elapsed.toFixed(3) },
  });
});

export const ready = http("GET /", () => new Response("ok"));
