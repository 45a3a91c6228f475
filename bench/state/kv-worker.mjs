// The miniflare_kv side's Worker: the same work as direct-sqlite.mjs's get, put and getput, on a KV
// namespace binding (env.KV) instead of a table.
export default {
  async fetch(request, env) {
    const [, op, id] = new URL(request.url).pathname.split("/");
    if (op === "get") {
      const data = await env.KV.get(id);
      return new Response(data ?? "null", { headers: { "content-type": "application/json" } });
    }
    if (op === "put") {
      await env.KV.put(id, JSON.stringify({ id, value: "x".repeat(100), at: Date.now() }));
      return new Response(null, { status: 204 });
    }
    if (op === "getput") {
      const data = await env.KV.get(id);
      const count = data ? (JSON.parse(data).count ?? 0) : 0;
      await env.KV.put(id, JSON.stringify({ id, value: "x".repeat(100), count: count + 1 }));
      return new Response(null, { status: 204 });
    }
    return new Response("not found", { status: 404 });
  },
};
