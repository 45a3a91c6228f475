import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ vars: { GREETING: "hi" }, secrets: ["API_KEY"] });
  `,
  ".env": "API_KEY=from-dotenv-file\nOTHER_SECRET=s3cr3t-value\n",
  "functions/ctx.ts": `
    import { http } from "cairn";
    export const show = http("GET /ctx/:id", (_req, ctx) => Response.json({
      requestId: ctx.requestId,
      functionName: ctx.functionName,
      params: ctx.params,
      env: ctx.env,
      secretNames: Object.keys(ctx.secrets).sort(),
      apiKey: ctx.secrets.API_KEY,
      processEnv: process.env.GREETING,
      hostEnvHidden: process.env.CAIRN_TEST_HOST_ONLY === undefined,
    }));
    export const leaky = http("GET /leak", (_req, ctx) => {
      ctx.log.warn("the key is " + ctx.secrets.OTHER_SECRET, { copy: ctx.secrets.OTHER_SECRET });
      console.log("console sees", ctx.secrets.API_KEY);
      return new Response("ok");
    });
    // One function (one instance) for both methods: module state is per instance.
    let background = "not yet";
    export const later = http("GET|POST /later", (req, ctx) => {
      if (req.method === "GET") return new Response(background);
      ctx.waitUntil(new Promise((resolve) => setTimeout(() => { background = "done"; ctx.log.info("background finished"); resolve(undefined); }, 150)));
      return new Response("accepted", { status: 202 });
    });
  `,
};

describe("function context", () => {
  let dir: string;
  let t: TestNode;
  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({
      dir,
      env: { ...process.env, API_KEY: "from-environment", CAIRN_TEST_HOST_ONLY: "x" },
    });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  it("carries request id, params, vars and secrets; the environment wins over .env", async () => {
    const { body, headers } = await getJson(`${t.url}/ctx/9`);
    expect(body.requestId).toBe(headers.get("x-request-id"));
    expect(body.functionName).toBe("show");
    expect(body.params).toEqual({ id: "9" });
    expect(body.env).toEqual({ GREETING: "hi" });
    expect(body.secretNames).toEqual(["API_KEY", "OTHER_SECRET"]);
    expect(body.apiKey).toBe("from-environment");
    expect(body.processEnv).toBe("hi");
    expect(body.hostEnvHidden).toBe(true);
  });

  it("logs one structured line per invocation with request id, function, status and duration", async () => {
    const { headers } = await getJson(`${t.url}/ctx/1`);
    const id = headers.get("x-request-id");
    const line = await eventually(() => t.logs.find((l) => l.msg === "invocation" && l.req === id));
    expect(line).toMatchObject({
      fn: "show",
      app: expect.any(String),
      status: 200,
      method: "GET",
      path: "/ctx/1",
    });
    expect(typeof line.ms).toBe("number");
  });

  it("never writes a secret to the log, from ctx.log or console", async () => {
    const { headers } = await getJson(`${t.url}/leak`);
    const id = headers.get("x-request-id");
    await eventually(() => t.logs.find((l) => l.req === id && String(l.msg).startsWith("console sees")));
    const text = t.logs.text();
    expect(text).not.toContain("s3cr3t-value");
    expect(text).not.toContain("from-environment");
    expect(t.logs.find((l) => l.req === id && l.msg === "the key is [redacted]")).toMatchObject({
      copy: "[redacted]",
    });
  });

  it("lets waitUntil work finish after the response", async () => {
    const response = await fetch(`${t.url}/later`, { method: "POST" });
    expect(response.status).toBe(202);
    await eventually(() => t.logs.find((l) => l.msg === "background finished"));
    expect(await (await fetch(`${t.url}/later`)).text()).toBe("done");
  });
});

describe("configuration errors", () => {
  it("refuses to start without a declared secret, naming it", async () => {
    const dir = makeApp({
      "cairn.config.ts": `export default { secrets: ["MISSING_ONE"] };`,
      "functions/a.ts": `import { http } from "cairn"; export const a = http("GET /a", () => new Response("a"));`,
    });
    try {
      await expect(startNode({ dir, env: {} })).rejects.toThrow(/MISSING_ONE not set/);
    } finally {
      removeApp(dir);
    }
  });

  it("names a misspelt config field and its path", async () => {
    const dir = makeApp({
      "cairn.config.ts": `export default { functions: { timeuot: "5s" }, limits: { bodySize: -1 } };`,
      "functions/a.ts": `import { http } from "cairn"; export const a = http("GET /a", () => new Response("a"));`,
    });
    try {
      const error = await startNode({ dir }).then(
        () => new Error("started"),
        (e: Error) => e,
      );
      expect(error.message).toMatch(/functions\.timeuot/);
      expect(error.message).toMatch(/limits\.bodySize/);
    } finally {
      removeApp(dir);
    }
  });
});
