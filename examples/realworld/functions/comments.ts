import { http } from "cairn";
import type { Comment } from "../cairn.config.js";
import { optionalUser, requireUser } from "./_lib/auth.js";
import { forbidden, invalid, iso, notFound, readWrapped, requiredString } from "./_lib/http.js";
import { first } from "./_lib/pages.js";
import { Views } from "./_lib/views.js";

async function commentView(comment: Comment, views: Views) {
  return {
    id: comment.id,
    createdAt: iso(comment.createdAt),
    updatedAt: iso(comment.updatedAt),
    body: comment.body,
    author: await views.profileOf(comment.authorId),
  };
}

/** GET /api/articles/:slug/comments: oldest first (at most 1,000), signing in optional. */
export const listComments = http("GET /api/articles/:slug/comments", async (request, ctx) => {
  const viewer = await optionalUser(request, ctx);
  const slug = ctx.params.slug;
  if ((await ctx.tables.articles.get({ slug })) === undefined) return notFound("article");
  const comments = await first((cursor, limit) => ctx.tables.comments.query(slug, { cursor, limit }), 1000);
  const views = new Views(ctx, viewer?.user.id);
  return Response.json({
    comments: await Promise.all(comments.map((comment) => commentView(comment, views))),
  });
});

/** POST /api/articles/:slug/comments { comment: { body } }: ids are integers from a counter. */
export const addComment = http("POST /api/articles/:slug/comments", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const slug = ctx.params.slug;
  const body = await readWrapped(request, "comment");
  const text =
    body === undefined ? { error: "comment can't be blank" } : requiredString(body, "body", 16 * 1024);
  if ("error" in text) return invalid(text.error);
  if ((await ctx.tables.articles.get({ slug })) === undefined) return notFound("article");
  const { value: id } = await ctx.tables.counters.update({ name: "comments" }, { increment: { value: 1 } });
  const now = Date.now();
  const comment: Comment = { slug, id, authorId: user.id, body: text.value, createdAt: now, updatedAt: now };
  await ctx.tables.comments.put(comment, { ifNotExists: true });
  return Response.json({ comment: await commentView(comment, new Views(ctx, user.id)) });
});

/** DELETE /api/articles/:slug/comments/:id → 204: the comment's author only. */
export const deleteComment = http("DELETE /api/articles/:slug/comments/:id", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const id = Number(ctx.params.id);
  if (!Number.isSafeInteger(id)) return notFound("comment");
  const comment = await ctx.tables.comments.get({ slug: ctx.params.slug, id });
  if (comment === undefined) return notFound("comment");
  if (comment.authorId !== user.id) return forbidden("only the author may delete a comment");
  await ctx.tables.comments.delete({ slug: ctx.params.slug, id }, { ifVersion: comment._version });
  return new Response(null, { status: 204 });
});
