/**
 * The sessions API (`ctx.sessions`): client-side state in a signed token that carries a session id,
 * checked on every request against the session's row in the durable store, so a token is cheap to
 * verify and still revocable at once. Everything here is also what runs inside instances.
 */
import type { Duration } from "../shared/duration.js";

/** Small JSON object kept in the session's row (never in the token). */
export type SessionData = Record<string, unknown>;

/** A verified session. */
export interface Session<Data extends SessionData = SessionData> {
  /** The session id (the token's `sid`). */
  id: string;
  /** Who the session belongs to (the token's `sub`), such as a user id. */
  subject: string;
  /** What `create` stored with the session. */
  data: Data;
  /** When the session was created, in ms since the epoch. */
  createdAt: number;
  /** When the token that was verified expires, in ms since the epoch. */
  expiresAt: number;
  /** The token that was verified (or issued). */
  token: string;
}

/** A session as listed: its row, without a token. */
export interface SessionInfo<Data extends SessionData = SessionData> {
  id: string;
  subject: string;
  data: Data;
  createdAt: number;
  /** When the session ends unless it is renewed, in ms since the epoch. */
  expiresAt: number;
}

export interface CreateSessionOptions {
  /** Lifetime of this session; at most the configured `ttl` (the default). */
  ttl?: Duration;
}

export interface CreatedSession<Data extends SessionData = SessionData> {
  token: string;
  session: Session<Data>;
}

export interface RenewOptions {
  /** Renew even when the token still has more than half of its lifetime left. */
  force?: boolean;
}

export interface RenewedSession<Data extends SessionData = SessionData> {
  /** Whether a new token was issued (the session's expiry moved). */
  renewed: boolean;
  /** The new token when renewed, else the one given. */
  token: string;
  session: Session<Data>;
}

export interface VerifyOptions {
  /** Answer `undefined` instead of failing with `token_missing` when the request carries no token. */
  optional?: boolean;
}

export interface CookieOptions {
  /** Seconds the browser keeps the cookie (default: the session ttl). */
  maxAge?: number;
}

/** A token carried in a request: `Authorization: Bearer <t>` or `Token <t>`, or the session cookie. */
export type TokenSource = Request | string;

export interface SignedStateOptions {
  /** Largest cookie value in bytes (default 3,072; at most 4,000). */
  maxBytes?: number;
  /** How long the cookie and the value stay valid (default 30 days). */
  ttl?: Duration;
  /** Cookie name (default `__Host-<name>`). */
  cookieName?: string;
}

/**
 * Small client-side state (a cart, preferences) in a signed cookie: the client holds it, cannot
 * change it without detection, and the server keeps nothing.
 */
export interface SignedState<T> {
  /** The state in the request; `undefined` when absent. A tampered or expired value fails with `state_invalid`. */
  read(request: Request): T | undefined;
  /** A `Set-Cookie` header value holding `value`; fails with `state_too_large` over `maxBytes`. */
  cookie(value: T): string;
  /** A `Set-Cookie` header value that removes the state. */
  clear(): string;
  /** The signed value alone (for a header or a body instead of a cookie). */
  seal(value: T): string;
  /** Check and decode a value from `seal`. */
  open(sealed: string): T;
}

export interface Sessions {
  /** Store a session for `subject` and issue its signed token (a JWT). */
  create<Data extends SessionData = SessionData>(
    subject: string,
    data?: Data,
    options?: CreateSessionOptions,
  ): Promise<CreatedSession<Data>>;
  /**
   * Check the token (signature, algorithm, key, issuer, audience, expiry, not-before) and that its
   * session is still active. Fails with a 401 CairnError: `token_missing`, `token_invalid`,
   * `token_expired`, `token_not_yet_valid` or `session_revoked`.
   */
  verify<Data extends SessionData = SessionData>(source: TokenSource): Promise<Session<Data>>;
  verify<Data extends SessionData = SessionData>(
    source: TokenSource,
    options: VerifyOptions & { optional: true },
  ): Promise<Session<Data> | undefined>;
  verify<Data extends SessionData = SessionData>(
    source: TokenSource,
    options?: VerifyOptions,
  ): Promise<Session<Data> | undefined>;
  /** Sliding renewal: verify, then move the expiry a full ttl ahead once half of it has passed. */
  renew<Data extends SessionData = SessionData>(
    source: TokenSource,
    options?: RenewOptions,
  ): Promise<RenewedSession<Data>>;
  /** End one session at once; resolves false when there was none. */
  revoke(sessionId: string): Promise<boolean>;
  /** End every session of a subject; resolves with how many ended. */
  revokeAll(subject: string): Promise<number>;
  /** The active sessions of a subject, newest first (at most 1,000). */
  list<Data extends SessionData = SessionData>(subject: string): Promise<Array<SessionInfo<Data>>>;
  /** The token a request carries (Authorization header first, then the session cookie). */
  tokenFrom(request: Request): string | undefined;
  /** A `Set-Cookie` value carrying the token: `__Host-` name, HttpOnly, Secure, SameSite=Lax, Path=/. */
  cookie(token: string, options?: CookieOptions): string;
  /** A `Set-Cookie` value that removes the session cookie. */
  clearCookie(): string;
  /** Signed client-side state under `name` (see SignedState). */
  state<T>(name: string, options?: SignedStateOptions): SignedState<T>;
}

/** The `sessions` section of cairn.config.ts. */
export interface SessionsConfig {
  /** Lifetime of a session and of its tokens (default "7d"). */
  ttl?: Duration;
  /** How often a new signing key is made (default "30d"); old keys verify until their tokens expire. */
  rotateEvery?: Duration;
  /** Signing algorithm: "EdDSA" (Ed25519, the default) or "ES256". */
  algorithm?: "EdDSA" | "ES256";
  /** The tokens' `iss` (default "cairn:<app>"). */
  issuer?: string;
  /** The tokens' `aud` (default the app's name). */
  audience?: string;
  /** Name of the session cookie (default "__Host-session"). */
  cookieName?: string;
  /** Clock difference tolerated on expiry and not-before (default "30s", at most "5m"). */
  clockSkew?: Duration;
  /** How long a node may answer from its cache of session rows (default "1s"; 0 turns it off). */
  cacheTtl?: Duration;
}
