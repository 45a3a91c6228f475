import { http } from "cairn";
import { userView } from "../../../../examples/realworld/functions/_lib/auth.js";

// The RealWorld route itself: GET /api/user through ctx.sessions.verify, then the user's row.
export { currentUser } from "../../../../examples/realworld/functions/users.js";
export { register } from "../../../../examples/realworld/functions/users.js";

/**
 * The same route without authentication: the same row read and the same answer, with the user id
 * and the token to echo taken from plain headers instead of a verified session.
 */
export const currentUserUnauthenticated = http("GET /api/user-unauthenticated", async (request, ctx) => {
  const user = await ctx.tables.users.get({ id: request.headers.get("x-user-id") ?? "" });
  if (user === undefined) return Response.json({ errors: { body: ["user not found"] } }, { status: 404 });
  return Response.json(userView(user, request.headers.get("x-token") ?? ""));
});
