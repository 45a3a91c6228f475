import { http } from "cairn";

/** GET /api/tags: the most used tags (up to 100), from the byCount index. */
export const listTags = http("GET /api/tags", async (_request, ctx) => {
  const page = await ctx.tables.tags.query("tag", {
    index: "byCount",
    order: "desc",
    sort: { gt: 0 },
    limit: 100,
  });
  return Response.json({ tags: page.items.map((tag) => tag.tag) });
});
