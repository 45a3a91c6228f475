/**
 * `ctx.sessions` inside an instance. The signature of a token is checked here, with jose and the
 * public keys from the host (refreshed when a token names a key this instance has not seen), so the
 * host's main thread never spends time on it; each check then makes one host call, which judges the
 * time claims against the platform's clock and confirms that the session row is active.
 */
import { CairnError } from "../../sdk/errors.js";
import { parseDuration } from "../../shared/duration.js";
import type { SessionsSpec } from "../../sessions/spec.js";
import { createSignedState } from "../../sessions/signed-state.js";
import { serializeCookie, sessionError, tokenFromRequest } from "../../sessions/transport.js";
import type {
  CreatedSession,
  RenewedSession,
  Session,
  SessionData,
  SessionInfo,
  Sessions,
  TokenSource,
  VerifyOptions,
} from "../../sessions/types.js";
import { TokenVerifier, type PublicKeyEntry, type TokenClaims } from "../../sessions/verify-token.js";
import { registerClient, type HostCall } from "./index.js";

interface Row {
  id: string;
  subject: string;
  data: SessionData;
  createdAt: number;
  expiresAt: number;
}

export function createSessionsClient(spec: SessionsSpec, call: HostCall): Sessions {
  let keys: readonly PublicKeyEntry[] = spec.keys;
  const verifier = new TokenVerifier({
    issuer: spec.issuer,
    audience: spec.audience,
    keys: () => keys,
    refresh: async () => {
      keys = (await call("sessions.keys", [])) as PublicKeyEntry[];
      return keys;
    },
  });
  const secret = Buffer.from(spec.stateSecret, "base64url");

  const tokenOf = (source: TokenSource): string | undefined => {
    if (typeof source === "string") return source === "" ? undefined : source;
    // A Request, or anything with its headers (not instanceof Request: that loads the native class).
    if (typeof source === "object" && source !== null && "headers" in source) {
      return tokenFromRequest(source, spec.cookieName);
    }
    throw new CairnError("invalid_argument", "verify takes a Request or a token string");
  };

  const session = <Data extends SessionData>(
    row: Row,
    claims: { exp: number },
    token: string,
  ): Session<Data> => ({
    id: row.id,
    subject: row.subject,
    data: row.data as Data,
    createdAt: row.createdAt,
    expiresAt: claims.exp * 1000,
    token,
  });

  const claimArgs = (claims: TokenClaims) => [claims.sid, claims.sub, claims.exp, claims.iat, claims.nbf];

  const check = <Data extends SessionData>(claims: TokenClaims, token: string) =>
    call("sessions.check", claimArgs(claims)).then((json) =>
      session<Data>(JSON.parse(json as string) as Row, claims, token),
    );

  /** Not async: a token seen before costs one host call and no other promise (this is every request's path). */
  function verify<Data extends SessionData>(source: TokenSource, options?: VerifyOptions) {
    let token: string | undefined;
    try {
      token = tokenOf(source);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (token === undefined) {
      return options?.optional === true
        ? Promise.resolve(undefined)
        : Promise.reject(sessionError("token_missing"));
    }
    const known = verifier.known(token);
    if (known !== undefined) return check<Data>(known, token);
    const verified = token;
    return verifier.verify(verified).then((claims) => check<Data>(claims, verified));
  }

  return {
    async create<Data extends SessionData>(
      subject: string,
      data?: Data,
      options?: { ttl?: number | string },
    ) {
      const ttlMs = options?.ttl === undefined ? undefined : parseDuration(options.ttl, "ttl");
      // As JSON text, so nothing that postMessage could fail to clone crosses the thread boundary.
      let json: string | undefined;
      try {
        json = JSON.stringify(data ?? {});
      } catch {
        json = undefined;
      }
      if (typeof json !== "string")
        throw new CairnError("invalid_argument", "session data is a plain JSON object");
      const args = ttlMs === undefined ? [subject, json] : [subject, json, ttlMs];
      const { token, row, exp } = (await call("sessions.create", args)) as {
        token: string;
        row: Row;
        exp: number;
      };
      return { token, session: session<Data>(row, { exp }, token) } satisfies CreatedSession<Data>;
    },

    verify: verify as Sessions["verify"],

    async renew<Data extends SessionData>(source: TokenSource, options?: { force?: boolean }) {
      const token = tokenOf(source);
      if (token === undefined) throw sessionError("token_missing");
      const claims = await verifier.verify(token);
      const result = (await call("sessions.renew", [...claimArgs(claims), options?.force === true])) as {
        renewed: boolean;
        token?: string;
        row: Row;
        exp: number;
      };
      const next = result.token ?? token;
      return {
        renewed: result.renewed,
        token: next,
        session: session<Data>(result.row, result, next),
      } satisfies RenewedSession<Data>;
    },

    revoke: (sessionId) => call("sessions.revoke", [sessionId]) as Promise<boolean>,
    revokeAll: (subject) => call("sessions.revokeAll", [subject]) as Promise<number>,

    async list<Data extends SessionData>(subject: string) {
      const rows = (await call("sessions.list", [subject])) as Row[];
      return rows.map((row): SessionInfo<Data> => ({
        id: row.id,
        subject: row.subject,
        data: row.data as Data,
        createdAt: row.createdAt,
        expiresAt: row.expiresAt * 1000,
      }));
    },

    tokenFrom: (request) => tokenFromRequest(request, spec.cookieName),
    cookie: (token, options) => serializeCookie(spec.cookieName, token, options?.maxAge ?? spec.ttlSeconds),
    clearCookie: () => serializeCookie(spec.cookieName, "", 0),
    state: (name, options) => createSignedState(secret, name, options),
  };
}

registerClient("sessions", (spec, call) => createSessionsClient(spec as SessionsSpec, call));
