import { createServer } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import { digestOf, failure, generated, openBlobs, type BlobsFixture } from "../conformance/blobs/harness.js";
import { getJson, makeApp, removeApp, startNode } from "../helpers/app.js";
import { startS3Server, type S3TestServer } from "./s3-server.js";

const mb = 1024 * 1024;

/** A port nothing listens on (taken from the OS, then let go). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function timed<T>(work: Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await work;
  return { value, ms: performance.now() - started };
}

/** The blobs service over a SQLite store and the given CAIRN_BLOBS_URL. */
async function blobsOver(blobsUrl: string): Promise<BlobsFixture> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-blobs-s3-faults-"));
  const store = SqliteStore.open(join(dir, "cairn.db"));
  const dispose = async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return openBlobs(store, dir, { CAIRN_BLOBS_URL: blobsUrl }, dispose).catch(async (error: unknown) => {
    await dispose();
    throw error;
  });
}

const secret = "s3cret-do-not-print";

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ name: "files" });
  `,
  "functions/files.ts": `
    import { http, isCairnError } from "cairn";

    const attempt = async (work) => {
      try {
        return Response.json(await work());
      } catch (error) {
        if (!isCairnError(error)) throw error;
        return Response.json({ error: { code: error.code, retryable: error.retryable, message: error.message } }, { status: error.status });
      }
    };
    export const put = http("PUT /files/*", (req, ctx) => attempt(() => ctx.blobs.put(ctx.params["*"], req.body)));
    export const get = http("GET /files/*", (_req, ctx) =>
      attempt(async () => (await ctx.blobs.get(ctx.params["*"]))?.text() ?? null));
    export const presign = http("POST /presign/*", async (req, ctx) =>
      Response.json({ url: await ctx.blobs.presign(ctx.params["*"], await req.json()) }));
  `,
};

describe("the S3 blob driver when S3 cannot be reached", () => {
  it("starts, answers backend_unavailable (503, retryable) quickly, and never prints the secret", async () => {
    const port = await freePort();
    const blobsUrl =
      `s3://bucket/p?endpoint=http://127.0.0.1:${port}&region=us-east-1` +
      `&accessKeyId=AKIATEST&secretAccessKey=${secret}`;
    const dir = makeApp(app);
    const t = await startNode({ dir, env: { ...process.env, CAIRN_BLOBS_URL: blobsUrl } });
    try {
      const { value: put, ms } = await timed(
        getJson(`${t.url}/files/a.txt`, { method: "PUT", body: "hello" }),
      );
      expect(put.status).toBe(503);
      expect(put.body.error).toMatchObject({ code: "backend_unavailable", retryable: true });
      expect(put.body.error.message).toContain(`endpoint=http://127.0.0.1:${port}`);
      expect(put.body.error.message).toContain("secretAccessKey=***");
      expect(ms).toBeLessThan(2000);

      // A presigned upload, served by the gateway, fails the same way, with a 503.
      const url = (await getJson(`${t.url}/presign/b.txt`, { method: "POST", body: '{"method":"PUT"}' })).body
        .url as string;
      const upload = await getJson(url, { method: "PUT", body: "x" });
      expect(upload.status).toBe(503);
      expect(upload.body.error.code).toBe("backend_unavailable");
      // Nothing was acknowledged, so nothing is there.
      expect((await getJson(`${t.url}/files/a.txt`)).body).toBeNull();

      const warning = t.logs.find((line) => String(line.msg).includes("S3 is unreachable"));
      expect(warning).toBeDefined();
      for (const text of [t.logs.text(), JSON.stringify(put.body), JSON.stringify(upload.body)]) {
        expect(text).not.toContain(secret);
      }
    } finally {
      await t.stop();
      removeApp(dir);
    }
  });

  it("refuses a malformed URL at start without echoing secrets", async () => {
    for (const [blobsUrl, message] of [
      [`s3://AKIA:${secret}@bucket/p`, "credentials do not go before the bucket"],
      [`s3://bucket/p?secretAccessKey=${secret}`, "accessKeyId and secretAccessKey together"],
      [`s3://bucket/p?secretKey=${secret}`, 'unknown parameter "secretKey"'],
      [`s3://bucket/p?endpoint=ftp://x&secretAccessKey=${secret}&accessKeyId=a`, "endpoint must be an http"],
    ] as const) {
      const error = await failure(blobsOver(blobsUrl));
      expect(error.code).toBe("invalid_config");
      expect(error.message).toContain(message);
      expect(error.message).not.toContain(secret);
    }
  });
});

describe("the S3 blob driver when S3 stalls or dies and comes back", () => {
  let s3: S3TestServer;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.stop();
  });

  it(
    "fails a multipart upload past the size limit, or whose source fails, with that cause, keeping nothing",
    { timeout: 60_000 },
    async () => {
      const fixture = await blobsOver(s3.url("aborts"));
      const { blobs } = fixture;
      try {
        const tooLarge = await failure(blobs.write("big.bin", generated(16 * mb).stream, undefined, 12 * mb));
        expect(tooLarge).toMatchObject({ code: "payload_too_large", status: 413 });
        let sent = 0;
        const failing = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent++ < 200) controller.enqueue(new Uint8Array(64 * 1024));
            else controller.error(new Error("the client went away"));
          },
        });
        await expect(blobs.put("broken.bin", failing)).rejects.toThrow("the client went away");
        expect((await blobs.list()).objects).toEqual([]);
        const ids: string[] = [];
        for await (const { id } of blobs.driver.list()) ids.push(id);
        expect(ids).toEqual([]);
      } finally {
        await fixture.close();
      }
    },
  );

  it(
    "fails calls that need S3 fast, keeps metadata calls working, and loses nothing acknowledged",
    {
      timeout: 60_000,
    },
    async () => {
      // 1 s without a byte moving fails a call; on a slow machine completing a 12 MB upload in the
      // stand-in server takes longer than 300 ms, and a retried completion then fails.
      const fixture = await blobsOver(s3.url("faults", { timeout: "1000" }));
      const { blobs, clock } = fixture;
      try {
        await blobs.put("small.txt", "acknowledged", { contentType: "text/plain" });
        const large = generated(12 * mb);
        const big = await blobs.put("large.bin", large.stream);
        const bigDigest = large.digest();

        // Stalled: accepts connections, never answers. Each call gives up after its timeouts.
        s3.pause();
        const { value: stalledGet, ms: getMs } = await timed(failure(blobs.get("small.txt")));
        expect(stalledGet).toMatchObject({ code: "backend_unavailable", status: 503, retryable: true });
        expect(getMs).toBeLessThan(5000);
        const { value: stalledPut } = await timed(failure(blobs.put("during-stall.txt", "lost?")));
        expect(stalledPut.code).toBe("backend_unavailable");
        // Metadata lives in the store: head and list still answer.
        expect((await blobs.head("small.txt"))?.size).toBe(12);
        expect((await blobs.list()).objects.map((o) => o.key)).toEqual(["large.bin", "small.txt"]);
        s3.resume();

        expect(await (await blobs.get("small.txt"))!.text()).toBe("acknowledged");
        expect(await blobs.head("during-stall.txt")).toBeUndefined();

        // Dead: connections refused, calls fail at once.
        await s3.kill();
        const { value: refused, ms: refusedMs } = await timed(failure(blobs.get("large.bin")));
        expect(refused).toMatchObject({ code: "backend_unavailable", retryable: true });
        expect(refusedMs).toBeLessThan(1000);
        expect((await failure(blobs.put("during-outage.txt", "x"))).code).toBe("backend_unavailable");

        // Back: everything acknowledged is there, byte for byte, and writes work again.
        await s3.restart();
        const object = await blobs.get("large.bin");
        expect(object?.etag).toBe(big.etag);
        expect(await digestOf(object!.body)).toEqual({ sha256: bigDigest, size: 12 * mb });
        expect(await (await blobs.get("small.txt"))!.text()).toBe("acknowledged");
        await blobs.put("after.txt", "works again");
        expect(await (await blobs.get("after.txt"))!.text()).toBe("works again");

        // Whatever a failed write left in the bucket is unreferenced: the sweep removes only that.
        clock.advance(2 * 3_600_000);
        await blobs.sweepOrphans();
        const ids: string[] = [];
        for await (const { id } of blobs.driver.list()) ids.push(id);
        expect(ids).toHaveLength(3);
        expect(await (await blobs.get("large.bin"))!.bytes()).toHaveLength(12 * mb);
      } finally {
        await fixture.close();
      }
    },
  );
});
