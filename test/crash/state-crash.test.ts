import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeApp, removeApp, sleep } from "../helpers/app.js";
import { startCli } from "../helpers/cli.js";

/**
 * Kill -9 a server while clients write, again and again. Every write the server acknowledged
 * (a 2xx) must be there after each restart, intact; nothing half-written may be visible.
 */
const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ tables: { records: { partitionKey: "id" } } });
  `,
  "functions/records.ts": `
    import { http } from "cairn";
    export const write = http("PUT /records/:id", async (req, ctx) => {
      const { value, sum } = (await req.json()) as { value: string; sum: string };
      await ctx.tables.records.put({ id: ctx.params.id, value, sum }, { ifNotExists: true });
      return new Response(null, { status: 204 });
    });
    export const putBlob = http("PUT /blobs/:key", async (req, ctx) => {
      const sum = req.headers.get("x-sum") ?? "";
      await ctx.blobs.put("crash/" + ctx.params.key, req.body ?? "", { metadata: { sum } });
      return new Response(null, { status: 204 });
    });
    export const listBlobs = http("GET /blobs", async (req, ctx) => {
      const cursor = new URL(req.url).searchParams.get("cursor") ?? undefined;
      return Response.json(await ctx.blobs.list({ prefix: "crash/", limit: 1000, cursor }));
    });
    export const getBlob = http("GET /blobs/:key", async (_req, ctx) => {
      const object = await ctx.blobs.get("crash/" + ctx.params.key);
      if (!object) return new Response("missing", { status: 404 });
      return new Response(object.body, { headers: { "x-sum": object.metadata.sum ?? "" } });
    });
    export const all = http("GET /records", async (req, ctx) => {
      const cursor = new URL(req.url).searchParams.get("cursor") ?? undefined;
      return Response.json(await ctx.tables.records.scan({ limit: 1000, cursor }));
    });
  `,
};

const digest = (value: string) => createHash("sha256").update(value).digest("hex");

describe("crash safety of acknowledged writes", () => {
  let dir: string;
  beforeAll(() => {
    dir = makeApp(app);
  });
  afterAll(() => removeApp(dir));

  it("keeps every acknowledged table and blob write across repeated SIGKILLs, and shows no partial blob", async () => {
    const acknowledged = new Map<string, string>();
    const blobs = new Map<string, string>();
    let next = 0;
    let nextBlob = 0;
    for (let cycle = 0; cycle < 8; cycle++) {
      const cli = await startCli(["start", dir]);
      // Writers run until the connection dies under them.
      let alive = true;
      const writer = async () => {
        while (alive) {
          const id = `r${next++}`;
          const value = `${id}:${"v".repeat(50 + (next % 200))}`;
          try {
            const response = await fetch(`${cli.url}/records/${id}`, {
              method: "PUT",
              body: JSON.stringify({ value, sum: digest(value) }),
            });
            if (response.status === 204) acknowledged.set(id, value);
            else if (response.status >= 500) break;
          } catch {
            break;
          }
        }
      };
      const blobWriter = async () => {
        while (alive) {
          const key = `b${nextBlob++}`;
          // Large enough that a kill often lands in the middle of writing one.
          const body = Buffer.alloc(64 * 1024 + (nextBlob % 7) * 10_000, key);
          const sum = createHash("sha256").update(body).digest("hex");
          try {
            const response = await fetch(`${cli.url}/blobs/${key}`, {
              method: "PUT",
              body,
              headers: { "x-sum": sum },
            });
            if (response.status === 204) blobs.set(key, sum);
            else if (response.status >= 500) break;
          } catch {
            break; // the kill cut the connection
          }
        }
      };
      const writers = [...Array.from({ length: 12 }, writer), ...Array.from({ length: 4 }, blobWriter)];
      await sleep(300 + Math.floor(Math.random() * 500));
      cli.child.kill("SIGKILL");
      alive = false;
      await Promise.all(writers);
      await cli.exited;

      const check = await startCli(["start", dir]);
      try {
        const seen = new Map<string, { value: string; sum: string }>();
        let cursor: string | undefined;
        do {
          const response = await fetch(`${check.url}/records${cursor ? `?cursor=${cursor}` : ""}`);
          const page = (await response.json()) as {
            items: Array<{ id: string; value: string; sum: string }>;
            cursor?: string;
          };
          for (const item of page.items) seen.set(item.id, item);
          cursor = page.cursor;
        } while (cursor !== undefined);
        for (const [id, value] of acknowledged) {
          expect(seen.get(id)?.value, `acknowledged ${id} after cycle ${cycle}`).toBe(value);
        }
        for (const item of seen.values()) expect(digest(item.value)).toBe(item.sum);

        // Every listed blob is whole (its bytes match the hash stored with it), and every
        // acknowledged one is listed.
        const listed = new Set<string>();
        let blobCursor: string | undefined;
        do {
          const response = await fetch(`${check.url}/blobs${blobCursor ? `?cursor=${blobCursor}` : ""}`);
          const page = (await response.json()) as { objects: Array<{ key: string }>; cursor?: string };
          for (const object of page.objects) listed.add(object.key.slice("crash/".length));
          blobCursor = page.cursor;
        } while (blobCursor !== undefined);
        for (const key of blobs.keys())
          expect(listed.has(key), `acknowledged blob ${key} after cycle ${cycle}`).toBe(true);
        for (const key of listed) {
          const response = await fetch(`${check.url}/blobs/${key}`);
          const bytes = Buffer.from(await response.arrayBuffer());
          expect(createHash("sha256").update(bytes).digest("hex"), `blob ${key} is whole`).toBe(
            response.headers.get("x-sum"),
          );
          if (blobs.has(key)) expect(response.headers.get("x-sum")).toBe(blobs.get(key));
        }
      } finally {
        check.child.kill("SIGTERM");
        await check.exited;
      }
    }
    expect(acknowledged.size).toBeGreaterThan(200);
    expect(blobs.size).toBeGreaterThan(8);
  }, 120_000);
});
