import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson } from "../helpers/app.js";
import { runCli, startCli, type CliProcess } from "../helpers/cli.js";
import { makeCorruptPng, makeJpeg, makePng } from "../helpers/images.js";

// The example over real HTTP from the real CLI: announce a file, upload its bytes through the
// presigned URL, and poll until the blob.created handler has processed it.
const example = join(import.meta.dirname, "..", "..", "examples", "file-pipeline");
const token = "file-pipeline-admin-token";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("examples/file-pipeline: uploads processed by blob.created", () => {
  let data: string;
  let cli: CliProcess;
  const start = async () => {
    cli = await startCli(["start", example, "--data", data], {
      CAIRN_ADMIN_TOKEN: token,
      CAIRN_DATABASE_URL: "",
    });
  };
  const stop = async () => {
    cli.child.kill("SIGTERM");
    await cli.exited;
  };

  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), "cairn-file-pipeline-"));
    await start();
  });
  afterAll(async () => {
    await stop();
    rmSync(data, { recursive: true, force: true });
  });

  const announce = async (name: string, contentType?: string) => {
    const response = await getJson(`${cli.url}/files`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, contentType }),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("location")).toBe(`/files/${response.body.fileId}`);
    return response.body as { fileId: string; uploadUrl: string };
  };
  const upload = async (url: string, bytes: Uint8Array, contentType: string) => {
    const response = await fetch(url, {
      method: "PUT",
      body: Buffer.from(bytes),
      headers: { "content-type": contentType },
    });
    await response.arrayBuffer();
    return response.status;
  };
  const status = async (fileId: string) => (await getJson(`${cli.url}/files/${fileId}`)).body;
  const settled = (fileId: string) =>
    eventually(async () => {
      const view = await status(fileId);
      return view.status === "done" || view.status === "failed" ? view : undefined;
    }, 20_000);

  const files: Record<string, { fileId: string; bytes: Buffer }> = {};

  it("processes text, PNG and JPEG uploads into one metadata row each", async () => {
    const text = Buffer.from("The quick brown fox\njumps over\nthe lazy dog.\n");
    const png = makePng(320, 200);
    const jpeg = makeJpeg(1600, 1200, { exifBytes: 40_000 });
    const cases = [
      { name: "notes.txt", type: "text/plain", bytes: text },
      { name: "image.png", type: "image/png", bytes: png },
      { name: "photo.jpg", type: "image/jpeg", bytes: jpeg },
    ];
    for (const { name, type, bytes } of cases) {
      const { fileId, uploadUrl } = await announce(name, type);
      expect(await status(fileId)).toEqual({ fileId, status: "awaiting_upload", metadata: null });
      expect(await upload(uploadUrl, bytes, type)).toBe(201);
      files[name] = { fileId, bytes };
    }
    const common = (name: string, declaredType: string) => {
      const { fileId, bytes } = files[name]!;
      return { fileId, name, declaredType, size: bytes.length, sha256: sha256(bytes), attempt: 1 };
    };
    const view = async (name: string) => {
      const result = await settled(files[name]!.fileId);
      expect(result.status).toBe("done");
      return result.metadata;
    };
    expect(await view("notes.txt")).toMatchObject({
      ...common("notes.txt", "text/plain"),
      contentType: "text/plain; charset=utf-8",
      text: { lines: 3, words: 9 },
    });
    expect(await view("image.png")).toMatchObject({
      ...common("image.png", "image/png"),
      contentType: "image/png",
      image: { width: 320, height: 200 },
    });
    expect(await view("photo.jpg")).toMatchObject({
      ...common("photo.jpg", "image/jpeg"),
      contentType: "image/jpeg",
      image: { width: 1600, height: 1200 },
    });
  });

  it("does not process the same bytes twice, and processes new bytes at the same URL again", async () => {
    const idle = () =>
      eventually(async () => {
        const response = await getJson(`${cli.url}/_cairn/queues`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const stats = response.body.apps[0].consumers.find(
          (c: { consumer: string }) => c.consumer === "f:processUpload",
        );
        return stats.ready + stats.delayed + stats.inflight === 0 ? true : undefined;
      }, 10_000);
    const text = Buffer.from("one two three\n");
    const { fileId, uploadUrl } = await announce("again.txt", "text/plain");
    expect(await upload(uploadUrl, text, "text/plain")).toBe(201);
    const first = await settled(fileId);

    expect(await upload(uploadUrl, text, "text/plain")).toBe(200); // replaced by the same bytes
    await idle();
    expect(await status(fileId)).toEqual(first); // same row: not processed again

    const longer = Buffer.from("one two three\nfour five\n");
    expect(await upload(uploadUrl, longer, "text/plain")).toBe(200);
    await idle();
    expect((await status(fileId)).metadata).toMatchObject({
      sha256: sha256(longer),
      size: longer.length,
      text: { lines: 2, words: 5 },
    });
  });

  it("streams a large upload and detects its type from the bytes, not the declared one", async () => {
    const bytes = randomBytes(24 * 1024 * 1024);
    const { fileId, uploadUrl } = await announce("data.bin"); // no content type bound
    expect(await upload(uploadUrl, bytes, "image/png")).toBe(201);
    const result = await settled(fileId);
    expect(result).toMatchObject({ status: "done", metadata: { size: bytes.length, sha256: sha256(bytes) } });
    expect(result.metadata.contentType).toBe("application/octet-stream");
    expect(result.metadata.image).toBeUndefined();
  });

  it("refuses bad announcements, uploads of another type and unknown files", async () => {
    const bad = await getJson(`${cli.url}/files`, {
      method: "POST",
      body: JSON.stringify({ contentType: "x" }),
    });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: "invalid_name" } } });
    const badType = await getJson(`${cli.url}/files`, {
      method: "POST",
      body: JSON.stringify({ name: "a", contentType: "not a type" }),
    });
    expect(badType.body.error.code).toBe("invalid_content_type");
    const { uploadUrl } = await announce("bound.png", "image/png");
    expect(await upload(uploadUrl, makePng(2, 2), "image/gif")).toBe(403);
    expect((await getJson(`${cli.url}/files/nope`)).status).toBe(404);
  });

  it("marks a file that keeps failing as failed, with its event in the dead-letter queue", async () => {
    const { fileId, uploadUrl } = await announce("broken.png", "image/png");
    expect(await upload(uploadUrl, makeCorruptPng(), "image/png")).toBe(201);
    const result = await settled(fileId);
    expect(result).toMatchObject({ status: "failed", metadata: null, attempt: 3, maxAttempts: 3 });
    expect(result.error).toContain("CRC");
    files["broken.png"] = { fileId, bytes: Buffer.alloc(0) };

    const dead = await eventually(async () => {
      const listed = await runCli(
        ["queues", "dead", "--consumer", "f:processUpload", "--json", "--url", cli.url],
        {
          CAIRN_ADMIN_TOKEN: token,
        },
      );
      const items = (JSON.parse(listed.stdout) as { items: Array<Record<string, any>> }).items;
      return items.find((item) => item.payload?.key === `uploads/${fileId}`);
    }, 10_000);
    expect(dead).toMatchObject({ topic: "blob.created", attempts: 3 });
    expect(dead.lastError).toContain("CRC");
  });

  it("answers from the tables after a restart empties the cache", async () => {
    await stop();
    await start();
    const png = await status(files["image.png"]!.fileId);
    expect(png).toMatchObject({ status: "done", metadata: { image: { width: 320, height: 200 } } });
    expect(await status(files["broken.png"]!.fileId)).toMatchObject({
      status: "failed",
      error: expect.stringContaining("CRC"),
    });
  });
});
