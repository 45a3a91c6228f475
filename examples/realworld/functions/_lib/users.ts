import type { Context, Stored } from "cairn";
import type { User } from "../../cairn.config.js";

/** A user by username (case-insensitive), through the usernames claim table: two gets, no scan. */
export async function userByName(ctx: Context, username: string): Promise<Stored<User> | undefined> {
  if (username.length === 0 || username.length > 64) return undefined;
  const claim = await ctx.tables.usernames.get({ key: username.toLowerCase() });
  return claim === undefined ? undefined : ctx.tables.users.get({ id: claim.userId });
}
