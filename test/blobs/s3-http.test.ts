import { createHash, randomBytes } from "node:crypto";
import { request } from "node:http";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BlobStore } from "../../src/blobs/blob-store.js";
import type { S3Driver } from "../../src/blobs/s3/driver.js";
import { MemoryWatch } from "../conformance/blobs/harness.js";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";
import { startS3Server, type S3TestServer } from "./s3-server.js";

const mb = 1024 * 1024;

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ name: "files", blobs: { maxObjectSize: ${80 * mb} } });
  `,
  "functions/files.ts": `
    import { createHash } from "node:crypto";
    import { http, on } from "cairn";

    export const upload = http("PUT /files/*", async (req, ctx) => {
      const info = await ctx.blobs.put(ctx.params["*"], req.body, {
        contentType: req.headers.get("content-type") ?? undefined,
      });
      return Response.json(info, { status: 201 });
    });

    export const download = http("GET /files/*", async (_req, ctx) => {
      const object = await ctx.blobs.get(ctx.params["*"]);
      if (object === undefined) return Response.json({ error: { code: "not_found" } }, { status: 404 });
      return new Response(object.body, { headers: { "content-type": object.contentType, etag: object.etag } });
    });

    export const presign = http("POST /presign/*", async (req, ctx) =>
      Response.json({ url: await ctx.blobs.presign(ctx.params["*"], await req.json()) }));

    // Every upload under uploads/ is read back (from S3) and described under seen/.
    export const created = on.blobCreated("uploads/", async (event, ctx) => {
      const object = await ctx.blobs.get(event.payload.key, { ifMatch: event.payload.etag });
      if (object === undefined) return;
      const hash = createHash("sha256");
      for await (const chunk of object.body) hash.update(chunk);
      await ctx.blobs.put("seen/" + event.payload.key, JSON.stringify({ ...event.payload, sha256: hash.digest("hex") }), {
        contentType: "application/json",
      });
    });
  `,
};

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** PUT `size` random bytes with node:http, chunk by chunk; `each` runs after every chunk. */
function rawUpload(
  url: string,
  size: number,
  each: () => void,
): Promise<{ status: number; body: any; sha256: string }> {
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
        each();
        if (!req.write(chunk)) return void req.once("drain", pump);
      }
      req.end();
    };
    pump();
  });
}

async function digestOf(response: Response, each: () => void = () => {}) {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
    size += chunk.byteLength;
    each();
  }
  return { sha256: hash.digest("hex"), size };
}

describe("the S3 blob driver end to end: functions, presigned URLs and events over HTTP", () => {
  let s3: S3TestServer;
  let dir: string;
  let t: TestNode;

  beforeAll(async () => {
    s3 = await startS3Server();
    dir = makeApp(app);
    t = await startNode({ dir, env: { ...process.env, CAIRN_BLOBS_URL: s3.url("e2e") } });
  });
  afterAll(async () => {
    await t?.stop();
    removeApp(dir);
    await s3?.stop();
  });

  const hostBlobs = () => t.node.deployment.apps[0]!.services.api<BlobStore>("blobs")!;
  const presign = async (key: string, options: Record<string, unknown>): Promise<string> =>
    (await getJson(`${t.url}/presign/${key}`, { method: "POST", body: JSON.stringify(options) })).body
      .url as string;

  it("stores bytes in the bucket under the app's prefix", async () => {
    const put = await fetch(`${t.url}/files/docs/a.txt`, {
      method: "PUT",
      body: "hello S3",
      headers: { "content-type": "text/plain" },
    });
    expect(put.status).toBe(201);
    const driver = hostBlobs().driver as S3Driver;
    expect(driver.name).toBe("s3");
    expect(driver.base).toBe("e2e/files/");
    const ids: string[] = [];
    for await (const { id } of driver.list()) ids.push(id);
    expect(ids).toHaveLength(1);
    const got = await fetch(`${t.url}/files/docs/a.txt`);
    expect(got.headers.get("content-type")).toBe("text/plain");
    expect(await got.text()).toBe("hello S3");
  });

  it(
    "takes a 64 MB upload in parts and serves it back, by hash, without holding it in memory",
    { timeout: 180_000 },
    async () => {
      const size = 64 * mb;
      const url = await presign("big/large.bin", { method: "PUT" });
      const driver = hostBlobs().driver as S3Driver;
      // Which commands the upload sends (names only: a spy would keep every part's bytes alive).
      const commands: string[] = [];
      const send = driver.client.send.bind(driver.client);
      driver.client.send = ((command: { constructor: { name: string } }, ...rest: unknown[]) => {
        commands.push(command.constructor.name);
        return (send as (...args: unknown[]) => Promise<unknown>)(command, ...rest);
      }) as typeof driver.client.send;
      const watch = new MemoryWatch(16);
      const uploaded = await rawUpload(url, size, () => watch.sample());
      expect(uploaded.status).toBe(201);
      expect(uploaded.body).toMatchObject({ key: "big/large.bin", size, contentType: "application/x-raw" });
      // Cairn's ETag stays the MD5 of the bytes, whatever the driver.
      expect(uploaded.body.etag).toMatch(/^"[0-9a-f]{32}"$/);

      // A multipart upload of 5 MiB parts, and one object of the whole size in the bucket.
      driver.client.send = send;
      expect(commands.filter((name) => name === "CreateMultipartUploadCommand")).toHaveLength(1);
      expect(commands.filter((name) => name === "UploadPartCommand")).toHaveLength(
        Math.ceil(size / (5 * mb)),
      );
      expect(commands.filter((name) => name === "CompleteMultipartUploadCommand")).toHaveLength(1);
      const item = await hostBlobs().tables.tables.get("_blobs", { p: "o", k: "big/large.bin" });
      const head = await driver.client.send(
        new HeadObjectCommand({ Bucket: s3.bucket, Key: driver.keyOf(item!.sid as string) }),
      );
      expect(head.ContentLength).toBe(size);

      // Out as a function's Response body, and through a presigned GET (both streamed from S3).
      const viaFunction = await fetch(`${t.url}/files/big/large.bin`);
      expect(viaFunction.headers.get("etag")).toBe(uploaded.body.etag);
      expect(await digestOf(viaFunction, () => watch.sample())).toEqual({ sha256: uploaded.sha256, size });
      const viaUrl = await fetch(await presign("big/large.bin", {}));
      expect(viaUrl.headers.get("content-length")).toBe(String(size));
      expect(await digestOf(viaUrl, () => watch.sample())).toEqual({ sha256: uploaded.sha256, size });
      const ranged = await fetch(await presign("big/large.bin", {}), {
        headers: { range: `bytes=${10 * mb}-${12 * mb - 1}` },
      });
      expect(ranged.status).toBe(206);
      expect((await digestOf(ranged)).size).toBe(2 * mb);

      // What stays alive is a few parts (an upload holds about (queueSize + 2) x partSize, 20 MiB by
      // default) and a few chunks in flight, not the object.
      expect(watch.peakArrayBuffers).toBeLessThan(48 * mb);
      expect(watch.peakRss).toBeLessThan(96 * mb);
    },
  );

  it("uploads and downloads through presigned URLs, and delivers blob.created to a function", async () => {
    const bytes = randomBytes(300_000);
    const put = await presign("uploads/photo.png", {
      method: "PUT",
      contentType: "image/png",
      expiresIn: "5m",
    });
    const created = await fetch(put, {
      method: "PUT",
      body: bytes,
      headers: { "content-type": "image/png" },
    });
    expect(created.status).toBe(201);
    const info = (await created.json()) as { etag: string; size: number };
    expect(info).toMatchObject({ key: "uploads/photo.png", size: 300_000, contentType: "image/png" });

    const get = await fetch(await presign("uploads/photo.png", { expiresIn: "5m" }));
    expect(get.status).toBe(200);
    expect(get.headers.get("content-type")).toBe("image/png");
    expect(sha256(new Uint8Array(await get.arrayBuffer()))).toBe(sha256(bytes));

    // The function triggered by the event read the object back from S3 and described it.
    const seen = await eventually(async () => {
      const object = await hostBlobs().get("seen/uploads/photo.png");
      return object === undefined ? undefined : await object.json<Record<string, unknown>>();
    }, 15_000);
    expect(seen).toMatchObject({
      key: "uploads/photo.png",
      size: 300_000,
      etag: info.etag,
      contentType: "image/png",
      sha256: sha256(bytes),
    });
  });
});
