import { http, isCairnError, type Context, type TransactionOp } from "cairn";
import type { Article } from "../cairn.config.js";
import { feed, listArticles } from "./_lib/articles.js";
import { optionalUser, requireUser } from "./_lib/auth.js";
import {
  forbidden,
  invalid,
  isObject,
  notFound,
  pageParams,
  readWrapped,
  requiredString,
} from "./_lib/http.js";
import { each } from "./_lib/pages.js";
import { Views } from "./_lib/views.js";

const maxTags = 20;

/** GET /api/articles?tag=&author=&favorited=&limit=&offset= (signing in optional). */
export const listAll = http("GET /api/articles", async (request, ctx) => {
  const viewer = await optionalUser(request, ctx);
  const url = new URL(request.url);
  const page = pageParams(url);
  if (page === undefined) return invalid("limit is 1 to 100 and offset 0 to 10000");
  const param = (name: string) => url.searchParams.get(name) ?? undefined;
  const { articles, count } = await listArticles(ctx, {
    tag: param("tag"),
    author: param("author"),
    favorited: param("favorited"),
    ...page,
  });
  const views = new Views(ctx, viewer?.user.id);
  return Response.json({
    articles: await Promise.all(articles.map((a) => views.article(a, false))),
    articlesCount: count,
  });
});

/** GET /api/articles/feed: articles of the authors the signed-in user follows, newest first. */
export const listFeed = http("GET /api/articles/feed", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const page = pageParams(new URL(request.url));
  if (page === undefined) return invalid("limit is 1 to 100 and offset 0 to 10000");
  const { articles, count } = await feed(ctx, user.id, page.limit, page.offset);
  const views = new Views(ctx, user.id);
  return Response.json({
    articles: await Promise.all(articles.map((a) => views.article(a, false))),
    articlesCount: count,
  });
});

/** GET /api/articles/:slug */
export const getArticle = http("GET /api/articles/:slug", async (request, ctx) => {
  const viewer = await optionalUser(request, ctx);
  const article = await ctx.tables.articles.get({ slug: ctx.params.slug });
  if (article === undefined) return notFound("article");
  return Response.json({ article: await new Views(ctx, viewer?.user.id).article(article) });
});

/**
 * POST /api/articles { article: { title, description, body, tagList? } } → 201. The article, its
 * taggings, the tag counts, the author's count and the global count commit in one transaction.
 */
export const createArticle = http("POST /api/articles", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const body = await readWrapped(request, "article");
  if (body === undefined) return invalid("article can't be blank");
  const title = requiredString(body, "title", 256);
  const description = requiredString(body, "description", 1024);
  const text = requiredString(body, "body", 64 * 1024);
  if ("error" in title || "error" in description || "error" in text) {
    return invalid(...[title, description, text].flatMap((field) => ("error" in field ? [field.error] : [])));
  }
  const tagList = tagsOf(body.tagList);
  if (tagList === undefined)
    return invalid(`tagList is a list of up to ${maxTags} tags of 1 to 64 characters`);
  const now = Date.now();
  const article: Article = {
    slug: slugFor(title.value),
    authorId: user.id,
    title: title.value,
    description: description.value,
    body: text.value,
    tagList,
    createdAt: now,
    updatedAt: now,
    favoritesCount: 0,
    feed: "all",
  };
  await ctx.tables.transact([
    { put: { table: "articles", item: { ...article }, ifNotExists: true } },
    {
      update: {
        table: "users",
        key: { id: user.id },
        changes: { increment: { articlesCount: 1 } },
        ifExists: true,
      },
    },
    { update: { table: "counters", key: { name: "articles" }, changes: { increment: { value: 1 } } } },
    ...tagList.flatMap((tag): TransactionOp[] => [
      { put: { table: "taggings", item: { tag, slug: article.slug, createdAt: now } } },
      { update: { table: "tags", key: { tag }, changes: { set: { kind: "tag" }, increment: { count: 1 } } } },
    ]),
  ]);
  return Response.json({ article: await new Views(ctx, user.id).article(article) }, { status: 201 });
});

/** PUT /api/articles/:slug { article: { title?, description?, body? } }: the author only. The slug stays. */
export const updateArticle = http("PUT /api/articles/:slug", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const article = await ctx.tables.articles.get({ slug: ctx.params.slug });
  if (article === undefined) return notFound("article");
  if (article.authorId !== user.id) return forbidden("only the author may edit an article");
  const body = await readWrapped(request, "article");
  if (body === undefined) return invalid("article can't be blank");
  const set: Partial<Article> = { updatedAt: Date.now() };
  for (const [field, max] of [
    ["title", 256],
    ["description", 1024],
    ["body", 64 * 1024],
  ] as const) {
    if (body[field] === undefined) continue;
    const value = requiredString(body, field, max);
    if ("error" in value) return invalid(value.error);
    set[field] = value.value;
  }
  try {
    const updated = await ctx.tables.articles.update(
      { slug: article.slug },
      { set },
      { ifVersion: article._version },
    );
    return Response.json({ article: await new Views(ctx, user.id).article(updated) });
  } catch (error) {
    if (isCairnError(error) && error.code === "condition_failed")
      return invalid("the article changed meanwhile: try again");
    throw error;
  }
});

/** DELETE /api/articles/:slug → 204: the author only; its favorites and comments go too. */
export const deleteArticle = http("DELETE /api/articles/:slug", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const article = await ctx.tables.articles.get({ slug: ctx.params.slug });
  if (article === undefined) return notFound("article");
  if (article.authorId !== user.id) return forbidden("only the author may delete an article");
  try {
    await ctx.tables.transact([
      { delete: { table: "articles", key: { slug: article.slug }, ifVersion: article._version } },
      {
        update: {
          table: "users",
          key: { id: user.id },
          changes: { increment: { articlesCount: -1 } },
          ifExists: true,
        },
      },
      { update: { table: "counters", key: { name: "articles" }, changes: { increment: { value: -1 } } } },
      ...article.tagList.flatMap((tag): TransactionOp[] => [
        { delete: { table: "taggings", key: { tag, slug: article.slug } } },
        { update: { table: "tags", key: { tag }, changes: { increment: { count: -1 } } } },
      ]),
    ]);
  } catch (error) {
    if (isCairnError(error) && error.code === "condition_failed")
      return invalid("the article changed meanwhile: try again");
    throw error;
  }
  await removeFavorites(ctx, article.slug);
  await removeComments(ctx, article.slug);
  return new Response(null, { status: 204 });
});

async function removeFavorites(ctx: Context, slug: string): Promise<void> {
  const favorites = [];
  for await (const favorite of each((cursor, limit) =>
    ctx.tables.favorites.query(slug, { index: "byArticle", cursor, limit }),
  )) {
    favorites.push(favorite);
  }
  for (let i = 0; i < favorites.length; i += 50) {
    await ctx.tables.transact(
      favorites.slice(i, i + 50).flatMap((favorite): TransactionOp[] => [
        { delete: { table: "favorites", key: { userId: favorite.userId, slug } } },
        {
          update: {
            table: "users",
            key: { id: favorite.userId },
            changes: { increment: { favoritesCount: -1 } },
            ifExists: true,
          },
        },
      ]),
    );
  }
}

async function removeComments(ctx: Context, slug: string): Promise<void> {
  for (;;) {
    const page = await ctx.tables.comments.query(slug, { limit: 100 });
    if (page.items.length === 0) return;
    await ctx.tables.transact(
      page.items.map((comment) => ({ delete: { table: "comments", key: { slug, id: comment.id } } })),
    );
  }
}

/** Tags trimmed, without duplicates, in alphabetical order; undefined when the list is not valid. */
function tagsOf(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) return undefined;
  const tags = new Set<string>();
  for (const tag of value) {
    if (typeof tag !== "string" || isObject(tag)) return undefined;
    const clean = tag.trim();
    if (clean.length === 0) continue;
    if (clean.length > 64) return undefined;
    tags.add(clean);
  }
  return tags.size > maxTags ? undefined : [...tags].sort();
}

/** "How to Train Your Dragon" → "how-to-train-your-dragon-k3x9q2": readable, and unique by its suffix. */
function slugFor(title: string): string {
  const base = title
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 80)
    .replace(/-+$/, "");
  const suffix = crypto.randomUUID().replace(/-/g, "").slice(0, 8);
  return base === "" ? suffix : `${base}-${suffix}`;
}
