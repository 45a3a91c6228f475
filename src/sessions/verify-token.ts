/**
 * Checking a token's signature where the function runs (inside the instance, off the host's main
 * thread) with jose and the app's public keys. Time claims and the session row are the host's part
 * (one call, with the platform's clock); everything that only needs the token and the keys is here.
 */
import { compactVerify, decodeProtectedHeader, importJWK, type CryptoKey, type JWK } from "jose";
import { looksLikeToken, sessionError } from "./transport.js";

/** Only asymmetric algorithms: `none`, HMAC and RSA tokens are refused before any key is looked at. */
export const allowedAlgorithms = ["EdDSA", "ES256"] as const;
export type SigningAlgorithm = (typeof allowedAlgorithms)[number];

/** A public key as the host publishes it (and as the JWKS lists it). */
export interface PublicKeyEntry {
  kid: string;
  alg: SigningAlgorithm;
  jwk: JWK;
}

/** What a valid signature vouches for; expiry is judged by the host. */
export interface TokenClaims {
  sid: string;
  sub: string;
  iat: number;
  exp: number;
  nbf: number | undefined;
  kid: string;
}

export interface VerifierOptions {
  issuer: string;
  audience: string;
  /** The key set as known now. */
  keys: () => readonly PublicKeyEntry[];
  /** Ask for the current key set (an unknown kid may be a key another node just made). */
  refresh: () => Promise<readonly PublicKeyEntry[]>;
  /** Least time between two refreshes (default 1 s), so unknown kids cannot flood the host. */
  refreshIntervalMs?: number;
  /** Verified tokens remembered (default 10,000). */
  cacheSize?: number;
}

/**
 * Verifies signatures and remembers the tokens it verified: a token is the same bytes on every
 * request of a session, and checking an Ed25519 signature costs ~100 µs, so each token is checked
 * once per instance. The cache is keyed by the whole token, so it only ever answers for exactly the
 * bytes it verified; the time claims and the session row are still checked on every request.
 */
export class TokenVerifier {
  private readonly imported = new Map<string, Promise<CryptoKey>>();
  private readonly verified = new Map<string, TokenClaims>();
  private refreshing: Promise<readonly PublicKeyEntry[]> | undefined;
  private lastRefresh = -Infinity;

  constructor(private readonly options: VerifierOptions) {}

  /** The claims of a token this verifier has already verified, without any await. */
  known(token: string): TokenClaims | undefined {
    return this.verified.get(token);
  }

  async verify(token: string): Promise<TokenClaims> {
    const known = this.verified.get(token);
    if (known !== undefined) return known;
    if (typeof token !== "string" || !looksLikeToken(token)) throw sessionError("token_invalid");
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw sessionError("token_invalid");
    }
    const alg = header.alg;
    const kid = header.kid;
    if (typeof alg !== "string" || !(allowedAlgorithms as readonly string[]).includes(alg))
      throw sessionError("token_invalid");
    if (typeof kid !== "string" || kid.length === 0 || kid.length > 128) throw sessionError("token_invalid");
    if (header.typ !== undefined && header.typ !== "JWT") throw sessionError("token_invalid");
    const entry = await this.keyFor(kid);
    if (entry === undefined || entry.alg !== alg) throw sessionError("token_invalid");
    let payload: Uint8Array;
    try {
      const key = await this.importKey(entry);
      ({ payload } = await compactVerify(token, key, { algorithms: [entry.alg] }));
    } catch {
      throw sessionError("token_invalid");
    }
    const claims = this.claims(payload, kid);
    this.remember(token, claims);
    return claims;
  }

  /** Forget verified tokens (for tests, or when the key set changes). */
  clear(): void {
    this.verified.clear();
  }

  private claims(payload: Uint8Array, kid: string): TokenClaims {
    let parsed: unknown;
    try {
      parsed = JSON.parse(new TextDecoder().decode(payload));
    } catch {
      throw sessionError("token_invalid");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw sessionError("token_invalid");
    const c = parsed as Record<string, unknown>;
    const { issuer, audience } = this.options;
    const audienceOk = c.aud === audience || (Array.isArray(c.aud) && c.aud.includes(audience));
    if (
      c.iss !== issuer ||
      !audienceOk ||
      !isId(c.sid) ||
      typeof c.sub !== "string" ||
      c.sub.length === 0 ||
      !isTime(c.exp) ||
      !isTime(c.iat) ||
      (c.nbf !== undefined && !isTime(c.nbf))
    ) {
      throw sessionError("token_invalid");
    }
    return { sid: c.sid, sub: c.sub, iat: c.iat, exp: c.exp, nbf: c.nbf, kid };
  }

  private async keyFor(kid: string): Promise<PublicKeyEntry | undefined> {
    const found = this.options.keys().find((key) => key.kid === kid);
    if (found !== undefined) return found;
    const keys = await this.refreshKeys();
    return keys.find((key) => key.kid === kid);
  }

  private refreshKeys(): Promise<readonly PublicKeyEntry[]> {
    if (this.refreshing !== undefined) return this.refreshing;
    const now = performance.now();
    if (now - this.lastRefresh < (this.options.refreshIntervalMs ?? 1000))
      return Promise.resolve(this.options.keys());
    this.lastRefresh = now;
    this.refreshing = this.options.refresh().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private importKey(entry: PublicKeyEntry): Promise<CryptoKey> {
    let key = this.imported.get(entry.kid);
    if (key === undefined) {
      key = importJWK(entry.jwk, entry.alg) as Promise<CryptoKey>;
      this.imported.set(entry.kid, key);
      key.catch(() => this.imported.delete(entry.kid));
    }
    return key;
  }

  private remember(token: string, claims: TokenClaims): void {
    const limit = this.options.cacheSize ?? 10_000;
    if (this.verified.size >= limit) {
      // Drop the oldest tenth (a Map iterates in insertion order).
      let drop = Math.max(1, Math.floor(limit / 10));
      for (const key of this.verified.keys()) {
        this.verified.delete(key);
        if (--drop === 0) break;
      }
    }
    this.verified.set(token, claims);
  }
}

/** Session ids are 22 base64url characters (128 random bits); accept a little more for the future. */
function isId(value: unknown): value is string {
  return typeof value === "string" && /^[A-Za-z0-9_-]{16,64}$/.test(value);
}

function isTime(value: unknown): value is number {
  return typeof value === "number" && Number.isFinite(value) && value >= 0;
}
