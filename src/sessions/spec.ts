import type { PublicKeyEntry } from "./verify-token.js";

/** What instances get to build `ctx.sessions`: settings, the public keys, the state secret. */
export interface SessionsSpec {
  issuer: string;
  audience: string;
  cookieName: string;
  ttlSeconds: number;
  /** Updated in place when keys change, so instances started later get the current set. */
  keys: PublicKeyEntry[];
  /** base64url HMAC key for signed client-side state. */
  stateSecret: string;
}
