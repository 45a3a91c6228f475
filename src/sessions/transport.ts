/**
 * How tokens travel: the Authorization header (`Bearer` or, as the Conduit API has it, `Token`) or
 * the session cookie, and the errors every failed check ends in. Runs in instances and on the host.
 */
import { CairnError } from "../sdk/errors.js";

/** Every way a session check fails: a 401 with one of these codes and a short, fixed message. */
const messages = {
  token_missing: "no session token: send Authorization: Bearer <token> or the session cookie",
  token_invalid: "the session token is not valid",
  token_expired: "the session token has expired",
  token_not_yet_valid: "the session token is not valid yet",
  session_revoked: "the session has ended: sign in again",
} as const;

export type SessionErrorCode = keyof typeof messages;

/** Never says more than the code and its message: why a token failed stays on the server. */
export function sessionError(code: SessionErrorCode): CairnError {
  return new CairnError(code, messages[code], { status: 401 });
}

/** Compact JWS: three base64url parts. Anything else is refused before it reaches a parser. */
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
export const maxTokenLength = 4096;

export function looksLikeToken(token: string): boolean {
  return token.length <= maxTokenLength && compactJws.test(token);
}

/** The token a request carries: the Authorization header first, then the cookie. */
export function tokenFromRequest(request: Request, cookieName: string): string | undefined {
  const authorization = request.headers.get("authorization");
  if (authorization !== null && authorization !== "") {
    const space = authorization.indexOf(" ");
    const scheme = (space === -1 ? authorization : authorization.slice(0, space)).toLowerCase();
    if (scheme === "bearer" || scheme === "token") {
      const token = authorization.slice(space + 1).trim();
      if (space !== -1 && token !== "") return token;
    }
  }
  return readCookie(request.headers.get("cookie"), cookieName);
}

/** One cookie's value from a Cookie header, or undefined. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (header === null || header === "") return undefined;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const eq = header.indexOf("=", start);
    if (eq !== -1 && eq < end && header.slice(start, eq).trim() === name) {
      let value = header.slice(eq + 1, end).trim();
      if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
      return value;
    }
    start = end + 1;
  }
  return undefined;
}

const cookieName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const cookieValue = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

export function isCookieName(name: string): boolean {
  return cookieName.test(name);
}

/**
 * A Set-Cookie value that only this origin over HTTPS can receive and scripts cannot read:
 * HttpOnly, Secure, SameSite=Lax, Path=/ and no Domain (what a `__Host-` name requires). Browsers
 * treat http://localhost as secure, so this works in development too.
 */
export function serializeCookie(name: string, value: string, maxAgeSeconds: number): string {
  if (!isCookieName(name)) throw new CairnError("invalid_argument", `"${name}" is not a valid cookie name`);
  if (!cookieValue.test(value))
    throw new CairnError("invalid_argument", 'a cookie value must be plain ASCII without ; , " or spaces');
  const maxAge = Math.max(0, Math.floor(maxAgeSeconds));
  return `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; Secure; SameSite=Lax`;
}
