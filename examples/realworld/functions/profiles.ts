import { http } from "cairn";
import { optionalUser, requireUser } from "./_lib/auth.js";
import { invalid, notFound } from "./_lib/http.js";
import { userByName } from "./_lib/users.js";
import { Views } from "./_lib/views.js";

/** GET /api/profiles/:username (signing in optional: it adds `following`). */
export const getProfile = http("GET /api/profiles/:username", async (request, ctx) => {
  const viewer = await optionalUser(request, ctx);
  const user = await userByName(ctx, ctx.params.username);
  if (user === undefined) return notFound("profile");
  return Response.json({ profile: await new Views(ctx, viewer?.user.id).profile(user) });
});

/** POST /api/profiles/:username/follow → the profile, following. Following twice is the same as once. */
export const follow = http("POST /api/profiles/:username/follow", async (request, ctx) => {
  const { user: me } = await requireUser(request, ctx);
  const user = await userByName(ctx, ctx.params.username);
  if (user === undefined) return notFound("profile");
  if (user.id === me.id) return invalid("you cannot follow yourself");
  await ctx.tables.follows.put({ follower: me.id, followee: user.id, at: Date.now() });
  return Response.json({
    profile: { username: user.username, bio: user.bio, image: user.image, following: true },
  });
});

/** DELETE /api/profiles/:username/follow → the profile, not following. */
export const unfollow = http("DELETE /api/profiles/:username/follow", async (request, ctx) => {
  const { user: me } = await requireUser(request, ctx);
  const user = await userByName(ctx, ctx.params.username);
  if (user === undefined) return notFound("profile");
  await ctx.tables.follows.delete({ follower: me.id, followee: user.id });
  return Response.json({
    profile: { username: user.username, bio: user.bio, image: user.image, following: false },
  });
});
