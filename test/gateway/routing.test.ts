import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "functions/users.ts": `
    import { http } from "cairn";
    export const getUser = http("GET /users/:id", (_req, ctx) => Response.json({ id: ctx.params.id }));
    export const getPost = http("GET /users/:id/posts/:post", (_req, ctx) => Response.json(ctx.params));
    export const files = http("GET /files/*", (_req, ctx) => Response.json({ rest: ctx.params["*"] }));
    export const write = http("POST|PUT /things", async (req) => Response.json({ method: req.method, body: await req.text() }));
    export const any = http("/anything", (req) => new Response(req.method));
    export const query = http("GET /query", (req) => Response.json(Object.fromEntries(new URL(req.url).searchParams)));
    export const headers = http("GET /headers", (req) =>
      new Response("ok", { status: 201, headers: [["x-one", "1"], ["set-cookie", "a=1"], ["set-cookie", "b=2"]] }));
    export const binary = http("GET /binary", () => new Response(new Uint8Array([0, 1, 2, 255])));
    export const stream = http("GET /stream", () => new Response(new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new TextEncoder().encode("chunk" + i + ";"));
        controller.close();
      },
    })));
    export const notResponse = http("GET /not-a-response", () => ({ hello: "world" }) as unknown as Response);
  `,
};

describe("routing", () => {
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

  it("passes named parameters, decoded", async () => {
    expect((await getJson(`${t.url}/users/42`)).body).toEqual({ id: "42" });
    expect((await getJson(`${t.url}/users/a%20b`)).body).toEqual({ id: "a b" });
    expect((await getJson(`${t.url}/users/7/posts/9`)).body).toEqual({ id: "7", post: "9" });
  });

  it("passes the rest of the path for a wildcard", async () => {
    expect((await getJson(`${t.url}/files/a/b/c.txt`)).body).toEqual({ rest: "a/b/c.txt" });
  });

  it("routes several methods, and all of them for a route without a method", async () => {
    expect((await getJson(`${t.url}/things`, { method: "POST", body: "x" })).body).toEqual({
      method: "POST",
      body: "x",
    });
    expect((await getJson(`${t.url}/things`, { method: "PUT", body: "y" })).body).toEqual({
      method: "PUT",
      body: "y",
    });
    for (const method of ["GET", "DELETE", "PATCH"]) {
      const response = await fetch(`${t.url}/anything`, { method });
      expect(await response.text()).toBe(method);
    }
  });

  it("gives the full URL with its query string to the function", async () => {
    expect((await getJson(`${t.url}/query?a=1&b=two`)).body).toEqual({ a: "1", b: "two" });
  });

  it("answers HEAD for a GET route without a body", async () => {
    const response = await fetch(`${t.url}/users/1`, { method: "HEAD" });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
  });

  it("answers 404 and 405 with JSON errors", async () => {
    const missing = await getJson(`${t.url}/nowhere`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe("not_found");
    expect(missing.body.error.requestId).toBe(missing.headers.get("x-request-id"));
    const wrong = await getJson(`${t.url}/users/1`, { method: "DELETE" });
    expect(wrong.status).toBe(405);
    expect(wrong.body.error.code).toBe("method_not_allowed");
    expect(wrong.headers.get("allow")).toContain("GET");
  });

  it("keeps status, repeated headers and binary bodies", async () => {
    const response = await fetch(`${t.url}/headers`);
    expect(response.status).toBe(201);
    expect(response.headers.get("x-one")).toBe("1");
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    const binary = await fetch(`${t.url}/binary`);
    expect([...new Uint8Array(await binary.arrayBuffer())]).toEqual([0, 1, 2, 255]);
  });

  it("streams a ReadableStream body", async () => {
    const response = await fetch(`${t.url}/stream`);
    expect(await response.text()).toBe("chunk0;chunk1;chunk2;chunk3;chunk4;");
  });

  it("fails a function that returns something other than a Response", async () => {
    const result = await getJson(`${t.url}/not-a-response`);
    expect(result.status).toBe(500);
    expect(result.body.error.code).toBe("invalid_response");
  });

  it("echoes a caller's request id and makes one otherwise", async () => {
    const given = await fetch(`${t.url}/users/1`, { headers: { "x-request-id": "trace-123" } });
    expect(given.headers.get("x-request-id")).toBe("trace-123");
    const a = (await fetch(`${t.url}/users/1`)).headers.get("x-request-id");
    const b = (await fetch(`${t.url}/users/1`)).headers.get("x-request-id");
    expect(a).toBeTruthy();
    expect(a).not.toBe(b);
  });

  it("answers the health check", async () => {
    const health = await getJson(`${t.url}/_cairn/health`);
    expect(health.status).toBe(200);
    expect(health.body.status).toBe("ok");
  });
});
