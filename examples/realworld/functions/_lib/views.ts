import type { Context, Stored } from "cairn";
import type { Article, User } from "../../cairn.config.js";
import { iso } from "./http.js";

export interface ProfileView {
  username: string;
  bio: string;
  image: string;
  following: boolean;
}

/**
 * Builds responses for one request, remembering the users and follows it has read, so a page of
 * twenty articles by three authors reads three users, not twenty.
 */
export class Views {
  private readonly users = new Map<string, Promise<Stored<User> | undefined>>();
  private readonly follows = new Map<string, Promise<boolean>>();

  constructor(
    private readonly ctx: Context,
    /** The signed-in user's id, if any. */
    private readonly viewer: string | undefined,
  ) {}

  user(id: string): Promise<Stored<User> | undefined> {
    let user = this.users.get(id);
    if (user === undefined) {
      user = this.ctx.tables.users.get({ id });
      this.users.set(id, user);
    }
    return user;
  }

  following(id: string): Promise<boolean> {
    if (this.viewer === undefined || this.viewer === id) return Promise.resolve(false);
    let follows = this.follows.get(id);
    if (follows === undefined) {
      follows = this.ctx.tables.follows
        .get({ follower: this.viewer, followee: id })
        .then((found) => found !== undefined);
      this.follows.set(id, follows);
    }
    return follows;
  }

  async profile(user: User): Promise<ProfileView> {
    return {
      username: user.username,
      bio: user.bio,
      image: user.image,
      following: await this.following(user.id),
    };
  }

  async profileOf(id: string): Promise<ProfileView> {
    const user = await this.user(id);
    if (user === undefined) return { username: "[deleted]", bio: "", image: "", following: false };
    return this.profile(user);
  }

  async favorited(slug: string): Promise<boolean> {
    if (this.viewer === undefined) return false;
    return (await this.ctx.tables.favorites.get({ userId: this.viewer, slug })) !== undefined;
  }

  /** An article as Conduit shows it; lists leave out the body. */
  async article(article: Article, withBody = true) {
    const [author, favorited] = await Promise.all([
      this.profileOf(article.authorId),
      this.favorited(article.slug),
    ]);
    return {
      slug: article.slug,
      title: article.title,
      description: article.description,
      ...(withBody ? { body: article.body } : {}),
      tagList: article.tagList,
      createdAt: iso(article.createdAt),
      updatedAt: iso(article.updatedAt),
      favorited,
      favoritesCount: article.favoritesCount,
      author,
    };
  }
}
