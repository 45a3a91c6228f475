import { http, isCairnError } from "cairn";
import type { Profile } from "../cairn.config.js";
import { cacheKey, problem, readJson } from "./_lib/http.js";

const handlePattern = /^[a-z0-9_]{2,32}$/;

/** POST /profiles { handle, name, bio } → 201, or 409 if the handle is taken. At most 10 a minute per client. */
export const createProfile = http("POST /profiles", async (request, ctx) => {
  const client = request.headers.get("x-forwarded-for") ?? "local";
  const limit = await ctx.cache.rateLimit(`create:${client}`, { limit: 10, window: "1m" });
  if (!limit.allowed) return problem(429, "rate_limited", "too many profiles created; try again in a minute");

  const body = await readJson(request);
  const handle = typeof body?.handle === "string" ? body.handle : "";
  if (!handlePattern.test(handle)) return problem(400, "invalid_handle", "handle: 2 to 32 of a-z, 0-9 and _");
  const now = Date.now();
  try {
    const profile = await ctx.tables.profiles.put(
      {
        handle,
        name: typeof body?.name === "string" ? body.name : handle,
        bio: typeof body?.bio === "string" ? body.bio : "",
        kind: "profile",
        createdAt: now,
        updatedAt: now,
      },
      { ifNotExists: true },
    );
    return Response.json(profile, { status: 201, headers: { etag: `"${profile._version}"` } });
  } catch (error) {
    if (isCairnError(error) && error.code === "condition_failed")
      return problem(409, "handle_taken", `@${handle} exists`);
    throw error;
  }
});

/** GET /profiles/:handle: read through the cache (x-cache: hit or miss). */
export const getProfile = http("GET /profiles/:handle", async (_request, ctx) => {
  const key = cacheKey(ctx.params.handle);
  const cached = await ctx.cache.get<Profile & { _version: number }>(key);
  if (cached) return Response.json(cached, { headers: { etag: `"${cached._version}"`, "x-cache": "hit" } });
  const profile = await ctx.tables.profiles.get({ handle: ctx.params.handle });
  if (!profile) return problem(404, "not_found", `no profile @${ctx.params.handle}`);
  await ctx.cache.set(key, profile, { ttl: "5m" });
  return Response.json(profile, { headers: { etag: `"${profile._version}"`, "x-cache": "miss" } });
});

/** PATCH /profiles/:handle with If-Match: "<version>" → the updated profile, or 412 if it changed meanwhile. */
export const updateProfile = http("PATCH /profiles/:handle", async (request, ctx) => {
  const ifMatch = request.headers.get("if-match");
  const version = ifMatch ? Number(ifMatch.replace(/"/g, "")) : NaN;
  if (!Number.isInteger(version))
    return problem(428, "precondition_required", 'send If-Match: "<version>" from the ETag');
  const body = await readJson(request);
  const set: Partial<Profile> = { updatedAt: Date.now() };
  if (typeof body?.name === "string") set.name = body.name;
  if (typeof body?.bio === "string") set.bio = body.bio;
  try {
    const profile = await ctx.tables.profiles.update(
      { handle: ctx.params.handle },
      { set },
      { ifVersion: version },
    );
    await ctx.cache.delete(cacheKey(ctx.params.handle));
    return Response.json(profile, { headers: { etag: `"${profile._version}"` } });
  } catch (error) {
    if (isCairnError(error) && error.code === "condition_failed") {
      return problem(
        412,
        "condition_failed",
        "the profile changed since you read it: read it again and retry",
      );
    }
    throw error;
  }
});

/** GET /profiles?cursor=... → { items, cursor }: newest first, 20 a page. */
export const listProfiles = http("GET /profiles", async (request, ctx) => {
  const cursor = new URL(request.url).searchParams.get("cursor") ?? undefined;
  const page = await ctx.tables.profiles.query("profile", {
    index: "newest",
    order: "desc",
    limit: 20,
    cursor,
  });
  return Response.json(page);
});
