import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "functions/bad.ts": `
    import { http } from "cairn";
    export const loop = http("GET /loop", () => { for (;;) {} }, { timeout: "400ms" });
    export const slow = http("GET /slow", async () => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      return new Response("late");
    }, { timeout: "300ms" });
    export const ok = http("GET /ok", () => new Response("ok"));
    export const bomb = http("GET /bomb", () => {
      const hog: unknown[] = [];
      for (;;) hog.push(new Array(100_000).fill(hog.length));
    }, { memory: 48 });
    export const bombOk = http("GET /bomb-ok", () => new Response("still here"), { memory: 48 });
    export const flaky = http("GET /flaky/:n", async (_req, ctx) => {
      const n = Number(ctx.params.n);
      await new Promise((resolve) => setTimeout(resolve, n % 7));
      if (n % 5 === 0) throw new Error("boom " + n);
      if (n % 5 === 1) {
        Promise.reject(new Error("escaped " + n));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (n % 5 === 2) setTimeout(() => { throw new Error("timer " + n); }, 1);
      if (n % 5 === 2) await new Promise((resolve) => setTimeout(resolve, 20));
      return Response.json({ n });
    });
    export const exit = http("GET /exit", () => { process.exit(1); });
  `,
};

describe("limits and containment", () => {
  let dir: string;
  let t: TestNode;
  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  it("stops an infinite loop at its timeout with 504, and serves the next request", async () => {
    const started = Date.now();
    const result = await getJson(`${t.url}/loop`);
    expect(result.status).toBe(504);
    expect(result.body.error.code).toBe("function_timeout");
    expect(Date.now() - started).toBeLessThan(3000);
    const pool = t.node.deployment.pools.find((p) => p.name === "loop")!;
    await eventually(() => (pool.instances.length === 0 ? true : undefined));
    // A new instance takes the terminated one's place.
    const again = await getJson(`${t.url}/loop`);
    expect(again.status).toBe(504);
    expect((await getJson(`${t.url}/ok`)).status).toBe(200);
  });

  it("times out a slow async function too", async () => {
    const result = await getJson(`${t.url}/slow`);
    expect(result.status).toBe(504);
    expect(result.body.error.code).toBe("function_timeout");
  });

  it("fails a memory bomb with a clear code and replaces the instance", async () => {
    const result = await getJson(`${t.url}/bomb`);
    expect(result.status).toBe(500);
    expect(result.body.error.code).toBe("memory_limit_exceeded");
    expect((await getJson(`${t.url}/bomb-ok`)).body).toBe("still here");
    expect((await getJson(`${t.url}/bomb`)).body.error.code).toBe("memory_limit_exceeded");
  });

  it("fails only the invocation that threw or let a rejection escape, under concurrent load", async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, n) => getJson(`${t.url}/flaky/${n}`).then((r) => ({ n, ...r }))),
    );
    for (const { n, status, body, headers } of results) {
      if (n % 5 <= 2) {
        expect(status, `request ${n}`).toBe(500);
        expect(body.error.code).toBe("function_error");
        expect(body.error.requestId).toBe(headers.get("x-request-id"));
        expect(body.error.message).toContain(String(n));
      } else {
        expect(status, `request ${n}`).toBe(200);
        expect(body).toEqual({ n });
      }
    }
    // All of it ran on shared instances: nothing was restarted.
    const pool = t.node.deployment.pools.find((p) => p.name === "flaky")!;
    expect(pool.instances.every((instance) => instance.exitReason === undefined)).toBe(true);
  });

  it("turns process.exit() into a failed invocation instead of a dead instance", async () => {
    const result = await getJson(`${t.url}/exit`);
    expect(result.status).toBe(500);
    expect(result.body.error.code).toBe("process_exit");
    expect((await getJson(`${t.url}/exit`)).body.error.code).toBe("process_exit");
  });
});
