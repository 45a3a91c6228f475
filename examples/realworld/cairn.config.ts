import { defineConfig, table } from "cairn";

/**
 * The Conduit (RealWorld) backend's data. Every request path reads items by key or queries one
 * partition of a table or index; nothing scans. Uniqueness (usernames, emails) comes from claim
 * tables written in the same transaction as the user; counts shown to clients are kept in the
 * items they belong to and changed in the same transaction as what they count.
 */
export type User = {
  id: string;
  username: string;
  email: string;
  passwordHash: string;
  bio: string;
  image: string;
  /** Articles written (articlesCount of ?author=). */
  articlesCount: number;
  /** Articles favorited (articlesCount of ?favorited=). */
  favoritesCount: number;
  createdAt: number;
};

/** A unique name (a lowercased username or email) and the user holding it. */
export type Claim = {
  key: string;
  userId: string;
};

export type Follow = {
  follower: string;
  followee: string;
  at: number;
};

export type Article = {
  slug: string;
  authorId: string;
  title: string;
  description: string;
  body: string;
  tagList: string[];
  createdAt: number;
  updatedAt: number;
  favoritesCount: number;
  /** Constant "all": the partition of the global newest-first index. */
  feed: "all";
};

/** One tag on one article, for the newest-first list of a tag's articles. */
export type Tagging = {
  tag: string;
  slug: string;
  createdAt: number;
};

export type Tag = {
  tag: string;
  /** Constant "tag": the partition of the most-used index. */
  kind: "tag";
  count: number;
};

export type Favorite = {
  userId: string;
  slug: string;
  at: number;
};

export type Comment = {
  slug: string;
  id: number;
  authorId: string;
  body: string;
  createdAt: number;
  updatedAt: number;
};

export type Counter = {
  name: string;
  value: number;
};

const config = defineConfig({
  tables: {
    users: table<User>({ partitionKey: "id" }),
    usernames: table<Claim>({ partitionKey: "key" }),
    emails: table<Claim>({ partitionKey: "key" }),
    // Who a user follows (the table) and who follows a user (the index).
    follows: table<Follow>({
      partitionKey: "follower",
      sortKey: "followee",
      indexes: { byFollowee: { partitionKey: "followee", sortKey: "follower" } },
    }),
    articles: table<Article>({
      partitionKey: "slug",
      indexes: {
        byAuthor: { partitionKey: "authorId", sortKey: "createdAt" },
        latest: { partitionKey: "feed", sortKey: "createdAt" },
      },
    }),
    taggings: table<Tagging>({
      partitionKey: "tag",
      sortKey: "slug",
      indexes: { latest: { partitionKey: "tag", sortKey: "createdAt" } },
    }),
    tags: table<Tag>({
      partitionKey: "tag",
      indexes: { byCount: { partitionKey: "kind", sortKey: "count" } },
    }),
    // A user's favorites (by article, and newest first) and an article's favoriters.
    favorites: table<Favorite>({
      partitionKey: "userId",
      sortKey: "slug",
      indexes: {
        byUser: { partitionKey: "userId", sortKey: "at" },
        byArticle: { partitionKey: "slug", sortKey: "userId" },
      },
    }),
    comments: table<Comment>({ partitionKey: "slug", sortKey: "id" }),
    counters: table<Counter>({ partitionKey: "name" }),
  },
  sessions: { ttl: "7d", rotateEvery: "30d" },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
