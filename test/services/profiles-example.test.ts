import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, startNode, type TestNode } from "../helpers/app.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

describe("the profiles example", () => {
  let t: TestNode;
  let data: string;
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), "cairn-profiles-"));
    t = await startNode({
      dir: join(import.meta.dirname, "..", "..", "examples", "profiles"),
      dataDir: data,
    });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(data, { recursive: true, force: true });
  });

  const send = (path: string, method: string, body: unknown, headers: Record<string, string> = {}) =>
    getJson(`${t.url}${path}`, {
      method,
      body: JSON.stringify(body),
      headers: { "content-type": "application/json", ...headers },
    });

  it("creates, reads through the cache, updates with If-Match and lists newest first", async () => {
    const created = await send("/profiles", "POST", { handle: "ada", name: "Ada", bio: "maths" });
    expect(created.status).toBe(201);
    const etag = created.headers.get("etag")!;
    expect((await send("/profiles", "POST", { handle: "ada" })).body.error.code).toBe("handle_taken");
    expect((await send("/profiles", "POST", { handle: "Bad Handle!" })).status).toBe(400);

    const first = await getJson(`${t.url}/profiles/ada`);
    expect(first.headers.get("x-cache")).toBe("miss");
    const second = await getJson(`${t.url}/profiles/ada`);
    expect(second.headers.get("x-cache")).toBe("hit");
    expect(second.body.name).toBe("Ada");

    expect((await send("/profiles/ada", "PATCH", { bio: "no version" })).status).toBe(428);
    const updated = await send("/profiles/ada", "PATCH", { bio: "analytical engines" }, { "if-match": etag });
    expect(updated.status).toBe(200);
    expect(updated.body.bio).toBe("analytical engines");
    const stale = await send("/profiles/ada", "PATCH", { bio: "lost update" }, { "if-match": etag });
    expect(stale.status).toBe(412);
    const after = await getJson(`${t.url}/profiles/ada`);
    expect(after.headers.get("x-cache")).toBe("miss");
    expect(after.body.bio).toBe("analytical engines");

    for (const handle of ["bob", "cyd"]) await send("/profiles", "POST", { handle });
    const list = await getJson(`${t.url}/profiles`);
    expect(list.body.items.map((p: { handle: string }) => p.handle)).toEqual(["cyd", "bob", "ada"]);
    expect((await getJson(`${t.url}/profiles/nobody`)).status).toBe(404);
  });

  it("rate-limits profile creation per client", async () => {
    const statuses = [];
    for (let i = 0; i < 12; i++) {
      statuses.push(
        (await send("/profiles", "POST", { handle: `rl_${i}` }, { "x-forwarded-for": "10.0.0.9" })).status,
      );
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.slice(10)).toEqual([429, 429]);
  });
});
