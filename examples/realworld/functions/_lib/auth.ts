import { CairnError, type Context, type Session } from "cairn";
import type { User } from "../../cairn.config.js";

export interface Viewer {
  session: Session;
  user: User;
}

/**
 * The signed-in user, from `Authorization: Token <jwt>` (the Conduit scheme) through ctx.sessions:
 * the token's signature, key, issuer, audience and expiry, and that its session is still active.
 * Any failure propagates as a 401 CairnError (token_missing, token_invalid, token_expired,
 * session_revoked, ...), which Cairn answers as JSON.
 */
export async function requireUser(request: Request, ctx: Context): Promise<Viewer> {
  const session = await ctx.sessions.verify(request);
  return { session, user: await userOf(session, ctx) };
}

/** The same for routes where signing in is optional: undefined without a token, 401 for a bad one. */
export async function optionalUser(request: Request, ctx: Context): Promise<Viewer | undefined> {
  const session = await ctx.sessions.verify(request, { optional: true });
  return session === undefined ? undefined : { session, user: await userOf(session, ctx) };
}

async function userOf(session: Session, ctx: Context): Promise<User> {
  const user = await ctx.tables.users.get({ id: session.subject });
  // A session whose user is gone is over.
  if (user === undefined)
    throw new CairnError("session_revoked", "the session has ended: sign in again", { status: 401 });
  return user;
}

/** The user as /api/user and the login routes answer. */
export function userView(user: User, token: string) {
  return { user: { email: user.email, token, username: user.username, bio: user.bio, image: user.image } };
}
