import { hashPassword, http, isCairnError, verifyPassword, type TransactionOp } from "cairn";
import type { User } from "../cairn.config.js";
import { requireUser, userView } from "./_lib/auth.js";
import { invalid, errors, readWrapped, requiredString } from "./_lib/http.js";

const usernamePattern = /^[A-Za-z0-9_.-]{1,64}$/;
const emailPattern = /^[^\s@]+@[^\s@]+$/;

/** POST /api/users { user: { username, email, password } } → 201 with a token. */
export const register = http("POST /api/users", async (request, ctx) => {
  const body = await readWrapped(request, "user");
  if (body === undefined) return invalid("user can't be blank");
  const username = requiredString(body, "username", 64);
  const email = requiredString(body, "email", 254);
  const password = requiredString(body, "password", 256);
  const problems = [username, email, password].flatMap((field) => ("error" in field ? [field.error] : []));
  if ("error" in username || "error" in email || "error" in password) return invalid(...problems);
  if (!usernamePattern.test(username.value)) return invalid("username may use letters, digits, _ . and -");
  if (!emailPattern.test(email.value)) return invalid("email is invalid");

  const user: User = {
    id: crypto.randomUUID(),
    username: username.value,
    email: email.value,
    passwordHash: await hashPassword(password.value),
    bio: "",
    image: "",
    articlesCount: 0,
    favoritesCount: 0,
    createdAt: Date.now(),
  };
  try {
    await ctx.tables.transact([
      {
        put: {
          table: "usernames",
          item: { key: user.username.toLowerCase(), userId: user.id },
          ifNotExists: true,
        },
      },
      {
        put: { table: "emails", item: { key: user.email.toLowerCase(), userId: user.id }, ifNotExists: true },
      },
      { put: { table: "users", item: { ...user }, ifNotExists: true } },
    ]);
  } catch (error) {
    if (isCairnError(error) && error.code === "condition_failed") {
      return invalid(
        error.details?.operation === 0 ? "username has already been taken" : "email has already been taken",
      );
    }
    throw error;
  }
  const { token } = await ctx.sessions.create(user.id);
  return Response.json(userView(user, token), { status: 201 });
});

/** POST /api/users/login { user: { email, password } } → the user with a new session's token. */
export const login = http("POST /api/users/login", async (request, ctx) => {
  const body = await readWrapped(request, "user");
  const email = body?.email;
  const password = body?.password;
  if (typeof email !== "string" || typeof password !== "string" || email === "" || password === "") {
    return invalid("email and password can't be blank");
  }
  const claim = await ctx.tables.emails.get({ key: email.trim().toLowerCase() });
  const user = claim === undefined ? undefined : await ctx.tables.users.get({ id: claim.userId });
  // Hash even for an unknown email, so the answer takes as long either way.
  const hash = user?.passwordHash ?? (await decoyHash());
  if (!(await verifyPassword(password, hash)) || user === undefined)
    return errors(401, "email or password is invalid");
  const { token } = await ctx.sessions.create(user.id);
  return Response.json(userView(user, token));
});

let decoy: Promise<string> | undefined;
function decoyHash(): Promise<string> {
  decoy ??= hashPassword(crypto.randomUUID());
  return decoy;
}

/** GET /api/user → the signed-in user (with the token that was sent). */
export const currentUser = http("GET /api/user", async (request, ctx) => {
  const { session, user } = await requireUser(request, ctx);
  return Response.json(userView(user, session.token));
});

/**
 * PUT /api/user { user: { email?, username?, password?, bio?, image? } }. A new username or email
 * moves its claim in the same transaction; a new password ends every session of the user and
 * answers with a fresh token.
 */
export const updateUser = http("PUT /api/user", async (request, ctx) => {
  const { session, user } = await requireUser(request, ctx);
  const body = await readWrapped(request, "user");
  if (body === undefined) return invalid("user can't be blank");
  const set: Partial<User> = {};
  const ops: TransactionOp[] = [];
  for (const field of ["bio", "image"] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (value !== null && typeof value !== "string") return invalid(`${field} must be a string`);
    set[field] = value ?? "";
  }
  if (body.username !== undefined && body.username !== user.username) {
    const username = requiredString(body, "username", 64);
    if ("error" in username) return invalid(username.error);
    if (!usernamePattern.test(username.value)) return invalid("username may use letters, digits, _ . and -");
    set.username = username.value;
    ops.push(...moveClaim("usernames", user.username, username.value, user.id));
  }
  if (body.email !== undefined && body.email !== user.email) {
    const email = requiredString(body, "email", 254);
    if ("error" in email) return invalid(email.error);
    if (!emailPattern.test(email.value)) return invalid("email is invalid");
    set.email = email.value;
    ops.push(...moveClaim("emails", user.email, email.value, user.id));
  }
  let newPassword = false;
  if (body.password !== undefined) {
    const password = requiredString(body, "password", 256);
    if ("error" in password) return invalid(password.error);
    set.passwordHash = await hashPassword(password.value);
    newPassword = true;
  }
  ops.push({ update: { table: "users", key: { id: user.id }, changes: { set }, ifExists: true } });
  try {
    await ctx.tables.transact(ops);
  } catch (error) {
    if (isCairnError(error) && error.code === "condition_failed")
      return invalid("username or email has already been taken");
    throw error;
  }
  let token = session.token;
  if (newPassword) {
    await ctx.sessions.revokeAll(user.id);
    token = (await ctx.sessions.create(user.id)).token;
  }
  return Response.json(userView({ ...user, ...set }, token));
});

function moveClaim(table: "usernames" | "emails", from: string, to: string, userId: string): TransactionOp[] {
  const ops: TransactionOp[] = [];
  if (from.toLowerCase() !== to.toLowerCase()) {
    ops.push({ delete: { table, key: { key: from.toLowerCase() } } });
    ops.push({ put: { table, item: { key: to.toLowerCase(), userId }, ifNotExists: true } });
  }
  return ops;
}

/** POST /api/users/logout (not in the Conduit spec): ends the current session at once. */
export const logout = http("POST /api/users/logout", async (request, ctx) => {
  const session = await ctx.sessions.verify(request);
  await ctx.sessions.revoke(session.id);
  return new Response(null, { status: 204 });
});

/** GET /api/user/sessions (not in the spec): the signed-in user's active sessions. */
export const listSessions = http("GET /api/user/sessions", async (request, ctx) => {
  const { session, user } = await requireUser(request, ctx);
  const sessions = await ctx.sessions.list(user.id);
  return Response.json({
    sessions: sessions.map((s) => ({
      id: s.id,
      current: s.id === session.id,
      createdAt: new Date(s.createdAt).toISOString(),
      expiresAt: new Date(s.expiresAt).toISOString(),
    })),
  });
});

/** DELETE /api/user/sessions (not in the spec): signs the user out everywhere. */
export const revokeSessions = http("DELETE /api/user/sessions", async (request, ctx) => {
  const { user } = await requireUser(request, ctx);
  const revoked = await ctx.sessions.revokeAll(user.id);
  return Response.json({ revoked });
});
