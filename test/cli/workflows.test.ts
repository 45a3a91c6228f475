import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeApp, removeApp } from "../helpers/app.js";
import { runCli, startCli, type CliProcess } from "../helpers/cli.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ tables: { flags: { partitionKey: "id" } } });
  `,
  "functions/flows.ts": `
    import { http, NonRetryableError, workflow } from "cairn";

    export const greet = workflow("greet", async (input: { name: string }, wf) => {
      const hello = await wf.step("hello", () => "hello " + input.name);
      const { note } = await wf.waitForSignal<{ note: string }>("go", { timeout: "1h" });
      return { hello, note };
    });

    export const held = workflow("held", async (_input, wf) => {
      await wf.step("take", () => "taken", { compensate: () => "given back" });
      await wf.waitForSignal("never");
    });

    export const gate = workflow("gate", async (_input, wf, ctx) => {
      return wf.step("check", async () => {
        if (!(await ctx.tables.flags.get({ id: "open" }))) throw new NonRetryableError("the gate is closed");
        return "through";
      });
    });

    export const open = http("PUT /open", async (_req, ctx) => {
      await ctx.tables.flags.put({ id: "open" });
      return new Response(null, { status: 204 });
    });
  `,
};

describe("cairn workflows", () => {
  let dir: string;
  let cli: CliProcess;
  const token = "workflows-admin-token";
  const run = (...args: string[]) =>
    runCli(["workflows", ...args, "--url", cli.url], { CAIRN_ADMIN_TOKEN: token });

  beforeAll(async () => {
    dir = makeApp(app);
    cli = await startCli(["start", dir], { CAIRN_ADMIN_TOKEN: token, CAIRN_DATABASE_URL: "" });
  });
  afterAll(async () => {
    cli.child.kill("SIGTERM");
    await cli.exited;
    removeApp(dir);
  });

  it("starts, lists, signals and shows a run", async () => {
    const started = await run("start", "greet", '{"name":"ada"}', "--id", "greet-1");
    expect(started.stderr).toBe("");
    expect(started.stdout).toBe("run greet-1 (greet)\n");
    // The id is an idempotency key: starting it again is the same run.
    expect((await run("start", "greet", '{"name":"bob"}', "--id", "greet-1", "--json")).stdout).toContain(
      '"id": "greet-1"',
    );

    const waiting = await run("show", "greet-1", "--json");
    expect(JSON.parse(waiting.stdout)).toMatchObject({
      id: "greet-1",
      status: "running",
      input: { name: "ada" },
    });
    const list = await run("list", "--name", "greet");
    expect(list.stdout).toMatch(/greet-1\s+greet\s+running\s+(timer,)?signal:go/);

    expect((await run("signal", "greet-1", "go", '{"note":"hi"}')).stdout).toBe("sent go to run greet-1\n");
    const done = await run("show", "greet-1", "--wait", "5s");
    expect(done.stdout).toMatch(/status\s+completed/);
    expect(done.stdout).toContain('{"hello":"hello ada","note":"hi"}');
    expect(done.stdout).toMatch(/1\s+hello\s+step\s+completed\s+1/);
    expect((await run("list", "--status", "completed", "--json")).stdout).toContain('"greet-1"');
  });

  it("starts a run and waits for its result", async () => {
    const result = await run("start", "gate", "--wait", "5s", "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      name: "gate",
      status: "failed",
      error: { message: "the gate is closed" },
    });
  });

  it("cancels a run, which runs its compensations, and retries a failed one", async () => {
    await run("start", "held", "--id", "held-1");
    await run("show", "held-1", "--wait", "300ms");
    expect((await run("cancel", "held-1")).stdout).toContain("cancelling run held-1");
    const cancelled = JSON.parse((await run("show", "held-1", "--wait", "5s", "--json")).stdout) as {
      status: string;
      steps: Array<{ name: string; kind: string }>;
    };
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.steps.map((step) => step.name)).toContain("compensate:take");
    const again = await run("cancel", "held-1");
    expect(again.code).toBe(2);
    expect(again.stderr).toContain("workflow_ended");

    await run("start", "gate", "--id", "gate-1", "--wait", "5s");
    await fetch(`${cli.url}/open`, { method: "PUT" });
    expect((await run("retry", "gate-1")).stdout).toContain("retrying run gate-1");
    expect((await run("show", "gate-1", "--wait", "5s")).stdout).toMatch(/output\s+"through"/);
  });

  it("explains mistakes: usage, unknown runs and workflows, a missing token", async () => {
    expect((await run("list", "--status", "done")).code).toBe(2);
    expect((await run("signal", "greet-1")).stderr).toContain("needs a signal name");
    expect((await run("start", "greet", "{nope")).stderr).toContain("not valid JSON");
    const unknown = await run("show", "no-such-run");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("not_found");
    expect((await run("start", "nope")).stderr).toContain('no workflow named "nope"');
    const help = await run("--help");
    expect(help.stdout).toContain("cairn workflows <command>");
    const noToken = await runCli(["workflows", "list", "--url", cli.url], { CAIRN_ADMIN_TOKEN: "" });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain("CAIRN_ADMIN_TOKEN");
  });
});
