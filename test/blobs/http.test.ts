import { createHash, randomBytes } from "node:crypto";
import { readdirSync } from "node:fs";
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BlobStore } from "../../src/blobs/blob-store.js";
import type { OutboxEvent } from "../../src/tables/types.js";
import type { TablesHost } from "../../src/tables/service.js";
import { ManualClock } from "../../src/shared/clock.js";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const mb = 1024 * 1024;

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ name: "files", blobs: { maxObjectSize: ${64 * mb} } });
  `,
  "functions/files.ts": `
    import { createHash } from "node:crypto";
    import { http, isCairnError } from "cairn";

    export const upload = http("PUT /files/*", async (req, ctx) => {
      const info = await ctx.blobs.put(ctx.params["*"], req.body, {
        contentType: req.headers.get("content-type") ?? undefined,
        metadata: { note: req.headers.get("x-note") ?? "" },
      });
      return Response.json(info, { status: 201 });
    });

    export const download = http("GET /files/*", async (req, ctx) => {
      const range = /^bytes=(\\d+)-(\\d+)$/.exec(req.headers.get("range") ?? "");
      try {
        const object = await ctx.blobs.get(ctx.params["*"], {
          ifNoneMatch: req.headers.get("if-none-match") ?? undefined,
          ...(range && { range: { start: Number(range[1]), end: Number(range[2]) } }),
        });
        if (object === undefined) return Response.json({ error: { code: "not_found" } }, { status: 404 });
        return new Response(object.body, {
          status: object.range ? 206 : 200,
          headers: { "content-type": object.contentType, etag: object.etag, "x-note": object.metadata.note ?? "" },
        });
      } catch (error) {
        if (isCairnError(error) && error.code === "not_modified") return new Response(null, { status: 304 });
        throw error;
      }
    });

    // The body handed on after reading its first chunk.
    export const rest = http("GET /rest/*", async (_req, ctx) => {
      const object = await ctx.blobs.get(ctx.params["*"]);
      if (object === undefined) return new Response(null, { status: 404 });
      const reader = object.body.getReader();
      const first = await reader.read();
      reader.releaseLock();
      return new Response(object.body, { headers: { "x-first": String(first.value?.byteLength ?? 0) } });
    });

    export const remove = http("DELETE /files/*", async (_req, ctx) =>
      Response.json({ deleted: await ctx.blobs.delete(ctx.params["*"]) }));

    export const head = http("GET /head/*", async (_req, ctx) =>
      Response.json((await ctx.blobs.head(ctx.params["*"])) ?? null));

    export const list = http("GET /list", async (req, ctx) => {
      const query = new URL(req.url).searchParams;
      return Response.json(await ctx.blobs.list({
        prefix: query.get("prefix") ?? undefined,
        delimiter: query.get("delimiter") ?? undefined,
        limit: query.has("limit") ? Number(query.get("limit")) : undefined,
        cursor: query.get("cursor") ?? undefined,
      }));
    });

    // Writes size MB produced here, a chunk at a time, hashing what it produced.
    export const generate = http("POST /generate/*", async (req, ctx) => {
      const size = Number(new URL(req.url).searchParams.get("mb")) * 1024 * 1024;
      const hash = createHash("sha256");
      let made = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (made >= size) return controller.close();
          const chunk = new Uint8Array(Math.min(100_000, size - made));
          for (let i = 0; i < chunk.length; i += 997) chunk[i] = (made + i) % 251;
          hash.update(chunk);
          made += chunk.length;
          controller.enqueue(chunk);
        },
      }, { highWaterMark: 0 });
      const info = await ctx.blobs.put(ctx.params["*"], body, { contentType: "application/x-generated" });
      return Response.json({ info, sha256: hash.digest("hex") });
    });

    // Opens an object and leaves its body unread (or reads one chunk and cancels).
    export const peek = http("GET /peek/*", async (req, ctx) => {
      const object = await ctx.blobs.get(ctx.params["*"]);
      if (new URL(req.url).searchParams.has("one")) {
        const reader = object.body.getReader();
        const { value } = await reader.read();
        await reader.cancel();
        return Response.json({ first: value.byteLength });
      }
      return Response.json({ size: object.size });
    });

    // A streamed put whose source fails half way.
    export const broken = http("POST /broken/*", async (_req, ctx) => {
      let sent = 0;
      const body = new ReadableStream({
        pull(controller) {
          if (sent++ < 40) controller.enqueue(new Uint8Array(100_000));
          else controller.error(new Error("the source broke"));
        },
      });
      try {
        await ctx.blobs.put(ctx.params["*"], body);
        return Response.json({ stored: true });
      } catch (error) {
        return Response.json({ stored: false, message: String(error.message) });
      }
    });

    export const presign = http("POST /presign/*", async (req, ctx) =>
      Response.json({ url: await ctx.blobs.presign(ctx.params["*"], await req.json()) }));
  `,
};

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

async function digestOf(response: Response): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
  }
  return { sha256: hash.digest("hex"), size };
}

/** PUT `size` random bytes with node:http, chunk by chunk (never one buffer); returns status, body and hash. */
function rawUpload(url: string, size: number): Promise<{ status: number; body: any; sha256: string }> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    const req = request(url, { method: "PUT", headers: { "content-type": "application/x-raw" } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode!, body: JSON.parse(text), sha256: hash.digest("hex") }),
      );
    });
    req.on("error", reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        const chunk = randomBytes(Math.min(256 * 1024, size - sent));
        hash.update(chunk);
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

describe("blobs from functions and presigned URLs, over HTTP", () => {
  let dir: string;
  let t: TestNode;
  const clock = new ManualClock();

  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir, clock });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  const call = (method: string, path: string, body?: unknown) =>
    getJson(`${t.url}${path}`, {
      method,
      ...(body !== undefined && {
        body: JSON.stringify(body),
        headers: { "content-type": "application/json" },
      }),
    });
  const presign = async (key: string, options: Record<string, unknown>): Promise<string> =>
    (await call("POST", `/presign/${key}`, options)).body.url as string;
  const hostBlobs = () => t.node.deployment.apps[0]!.services.api<BlobStore>("blobs")!;
  const tablesHost = () => t.node.deployment.apps[0]!.services.api<TablesHost>("tables")!;

  it("puts, gets, heads, lists and deletes from a function", async () => {
    const put = await fetch(`${t.url}/files/docs/a.txt`, {
      method: "PUT",
      body: "hello from a function",
      headers: { "content-type": "text/plain", "x-note": "first" },
    });
    expect(put.status).toBe(201);
    const info = (await put.json()) as { etag: string; size: number; lastModified: string };
    expect(info).toMatchObject({
      key: "docs/a.txt",
      size: 21,
      contentType: "text/plain",
      metadata: { note: "first" },
    });
    expect(info.lastModified).toBe(new Date(clock.now()).toISOString());

    const got = await fetch(`${t.url}/files/docs/a.txt`);
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("text/plain");
    expect(got.headers.get("etag")).toBe(info.etag);
    expect(got.headers.get("x-note")).toBe("first");
    // A small object's body, handed on unread, goes out in one piece with its length.
    expect(got.headers.get("content-length")).toBe("21");
    expect(await got.text()).toBe("hello from a function");
    // One that was read from first is refused, as the native Response refuses a disturbed stream:
    // its bytes are not sent again.
    const disturbed = await getJson(`${t.url}/rest/docs/a.txt`);
    expect(disturbed.status).toBe(500);
    expect(disturbed.body.error.message).toMatch(/disturbed/);
    const notModified = await fetch(`${t.url}/files/docs/a.txt`, { headers: { "if-none-match": info.etag } });
    expect(notModified.status).toBe(304);
    const part = await fetch(`${t.url}/files/docs/a.txt`, { headers: { range: "bytes=6-9" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("from");

    for (const key of ["docs/b.txt", "docs/sub/c.txt", "img/d.png"]) {
      await fetch(`${t.url}/files/${key}`, { method: "PUT", body: key });
    }
    const top = await call("GET", "/list?delimiter=/");
    expect(top.body).toMatchObject({ objects: [], prefixes: ["docs/", "img/"] });
    const docs = await call("GET", "/list?prefix=docs/&delimiter=/&limit=2");
    expect(docs.body.objects.map((o: { key: string }) => o.key)).toEqual(["docs/a.txt", "docs/b.txt"]);
    const rest = await call("GET", `/list?prefix=docs/&delimiter=/&limit=2&cursor=${docs.body.cursor}`);
    expect(rest.body).toMatchObject({ objects: [], prefixes: ["docs/sub/"] });
    expect(rest.body.cursor).toBeUndefined();

    expect((await call("GET", "/head/img/d.png")).body).toMatchObject({
      size: 9,
      contentType: "text/plain;charset=UTF-8",
    });
    expect((await call("DELETE", "/files/img/d.png")).body).toEqual({ deleted: true });
    expect((await call("GET", "/head/img/d.png")).body).toBeNull();
    expect((await fetch(`${t.url}/files/img/d.png`)).status).toBe(404);
  });

  it("maps bad keys and conditions to clear errors", async () => {
    const nul = await call("POST", "/presign/x%00y", {});
    expect(nul.status).toBe(400);
    expect(nul.body.error.code).toBe("invalid_key");
    const long = await call("GET", `/head/${"k".repeat(1025)}`);
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe("invalid_key");
    const stale = await fetch(`${t.url}/files/docs/a.txt`, { method: "PUT", body: "x" });
    expect(stale.status).toBe(201);
    const expiry = await call("POST", "/presign/docs/a.txt", { expiresIn: "30d" });
    expect(expiry.status).toBe(400);
    expect(expiry.body.error.code).toBe("invalid_argument");
  });

  it(
    "streams a large object from a function into the store and back out as a Response",
    { timeout: 120_000 },
    async () => {
      const made = await call("POST", "/generate/big/generated.bin?mb=48");
      expect(made.status).toBe(200);
      expect(made.body.info).toMatchObject({
        key: "big/generated.bin",
        size: 48 * mb,
        contentType: "application/x-generated",
      });
      const response = await fetch(`${t.url}/files/big/generated.bin`);
      expect(response.headers.get("content-type")).toBe("application/x-generated");
      expect(await digestOf(response)).toEqual({ sha256: made.body.sha256, size: 48 * mb });
      const middle = await fetch(`${t.url}/files/big/generated.bin`, {
        headers: { range: `bytes=${mb}-${3 * mb - 1}` },
      });
      expect(middle.status).toBe(206);
      expect((await digestOf(middle)).size).toBe(2 * mb);
    },
  );

  it("uploads with a presigned PUT from fetch; the object is visible to functions and raises its event", async () => {
    const append = vi.spyOn(tablesHost().publisher, "append");
    const url = await presign("uploads/photo.png", {
      method: "PUT",
      expiresIn: "5m",
      contentType: "image/png",
    });
    expect(url.startsWith(`${t.url}/_cairn/blobs/files/uploads/photo.png?`)).toBe(true);
    // A browser on another origin asks first, then uploads directly.
    const preflight = await fetch(url, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
    expect(preflight.headers.get("access-control-allow-methods")).toContain("PUT");
    expect(preflight.headers.get("access-control-allow-headers")).toBe("content-type");
    const bytes = randomBytes(70_000);
    const created = await fetch(url, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": "image/png" },
    });
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("*");
    expect(created.headers.get("access-control-expose-headers")).toContain("etag");
    const info = (await created.json()) as { etag: string };
    expect(created.headers.get("etag")).toBe(info.etag);
    expect(info).toMatchObject({ key: "uploads/photo.png", size: 70_000, contentType: "image/png" });
    const again = await fetch(url, { method: "PUT", body: bytes, headers: { "content-type": "image/png" } });
    expect(again.status).toBe(200);
    const wrongType = await fetch(url, {
      method: "PUT",
      body: "x",
      headers: { "content-type": "text/html" },
    });
    expect(wrongType.status).toBe(403);
    expect((await wrongType.json()).error.code).toBe("forbidden");

    const read = await fetch(`${t.url}/files/uploads/photo.png`);
    expect(read.headers.get("content-type")).toBe("image/png");
    expect(sha256(new Uint8Array(await read.arrayBuffer()))).toBe(sha256(bytes));

    const events = append.mock.calls.flatMap(([, list]): OutboxEvent[] => list ?? []);
    expect(
      events.filter((event) => event.topic === "blob.created" && event.key === "uploads/photo.png"),
    ).toEqual([
      {
        topic: "blob.created",
        key: "uploads/photo.png",
        payload: {
          key: "uploads/photo.png",
          size: 70_000,
          etag: info.etag,
          contentType: "image/png",
          sequencer: expect.any(String),
        },
      },
      expect.objectContaining({ topic: "blob.created" }),
    ]);
    append.mockRestore();
  });

  it(
    "takes a large raw upload, then serves it with Range, HEAD and conditional GET",
    { timeout: 120_000 },
    async () => {
      const size = 40 * mb;
      const url = await presign("raw/large.bin", { method: "PUT" });
      const uploaded = await rawUpload(url, size);
      expect(uploaded.status).toBe(201);
      expect(uploaded.body).toMatchObject({ key: "raw/large.bin", size, contentType: "application/x-raw" });
      expect((await hostBlobs().head("raw/large.bin"))?.size).toBe(size);

      const get = await presign("raw/large.bin", { expiresIn: "1h" });
      const whole = await fetch(get);
      expect(whole.status).toBe(200);
      expect(whole.headers.get("content-length")).toBe(String(size));
      expect(whole.headers.get("etag")).toBe(uploaded.body.etag);
      expect(whole.headers.get("accept-ranges")).toBe("bytes");
      expect(whole.headers.get("last-modified")).toBe(new Date(clock.now()).toUTCString());
      expect(await digestOf(whole)).toEqual({ sha256: uploaded.sha256, size });

      const ranged = await fetch(get, { headers: { range: "bytes=100-199" } });
      expect(ranged.status).toBe(206);
      expect(ranged.headers.get("content-range")).toBe(`bytes 100-199/${size}`);
      expect((await ranged.arrayBuffer()).byteLength).toBe(100);
      const suffix = await fetch(get, { headers: { range: "bytes=-10" } });
      expect(suffix.headers.get("content-range")).toBe(`bytes ${size - 10}-${size - 1}/${size}`);
      await suffix.arrayBuffer();
      const outside = await fetch(get, { headers: { range: `bytes=${size}-` } });
      expect(outside.status).toBe(416);
      expect(outside.headers.get("content-range")).toBe(`bytes */${size}`);
      expect((await outside.json()).error.code).toBe("range_not_satisfiable");
      const cached = await fetch(get, { headers: { "if-none-match": uploaded.body.etag } });
      expect(cached.status).toBe(304);
      const head = await fetch(get, { method: "HEAD" });
      expect(head.status).toBe(200);
      expect(head.headers.get("content-length")).toBe(String(size));
    },
  );

  it("refuses tampered, misused and expired URLs with 403 and a code", async () => {
    await fetch(`${t.url}/files/secret/report.txt`, { method: "PUT", body: "top secret" });
    const url = new URL(await presign("secret/report.txt", { expiresIn: "10m" }));
    expect(await (await fetch(url)).text()).toBe("top secret");

    const expectCode = async (response: Response, status: number, code: string) => {
      expect(response.status).toBe(status);
      expect((await response.json()).error.code).toBe(code);
    };
    const tampered = new URL(url);
    const signature = tampered.searchParams.get("signature")!;
    tampered.searchParams.set("signature", (signature[0] === "a" ? "b" : "a") + signature.slice(1));
    await expectCode(await fetch(tampered), 403, "invalid_signature");
    const longer = new URL(url);
    longer.searchParams.set("expires", String(Number(url.searchParams.get("expires")) + 86_400));
    await expectCode(await fetch(longer), 403, "invalid_signature");
    const otherKey = new URL(url);
    otherKey.pathname = otherKey.pathname.replace("report.txt", "other.txt");
    await expectCode(await fetch(otherKey), 403, "invalid_signature");
    await expectCode(await fetch(url, { method: "PUT", body: "overwritten" }), 403, "invalid_signature");
    await expectCode(await fetch(`${t.url}${url.pathname}`), 403, "invalid_signature");
    await expectCode(
      await fetch(`${t.url}/_cairn/blobs/nope/secret/report.txt${url.search}`),
      404,
      "not_found",
    );

    clock.advance(10 * 60_000);
    await expectCode(await fetch(url), 403, "url_expired");
    expect(await (await fetch(`${t.url}/files/secret/report.txt`)).text()).toBe("top secret");
  });

  it("enforces the size bound of a PUT URL, keeping nothing of a refused upload", async () => {
    const url = await presign("bounded.bin", { method: "PUT", maxSize: 1000 });
    const refused = await fetch(url, { method: "PUT", body: randomBytes(2000) });
    expect(refused.status).toBe(413);
    expect((await refused.json()).error.code).toBe("payload_too_large");
    const chunked = await rawUpload(url, 5000);
    expect(chunked.status).toBe(413);
    expect(await hostBlobs().head("bounded.bin")).toBeUndefined();
    expect((await fetch(url, { method: "PUT", body: randomBytes(1000) })).status).toBe(201);
  });

  it(
    "closes streams a function leaves unread, and fails a put whose source breaks",
    { timeout: 60_000 },
    async () => {
      await call("POST", "/generate/peek/large.bin?mb=8");
      const openFiles = () => readdirSync("/proc/self/fd").length;
      const before = openFiles();
      for (let i = 0; i < 20; i++) {
        expect((await call("GET", "/peek/peek/large.bin")).body).toEqual({ size: 8 * mb });
        expect((await call("GET", "/peek/peek/large.bin?one")).body.first).toBeGreaterThan(0);
      }
      // Every body the function did not finish was closed when its invocation ended: 40 calls leave
      // no 40 open files behind (a few descriptors are keep-alive sockets of this test's fetch).
      await eventually(() => (openFiles() < before + 10 ? true : undefined));

      const broken = await call("POST", "/broken/broken.bin");
      expect(broken.body).toMatchObject({
        stored: false,
        message: expect.stringContaining("the source broke"),
      });
      expect(await hostBlobs().head("broken.bin")).toBeUndefined();
    },
  );

  it("keeps presigned URLs working across a restart (the secret is kept in the store)", async () => {
    await fetch(`${t.url}/files/keep.txt`, { method: "PUT", body: "kept" });
    const url = await presign("keep.txt", { expiresIn: "1h" });
    await t.stop();
    t = await startNode({ dir, clock });
    expect(await (await fetch(url.replace(/^http:\/\/[^/]+/, t.url))).text()).toBe("kept");
  });
});
