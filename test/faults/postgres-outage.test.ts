import { randomBytes } from "node:crypto";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";
import { freePort, TcpProxy } from "../helpers/proxy.js";

const url = process.env.CAIRN_TEST_DATABASE_URL;

const app = {
  "cairn.config.ts": `
    import { defineConfig, queue } from "cairn";
    export default defineConfig({
      tables: { notes: { partitionKey: "id" } },
      queues: { jobs: queue<{ id: string }>({ backoff: "100ms", maxAttempts: 20 }) },
    });
  `,
  "functions/notes.ts": `
    import { http, on } from "cairn";
    export const put = http("PUT /notes/:id", async (req, ctx) => {
      await ctx.tables.notes.put({ id: ctx.params.id, text: await req.text() });
      return new Response(null, { status: 204 });
    });
    export const get = http("GET /notes/:id", async (_req, ctx) => Response.json((await ctx.tables.notes.get({ id: ctx.params.id })) ?? null));
    export const ping = http("GET /ping", () => new Response("pong"));
    export const job = http("POST /jobs/:id", async (_req, ctx) => {
      await ctx.queues.jobs.send({ id: ctx.params.id });
      return new Response(null, { status: 202 });
    });
    // Slow enough for the database to go away mid-delivery; a lease of minutes, so only the
    // dispatcher recording the outcome once the database is back brings the message round again soon.
    export const worker = on.queue<{ id: string }>("jobs", async (batch, ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 800));
      for (const message of batch.messages) await ctx.tables.notes.put({ id: message.body.id, text: "done" });
    }, { timeout: "5m" });
  `,
};

if (url === undefined) {
  describe.skip("losing PostgreSQL (set CAIRN_TEST_DATABASE_URL or run npm test with PostgreSQL up)", () => {
    it("skipped", () => {});
  });
} else {
  describe("losing and regaining PostgreSQL", () => {
    const schema = `cairn_test_${randomBytes(6).toString("hex")}`;
    const target = new URL(url);
    let proxy: TcpProxy;
    let dir: string;
    let t: TestNode;

    beforeAll(async () => {
      proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, await freePort());
      await proxy.open();
      const proxied = new URL(url);
      proxied.port = String(proxy.port);
      dir = makeApp(app);
      t = await startNode({
        dir,
        env: { ...process.env, CAIRN_DATABASE_URL: proxied.toString(), CAIRN_DATABASE_SCHEMA: schema },
      });
    });
    afterAll(async () => {
      await t?.stop();
      await proxy?.cut();
      removeApp(dir);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    });

    it("fails fast with 503 backend_unavailable while it is gone, keeps serving the rest, and resumes by itself", async () => {
      expect((await fetch(`${t.url}/notes/before`, { method: "PUT", body: "kept" })).status).toBe(204);

      await proxy.cut();
      const started = performance.now();
      const during = await getJson(`${t.url}/notes/during`, { method: "PUT", body: "x" });
      expect(performance.now() - started).toBeLessThan(3000);
      expect(during.status).toBe(503);
      expect(during.body.error.code).toBe("backend_unavailable");
      expect(during.headers.get("retry-after")).toBeTruthy();
      expect(JSON.stringify(during.body)).not.toContain(target.password || "no-password-in-url");
      expect((await getJson(`${t.url}/notes/before`)).status).toBe(503);
      // Functions that need no database, and the health check, keep answering.
      expect(await (await fetch(`${t.url}/ping`)).text()).toBe("pong");
      expect((await fetch(`${t.url}/_cairn/health`)).status).toBe(200);

      await proxy.open();
      await eventually(
        async () =>
          (await fetch(`${t.url}/notes/after`, { method: "PUT", body: "back" })).status === 204
            ? true
            : undefined,
        15_000,
      );
      expect((await getJson(`${t.url}/notes/before`)).body.text).toBe("kept");
      expect((await getJson(`${t.url}/notes/after`)).body.text).toBe("back");
    });

    it("records a delivery's outcome once the database is back, instead of leaving it leased", async () => {
      expect((await fetch(`${t.url}/jobs/outage-job`, { method: "POST" })).status).toBe(202);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the delivery is under way
      await proxy.cut(); // its write fails, and so does recording that it failed
      await new Promise((resolve) => setTimeout(resolve, 2500));
      await proxy.open();
      const done = await eventually(async () => {
        const note = await getJson(`${t.url}/notes/outage-job`);
        return note.status === 200 && note.body?.text === "done" ? true : undefined;
      }, 20_000);
      expect(done).toBe(true);
    }, 60_000);

    it("fails fast when the database hangs instead of refusing", async () => {
      proxy.stall();
      const started = performance.now();
      const stalled = await getJson(`${t.url}/notes/stalled`, { method: "PUT", body: "x" });
      expect(stalled.status).toBe(503);
      expect(performance.now() - started).toBeLessThan(10_000);
      await proxy.cut();
      await proxy.open();
      await eventually(
        async () =>
          (await fetch(`${t.url}/notes/recovered`, { method: "PUT", body: "ok" })).status === 204
            ? true
            : undefined,
        15_000,
      );
    }, 60_000);
  });
}
