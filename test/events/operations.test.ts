import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeApp, removeApp } from "../helpers/app.js";
import { runCli, startCli, type CliProcess } from "../helpers/cli.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({
      tables: { flags: { partitionKey: "id" }, done: { partitionKey: "id" } },
      queues: { work: { maxAttempts: 2, backoff: "10ms" } },
    });
  `,
  "functions/work.ts": `
    import { http, on } from "cairn";
    export const breakIt = http("PUT /broken/:on", async (_req, ctx) => {
      await ctx.tables.flags.put({ id: "broken", on: ctx.params.on === "yes" });
      return new Response(null, { status: 204 });
    });
    export const done = http("GET /done/:id", async (_req, ctx) => Response.json((await ctx.tables.done.get({ id: ctx.params.id })) ?? null));
    export const worker = on.queue<{ id: string }>("work", async (batch, ctx) => {
      const flag = await ctx.tables.flags.get({ id: "broken" });
      if (flag?.on) throw new Error("the worker is broken");
      for (const message of batch.messages) await ctx.tables.done.put({ id: message.body.id });
    });
  `,
};

describe("operating queues from the CLI and the platform API", () => {
  let dir: string;
  let cli: CliProcess;
  const token = "test-admin-token";
  const run = (...args: string[]) =>
    runCli(["queues", ...args, "--url", cli.url], { CAIRN_ADMIN_TOKEN: token });

  beforeAll(async () => {
    dir = makeApp(app);
    cli = await startCli(["start", dir], { CAIRN_ADMIN_TOKEN: token });
  });
  afterAll(async () => {
    cli.child.kill("SIGTERM");
    await cli.exited;
    removeApp(dir);
  });

  it("lists triggers in the start-up banner with what they run on and where they are declared", () => {
    expect(cli.stderr()).toMatch(/ on +queue work +worker +functions\/work\.ts:\d+/);
  });

  it("lists, inspects and redrives dead letters, and shows them in the metrics", async () => {
    await fetch(`${cli.url}/broken/yes`, { method: "PUT" });
    const sent = await run("send", "work", '{"id":"m1"}');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/sent message \d+/);

    const dead = await eventually(async () => {
      const result = await run("dead", "--json");
      const parsed = JSON.parse(result.stdout) as {
        items: Array<{ id: string; attempts: number; lastError: string }>;
      };
      return parsed.items.length === 1 ? parsed.items[0] : undefined;
    }, 10_000);
    expect(dead.attempts).toBe(2);
    expect(dead.lastError).toContain("the worker is broken");

    const list = await run("list");
    expect(list.stdout).toMatch(/q:work\s+worker\s+0\s+0\s+0\s+0\s+1/);
    const show = await run("show", dead.id);
    expect(JSON.parse(show.stdout)).toMatchObject({ id: dead.id, payload: { id: "m1" } });

    const metrics = await (
      await fetch(`${cli.url}/_cairn/metrics`, { headers: { authorization: `Bearer ${token}` } })
    ).text();
    expect(metrics).toContain("cairn_queue_dead_letters{app=");
    expect(metrics).toMatch(/cairn_queue_dead_letters\{app="[^"]+",consumer="q:work"\} 1/);

    await fetch(`${cli.url}/broken/no`, { method: "PUT" });
    const redrive = await run("redrive", dead.id);
    expect(redrive.stdout).toContain("redrove 1 message");
    await eventually(
      async () => ((await (await fetch(`${cli.url}/done/m1`)).json()) ? true : undefined),
      10_000,
    );
    expect(JSON.parse((await run("dead", "--json")).stdout).items).toHaveLength(0);
  });

  it("refuses the platform API without the token, and explains", async () => {
    const result = await runCli(["queues", "list", "--url", cli.url], { CAIRN_ADMIN_TOKEN: "" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unauthorized");
    expect((await fetch(`${cli.url}/_cairn/metrics`)).status).toBe(401);
  });
});
