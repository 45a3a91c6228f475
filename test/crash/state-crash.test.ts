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

  it("keeps every acknowledged table write across repeated SIGKILLs", async () => {
    const acknowledged = new Map<string, string>();
    let next = 0;
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
      const writers = Array.from({ length: 16 }, writer);
      await sleep(150 + Math.floor(Math.random() * 350));
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
      } finally {
        check.child.kill("SIGTERM");
        await check.exited;
      }
    }
    expect(acknowledged.size).toBeGreaterThan(200);
  }, 120_000);
});
