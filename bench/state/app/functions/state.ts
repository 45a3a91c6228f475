import { http } from "cairn";

// The same work as direct-sqlite.mjs, through ctx services from a function instance.
export const get = http("GET /get/:id", async (_req, ctx) => {
  const item = await ctx.tables.kv.get({ id: ctx.params.id });
  return Response.json(item ?? null);
});

export const put = http("POST /put/:id", async (_req, ctx) => {
  await ctx.tables.kv.put({ id: ctx.params.id, value: "x".repeat(100), at: Date.now() });
  return new Response(null, { status: 204 });
});

export const getPut = http("POST /getput/:id", async (_req, ctx) => {
  const item = await ctx.tables.kv.get({ id: ctx.params.id });
  const count = typeof item?.count === "number" ? item.count : 0;
  await ctx.tables.kv.put({ id: ctx.params.id, value: "x".repeat(100), count: count + 1 });
  return new Response(null, { status: 204 });
});

export const query = http("GET /query/:p", async (_req, ctx) => {
  const page = await ctx.tables.feed.query(Number(ctx.params.p), { limit: 20, order: "desc" });
  return Response.json(page.items);
});

export const seed = http("POST /seed/:p/:n", async (_req, ctx) => {
  const p = Number(ctx.params.p);
  const n = Number(ctx.params.n);
  await ctx.tables.feed.put({ p, n, text: "y".repeat(80) });
  return new Response(null, { status: 204 });
});

export const cacheGet = http("GET /cache-get/:id", async (_req, ctx) => {
  const value = await ctx.cache.get(ctx.params.id);
  return Response.json(value ?? null);
});

export const cacheSet = http("POST /cache-set/:id", async (_req, ctx) => {
  await ctx.cache.set(ctx.params.id, { value: "x".repeat(100), at: Date.now() }, { ttl: "5m" });
  return new Response(null, { status: 204 });
});

const blob = new Uint8Array(64 * 1024).fill(120);

export const blobPut = http("POST /blob-put/:id", async (_req, ctx) => {
  await ctx.blobs.put(`bench/${ctx.params.id}`, blob, { contentType: "application/octet-stream" });
  return new Response(null, { status: 204 });
});

export const blobGet = http("GET /blob-get/:id", async (_req, ctx) => {
  const object = await ctx.blobs.get(`bench/${ctx.params.id}`);
  if (!object) return new Response("missing", { status: 404 });
  return new Response(object.body, { headers: { "content-type": object.contentType } });
});
