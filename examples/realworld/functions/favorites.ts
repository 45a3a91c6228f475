import { http, isCairnError } from "cairn";
import { requireUser } from "./_lib/auth.js";
import { notFound } from "./_lib/http.js";
import { Views } from "./_lib/views.js";

/**
 * POST /api/articles/:slug/favorite: the favorite and both counts (the article's, the user's) in one
 * transaction; a second favorite finds the row there and changes nothing.
 */
export const favorite = http("POST /api/articles/:slug/favorite", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const slug = ctx.params.slug;
  try {
    await ctx.tables.transact([
      { put: { table: "favorites", item: { userId: user.id, slug, at: Date.now() }, ifNotExists: true } },
      {
        update: {
          table: "articles",
          key: { slug },
          changes: { increment: { favoritesCount: 1 } },
          ifExists: true,
        },
      },
      {
        update: {
          table: "users",
          key: { id: user.id },
          changes: { increment: { favoritesCount: 1 } },
          ifExists: true,
        },
      },
    ]);
  } catch (error) {
    if (!isCairnError(error) || error.code !== "condition_failed") throw error;
    if (error.details?.operation !== 0) return notFound("article");
  }
  const article = await ctx.tables.articles.get({ slug });
  if (article === undefined) return notFound("article");
  return Response.json({ article: await new Views(ctx, user.id).article(article) });
});

/** DELETE /api/articles/:slug/favorite: the reverse; unfavoriting twice changes nothing. */
export const unfavorite = http("DELETE /api/articles/:slug/favorite", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const slug = ctx.params.slug;
  const article = await ctx.tables.articles.get({ slug });
  if (article === undefined) return notFound("article");
  try {
    await ctx.tables.transact([
      { delete: { table: "favorites", key: { userId: user.id, slug }, ifExists: true } },
      {
        update: {
          table: "articles",
          key: { slug },
          changes: { increment: { favoritesCount: -1 } },
          ifExists: true,
        },
      },
      {
        update: {
          table: "users",
          key: { id: user.id },
          changes: { increment: { favoritesCount: -1 } },
          ifExists: true,
        },
      },
    ]);
  } catch (error) {
    if (!isCairnError(error) || error.code !== "condition_failed") throw error;
  }
  const current = await ctx.tables.articles.get({ slug });
  if (current === undefined) return notFound("article");
  return Response.json({ article: await new Views(ctx, user.id).article(current) });
});
