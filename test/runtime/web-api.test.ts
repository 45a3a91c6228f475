import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

// Every function runs in a fresh instance (strict), so each check sees the runtime's Request and
// Response before anything else has touched the native classes behind them.
const app = {
  "functions/web.ts": `
    import { http } from "cairn";
    const undiciLoaded = () => process.moduleLoadList.some((name) => name.includes("undici"));

    export const plain = http("GET /plain", () => new Response(String(undiciLoaded())));

    export const isRequest = http("GET /is-request", (request) =>
      Response.json({ isRequest: request instanceof Request, tag: Object.prototype.toString.call(request) }),
    );

    export const members = http("POST /members", async (request) => {
      const response = new Response("body", { status: 201, headers: { "x-a": "1" } });
      return Response.json({
        isResponse: response instanceof Response,
        hasText: "text" in response,
        status: response.status,
        header: response.headers.get("x-a"),
        cloned: await response.clone().text(),
        text: await response.text(),
        bodyUsed: response.bodyUsed,
        method: request.method,
        body: await request.text(),
        signal: request.signal instanceof AbortSignal,
      }, { headers: { "x-b": "2" } });
    });

    export const notInstance = http("GET /not-instance", () => {
      const response = new Response("x");
      // An unrelated instanceof walks the whole prototype chain of the light response.
      return new Response(JSON.stringify({ promise: response instanceof Promise, error: response instanceof Error }));
    });

    export const redirect = http("GET /redirect", () => Response.redirect("http://example.com/next", 302));

    export const thenable = http("GET /thenable", () => ({
      then(resolve: (value: Response) => void) {
        resolve(new Response("from a thenable"));
      },
    }) as unknown as Response);

    export const headersObject = http("GET /headers-object", () => {
      const headers = new Headers([["set-cookie", "a=1"], ["set-cookie", "b=2"]]);
      return new Response("h", { headers });
    });
  `,
};

describe("the Web Request and Response in an instance", () => {
  let dir: string;
  let t: TestNode;
  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir, strict: true });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  it("answers a handler that returns a string without loading the native classes (undici)", async () => {
    const response = await fetch(`${t.url}/plain`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/plain;charset=UTF-8");
    expect(await response.text()).toBe("false");
  });

  it("hands the handler an instance of the global Request", async () => {
    const { body } = await getJson(`${t.url}/is-request`);
    expect(body).toEqual({ isRequest: true, tag: "[object Request]" });
  });

  it("gives a Response every native member, wired in on first use", async () => {
    const { status, body, headers } = await getJson(`${t.url}/members`, { method: "POST", body: "sent" });
    expect(status).toBe(200);
    expect(headers.get("x-b")).toBe("2");
    expect(headers.get("content-type")).toBe("application/json");
    expect(body).toEqual({
      isResponse: true,
      hasText: true,
      status: 201,
      header: "1",
      cloned: "body",
      text: "body",
      bodyUsed: true,
      method: "POST",
      body: "sent",
      signal: true,
    });
  });

  it("keeps instanceof false for unrelated classes", async () => {
    const { body } = await getJson(`${t.url}/not-instance`);
    expect(body).toEqual({ promise: false, error: false });
  });

  it("serves native responses and thenables", async () => {
    const redirect = await fetch(`${t.url}/redirect`, { redirect: "manual" });
    expect(redirect.status).toBe(302);
    expect(redirect.headers.get("location")).toBe("http://example.com/next");
    const thenable = await fetch(`${t.url}/thenable`);
    expect(await thenable.text()).toBe("from a thenable");
  });

  it("sends each set-cookie of a Headers object", async () => {
    const response = await fetch(`${t.url}/headers-object`);
    expect(response.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
  });
});
