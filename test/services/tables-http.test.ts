import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig, table } from "cairn";
    interface Note { owner: string; id: string; text: string; tag?: string }
    const config = defineConfig({
      tables: {
        notes: table<Note>({ partitionKey: "owner", sortKey: "id", indexes: { byTag: { partitionKey: "tag" } } }),
      },
    });
    export default config;
    declare module "cairn" { interface Register { config: typeof config } }
  `,
  "functions/notes.ts": `
    import { http } from "cairn";
    export const create = http("POST /notes/:owner", async (req, ctx) => {
      const body = (await req.json()) as { id: string; text: string; tag?: string };
      const note = await ctx.tables.notes.put({ owner: ctx.params.owner, ...body }, { ifNotExists: true });
      return Response.json(note, { status: 201 });
    });
    export const read = http("GET /notes/:owner/:id", async (_req, ctx) => {
      const note = await ctx.tables.notes.get({ owner: ctx.params.owner, id: ctx.params.id });
      return note ? Response.json(note) : Response.json({ error: { code: "not_found", message: "no note" } }, { status: 404 });
    });
    export const edit = http("PATCH /notes/:owner/:id", async (req, ctx) => {
      const { text, version } = (await req.json()) as { text: string; version: number };
      const note = await ctx.tables.notes.update({ owner: ctx.params.owner, id: ctx.params.id }, { set: { text } }, { ifVersion: version });
      return Response.json(note);
    });
    export const list = http("GET /notes/:owner", async (req, ctx) => {
      const cursor = new URL(req.url).searchParams.get("cursor") ?? undefined;
      return Response.json(await ctx.tables.notes.query(ctx.params.owner, { limit: 2, cursor }));
    });
    export const tagged = http("GET /tags/:tag", async (_req, ctx) =>
      Response.json(await ctx.tables.notes.query(ctx.params.tag, { index: "byTag" })));
    export const move = http("POST /move", async (req, ctx) => {
      const { from, to, id } = (await req.json()) as { from: string; to: string; id: string };
      const note = await ctx.tables.notes.get({ owner: from, id });
      if (!note) return new Response("no", { status: 404 });
      const { _version, ...rest } = note;
      await ctx.tables.transact(
        [
          { delete: { table: "notes", key: { owner: from, id }, ifVersion: _version } },
          { put: { table: "notes", item: { ...rest, owner: to }, ifNotExists: true } },
        ],
        { events: [{ topic: "note.moved", payload: { from, to, id } }] },
      );
      return new Response(null, { status: 204 });
    });
  `,
};

describe("tables from functions, over HTTP", () => {
  let dir: string;
  let t: TestNode;
  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  const post = (path: string, body: unknown, method = "POST") =>
    getJson(`${t.url}${path}`, {
      method,
      body: JSON.stringify(body),
      headers: { "content-type": "application/json" },
    });

  it("creates, reads, updates with a version and lists with a cursor", async () => {
    const created = await post("/notes/ann", { id: "n1", text: "hello", tag: "greeting" });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ owner: "ann", id: "n1", text: "hello" });
    const version = created.body._version;
    expect((await post("/notes/ann", { id: "n1", text: "again" })).body.error.code).toBe("condition_failed");

    const edited = await post("/notes/ann/n1", { text: "changed", version }, "PATCH");
    expect(edited.status).toBe(200);
    expect(edited.body.text).toBe("changed");
    const stale = await post("/notes/ann/n1", { text: "lost", version }, "PATCH");
    expect(stale.status).toBe(412);
    expect(stale.body.error.code).toBe("condition_failed");
    expect((await getJson(`${t.url}/notes/ann/n1`)).body.text).toBe("changed");

    await post("/notes/ann", { id: "n2", text: "two" });
    await post("/notes/ann", { id: "n3", text: "three", tag: "greeting" });
    const first = await getJson(`${t.url}/notes/ann`);
    expect(first.body.items.map((n: { id: string }) => n.id)).toEqual(["n1", "n2"]);
    const second = await getJson(`${t.url}/notes/ann?cursor=${first.body.cursor}`);
    expect(second.body.items.map((n: { id: string }) => n.id)).toEqual(["n3"]);
    expect(second.body.cursor).toBeUndefined();
    expect((await getJson(`${t.url}/tags/greeting`)).body.items).toHaveLength(2);
  });

  it("runs a transaction with an event from a function", async () => {
    await post("/notes/bob", { id: "m1", text: "moving" });
    expect((await post("/move", { from: "bob", to: "cat", id: "m1" })).status).toBe(204);
    expect((await getJson(`${t.url}/notes/bob/m1`)).status).toBe(404);
    expect((await getJson(`${t.url}/notes/cat/m1`)).body.text).toBe("moving");
  });

  it("maps bad input to clear errors", async () => {
    const bad = await post("/notes/ann", { id: { not: "a key" }, text: "x" });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe("invalid_key");
  });

  it("keeps acknowledged writes across a restart", async () => {
    await t.stop();
    t = await startNode({ dir });
    expect((await getJson(`${t.url}/notes/ann/n1`)).body.text).toBe("changed");
  });
});
