import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ limits: { bodySize: 1024 } });
  `,
  "functions/echo.ts": `
    import { http } from "cairn";
    export const echo = http("POST /echo", async (req) => new Response(await req.arrayBuffer()));
    export const json = http("POST /json", async (req) => Response.json(await req.json()));
  `,
};

/** Send raw bytes and read until the server closes or `ms` pass. */
function raw(port: number, payload: string, ms = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let data = "";
    socket.on("data", (chunk) => (data += chunk.toString()));
    socket.on("error", reject);
    socket.on("close", () => resolve(data));
    socket.setTimeout(ms, () => {
      socket.destroy();
      resolve(data);
    });
    socket.write(payload);
  });
}

describe("request limits and malformed requests", () => {
  let dir: string;
  let t: TestNode;
  let port: number;
  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir });
    port = Number(new URL(t.url).port);
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  it("accepts a body at the limit", async () => {
    const body = "x".repeat(1024);
    const response = await fetch(`${t.url}/echo`, { method: "POST", body });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(body);
  });

  it("answers 413 for a declared length over the limit", async () => {
    const result = await getJson(`${t.url}/echo`, { method: "POST", body: "x".repeat(1025) });
    expect(result.status).toBe(413);
    expect(result.body.error.code).toBe("payload_too_large");
  });

  it("answers 413 for a chunked body that grows over the limit", async () => {
    const chunks = ["a".repeat(600), "b".repeat(600)];
    const body = new ReadableStream({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const result = await getJson(`${t.url}/echo`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(result.status).toBe(413);
  });

  it("keeps serving after an oversized body", async () => {
    expect((await fetch(`${t.url}/echo`, { method: "POST", body: "ok" })).status).toBe(200);
  });

  it("answers 400 to a request the HTTP parser rejects", async () => {
    const reply = await raw(port, "THIS IS NOT HTTP\r\n\r\n");
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toContain('"code":"bad_request"');
  });

  it("answers 400 to a malformed header and to a bad Host", async () => {
    expect(await raw(port, "GET /x HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n")).toMatch(/^HTTP\/1\.1 400/);
    const badHost = await raw(
      port,
      "POST /echo HTTP/1.1\r\nHost: a b\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    expect(badHost).toMatch(/^HTTP\/1\.1 400/);
  });

  it("answers 431 to oversized headers", async () => {
    const reply = await raw(port, `GET /x HTTP/1.1\r\nHost: a\r\nX-Big: ${"y".repeat(40_000)}\r\n\r\n`);
    expect(reply).toMatch(/^HTTP\/1\.1 431/);
  });

  it("reports invalid JSON thrown by the function as a 500 with the request id", async () => {
    const result = await getJson(`${t.url}/json`, { method: "POST", body: "{nope" });
    expect(result.status).toBe(500);
    expect(result.body.error.code).toBe("function_error");
    expect(result.body.error.requestId).toBeTruthy();
  });

  it("is still healthy after all of that", async () => {
    expect((await getJson(`${t.url}/_cairn/health`)).status).toBe(200);
  });
});
