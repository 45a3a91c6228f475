/**
 * Session rows in the system table `_sessions` (keyed by session id, indexed by subject, with a TTL)
 * and the host's half of every check: the time claims against the platform's clock, then the row.
 * A missing row means the session was revoked: a row always outlives its tokens.
 */
import { randomBytes } from "node:crypto";
import { SignJWT } from "jose";
import { CairnError, isCairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { Tables } from "../tables/tables.js";
import type { TableDefinition, TransactionOp } from "../tables/types.js";
import type { SessionSettings } from "./config.js";
import type { KeyRing } from "./keys.js";
import type { RowCache } from "./row-cache.js";
import { sessionError } from "./transport.js";
import type { SessionData } from "./types.js";

export const sessionsTable = "_sessions";
export const sessionsTableDefinition: TableDefinition = {
  partitionKey: "id",
  indexes: { bySubject: { partitionKey: "subject", sortKey: "createdAt" } },
  ttl: "expiresAt",
};

export const sessionLimits = { subjectLength: 256, dataBytes: 16 * 1024, listed: 1000 } as const;

export interface SessionRow {
  id: string;
  subject: string;
  data: SessionData;
  /** ms since the epoch. */
  createdAt: number;
  /** Epoch seconds: the newest token's expiry plus the clock skew. */
  expiresAt: number;
  /** Lifetime of the session's tokens in seconds (renewal issues tokens this long). */
  ttl: number;
  [attribute: string]: unknown;
}

/** Claims the instance verified the signature of; the host judges time and the row. */
export interface CheckedClaims {
  sid: string;
  sub: string;
  exp: number;
  iat: number;
  nbf: number | undefined;
}

export interface Issued {
  token: string;
  row: SessionRow;
  /** The token's expiry in epoch seconds. */
  exp: number;
}

export class SessionRows {
  constructor(
    private readonly tables: Tables,
    private readonly settings: SessionSettings,
    private readonly clock: Clock,
    private readonly ring: KeyRing,
    private readonly cache: RowCache,
  ) {}

  async create(subject: unknown, data: unknown, ttlMs: unknown): Promise<Issued> {
    checkSubject(subject);
    const payload = checkData(data);
    const lifetime = ttlMs === undefined || ttlMs === null ? this.settings.ttlMs : Number(ttlMs);
    if (!Number.isFinite(lifetime) || lifetime < 1000 || lifetime > this.settings.ttlMs) {
      throw new CairnError(
        "invalid_argument",
        "a session's ttl is from 1s up to the configured sessions.ttl",
      );
    }
    await this.ring.signingKey(); // rotates first when due, so the row's time is after the rotation
    const now = this.clock.now();
    const iat = Math.floor(now / 1000);
    const ttl = Math.ceil(lifetime / 1000);
    const exp = iat + ttl;
    const row: SessionRow = {
      id: randomBytes(16).toString("base64url"),
      subject,
      data: payload,
      createdAt: now,
      expiresAt: exp + this.skewSeconds,
      ttl,
    };
    await this.tables.put(sessionsTable, row, { ifNotExists: true });
    return { token: await this.sign(row, iat, exp), row, exp };
  }

  /** The row's JSON when the claims are current and the session is active; else a 401. */
  async check(claims: CheckedClaims): Promise<string> {
    this.checkTimes(claims);
    const cached = this.cache.get(claims.sid);
    if (cached !== undefined && cached.expiresAt * 1000 > this.clock.now()) {
      if (cached.subject !== claims.sub) throw sessionError("token_invalid");
      return cached.json;
    }
    const stored = await this.tables.getRow(sessionsTable, { id: claims.sid });
    if (stored === undefined) throw sessionError("session_revoked");
    const row = JSON.parse(stored.data) as SessionRow;
    if (row.subject !== claims.sub) throw sessionError("token_invalid");
    this.cache.set(claims.sid, stored.data, row.subject, row.expiresAt, this.settings.cacheTtlMs);
    return stored.data;
  }

  /** Sliding renewal: a new token (same session) once half of the token's lifetime has passed. */
  async renew(
    claims: CheckedClaims,
    force: boolean,
  ): Promise<{ renewed: boolean; row: SessionRow; exp: number; token?: string }> {
    const row = JSON.parse(await this.check(claims)) as SessionRow;
    const now = this.clock.now();
    const ttl = typeof row.ttl === "number" ? row.ttl : Math.ceil(this.settings.ttlMs / 1000);
    if (!force && claims.exp * 1000 - now > (ttl * 1000) / 2) return { renewed: false, row, exp: claims.exp };
    const iat = Math.floor(this.clock.now() / 1000);
    const exp = iat + ttl;
    this.cache.delete(row.id);
    let updated: SessionRow;
    try {
      updated = (await this.tables.update(
        sessionsTable,
        { id: row.id },
        { set: { expiresAt: Math.max(row.expiresAt, exp + this.skewSeconds) } },
        { ifExists: true },
      )) as unknown as SessionRow;
    } catch (error) {
      if (isCairnError(error) && error.code === "condition_failed") throw sessionError("session_revoked");
      throw error;
    }
    this.cache.delete(row.id);
    const { _version: _ignored, ...clean } = updated as SessionRow & { _version?: number };
    return { renewed: true, row: clean, exp, token: await this.sign(row, iat, exp) };
  }

  async revoke(id: unknown): Promise<boolean> {
    if (typeof id !== "string" || id.length === 0 || id.length > 128) {
      throw new CairnError("invalid_argument", "revoke takes a session id (a string)");
    }
    this.cache.delete(id);
    const deleted = await this.tables.delete(sessionsTable, { id });
    this.cache.delete(id);
    return deleted;
  }

  /** Delete every session of the subject, a transaction of up to 100 at a time. */
  async revokeAll(subject: unknown): Promise<number> {
    checkSubject(subject);
    let count = 0;
    for (;;) {
      const page = await this.tables.query(sessionsTable, subject, { index: "bySubject", limit: 100 });
      if (page.items.length === 0) return count;
      const ids = page.items.map((item) => item.id as string);
      for (const id of ids) this.cache.delete(id);
      const ops: TransactionOp[] = ids.map((id) => ({ delete: { table: sessionsTable, key: { id } } }));
      const results = await this.tables.transact(ops);
      for (const id of ids) this.cache.delete(id);
      count += results.filter((deleted) => deleted === true).length;
    }
  }

  async list(subject: unknown): Promise<SessionRow[]> {
    checkSubject(subject);
    const page = await this.tables.queryRows(sessionsTable, subject, {
      index: "bySubject",
      order: "desc",
      limit: sessionLimits.listed,
    });
    return page.items.map((item) => {
      const row = JSON.parse(item.data) as SessionRow;
      return { ...row, expiresAt: row.expiresAt - this.skewSeconds };
    });
  }

  private get skewSeconds(): number {
    return Math.ceil(this.settings.clockSkewMs / 1000);
  }

  private checkTimes(claims: CheckedClaims): void {
    const now = this.clock.now();
    const skew = this.settings.clockSkewMs;
    if (claims.exp * 1000 + skew <= now) throw sessionError("token_expired");
    if (claims.nbf !== undefined && claims.nbf * 1000 - skew > now) throw sessionError("token_not_yet_valid");
    if (claims.iat * 1000 - skew > now) throw sessionError("token_not_yet_valid");
  }

  private async sign(row: SessionRow, iat: number, exp: number): Promise<string> {
    const signer = await this.ring.signingKey();
    return new SignJWT({ sid: row.id })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: "JWT" })
      .setSubject(row.subject)
      .setIssuer(this.settings.issuer)
      .setAudience(this.settings.audience)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(exp)
      .sign(signer.key);
  }
}

function checkSubject(subject: unknown): asserts subject is string {
  if (typeof subject !== "string" || subject.length === 0 || subject.length > sessionLimits.subjectLength) {
    throw new CairnError(
      "invalid_argument",
      `a session subject is a string of 1 to ${sessionLimits.subjectLength} characters`,
    );
  }
}

function checkData(data: unknown): SessionData {
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch {
      throw new CairnError("invalid_argument", "session data is a plain JSON object");
    }
  }
  if (data === undefined || data === null) return {};
  if (typeof data !== "object" || Array.isArray(data)) {
    throw new CairnError("invalid_argument", "session data is a plain JSON object");
  }
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch {
    throw new CairnError("invalid_argument", "session data is a plain JSON object");
  }
  if (Buffer.byteLength(json) > sessionLimits.dataBytes) {
    throw new CairnError("invalid_argument", `session data exceeds ${sessionLimits.dataBytes} bytes as JSON`);
  }
  return JSON.parse(json) as SessionData;
}
