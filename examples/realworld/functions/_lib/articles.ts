import type { Context, Stored } from "cairn";
import type { Article } from "../../cairn.config.js";
import { each, first, type Reader } from "./pages.js";
import { userByName } from "./users.js";

export interface ArticleQuery {
  tag?: string;
  author?: string;
  favorited?: string;
  limit: number;
  offset: number;
}

/**
 * GET /api/articles: newest first, by one of four indexes (the author's articles, the user's
 * favorites, the tag's taggings, or all articles), with counts kept beside them. A query with
 * several filters reads the most selective index and checks the others on each article.
 */
export async function listArticles(
  ctx: Context,
  query: ArticleQuery,
): Promise<{ articles: Array<Stored<Article>>; count: number }> {
  const none = { articles: [], count: 0 };
  const author = query.author === undefined ? undefined : await userByName(ctx, query.author);
  const fan = query.favorited === undefined ? undefined : await userByName(ctx, query.favorited);
  if (
    (query.author !== undefined && author === undefined) ||
    (query.favorited !== undefined && fan === undefined)
  )
    return none;

  let source: AsyncGenerator<Stored<Article>>;
  let count: number | undefined;
  const filters = [query.author, query.favorited, query.tag].filter((f) => f !== undefined).length;
  if (author !== undefined) {
    source = each((cursor, limit) =>
      ctx.tables.articles.query(author.id, { index: "byAuthor", order: "desc", cursor, limit }),
    );
    count = author.articlesCount;
  } else if (fan !== undefined) {
    source = bySlugs(ctx, (cursor, limit) =>
      ctx.tables.favorites.query(fan.id, { index: "byUser", order: "desc", cursor, limit }),
    );
    count = fan.favoritesCount;
  } else if (query.tag !== undefined) {
    const tag = query.tag;
    source = bySlugs(ctx, (cursor, limit) =>
      ctx.tables.taggings.query(tag, { index: "latest", order: "desc", cursor, limit }),
    );
    count = (await ctx.tables.tags.get({ tag }))?.count ?? 0;
  } else {
    source = each((cursor, limit) =>
      ctx.tables.articles.query("all", { index: "latest", order: "desc", cursor, limit }),
    );
    count = (await ctx.tables.counters.get({ name: "articles" }))?.value ?? 0;
  }
  if (filters > 1) count = undefined;

  const matches = async (article: Article) => {
    if (author !== undefined && article.authorId !== author.id) return false;
    if (query.tag !== undefined && !article.tagList.includes(query.tag)) return false;
    if (
      fan !== undefined &&
      (await ctx.tables.favorites.get({ userId: fan.id, slug: article.slug })) === undefined
    )
      return false;
    return true;
  };
  const articles: Array<Stored<Article>> = [];
  let seen = 0;
  for await (const article of source) {
    if (!(await matches(article))) continue;
    if (seen >= query.offset && articles.length < query.limit) articles.push(article);
    seen++;
    // With a kept count, stop as soon as the page is full; otherwise read on to count.
    if (count !== undefined && articles.length >= query.limit) break;
  }
  return { articles, count: count ?? seen };
}

/** Articles named by a newest-first list of slugs (taggings, favorites); missing ones are skipped. */
async function* bySlugs(ctx: Context, read: Reader<{ slug: string }>): AsyncGenerator<Stored<Article>> {
  let batch: string[] = [];
  const flush = async () => {
    const found = await Promise.all(batch.map((slug) => ctx.tables.articles.get({ slug })));
    batch = [];
    return found.filter((article) => article !== undefined);
  };
  for await (const item of each(read, 20)) {
    batch.push(item.slug);
    if (batch.length >= 20) yield* await flush();
  }
  if (batch.length > 0) yield* await flush();
}

/**
 * GET /api/articles/feed: the newest articles of the authors the user follows. Each followed author's
 * newest offset+limit articles are read from the byAuthor index and merged; the count is the sum of
 * their articlesCount. Cost grows with the number of followed authors; a large deployment would fan
 * out on write into a per-user feed table instead.
 */
export async function feed(ctx: Context, userId: string, limit: number, offset: number) {
  const follows = await first(
    (cursor, size) => ctx.tables.follows.query(userId, { cursor, limit: size }),
    1000,
  );
  const perAuthor = await Promise.all(
    follows.map(async ({ followee }) => {
      const [articles, user] = await Promise.all([
        first(
          (cursor, size) =>
            ctx.tables.articles.query(followee, { index: "byAuthor", order: "desc", cursor, limit: size }),
          offset + limit,
        ),
        ctx.tables.users.get({ id: followee }),
      ]);
      return { articles, count: user?.articlesCount ?? 0 };
    }),
  );
  const merged = perAuthor.flatMap((entry) => entry.articles).sort((a, b) => b.createdAt - a.createdAt);
  return {
    articles: merged.slice(offset, offset + limit),
    count: perAuthor.reduce((sum, entry) => sum + entry.count, 0),
  };
}
