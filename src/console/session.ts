import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const sessionCookie = "cairn_console";
/** How long a console login lasts. */
export const sessionTtlMs = 12 * 60 * 60_000;
/** Failed logins a node accepts per minute from one address before it answers 429. */
const failuresPerMinute = 10;

/**
 * Console logins: after the admin token is posted once, the browser holds a session cookie
 * (HttpOnly, SameSite=Strict, path /_cairn) of an expiry, a nonce and an HMAC over both. The HMAC
 * key derives from the admin token, so every node with the same token accepts the same cookie, and
 * changing the token ends every session. The token itself never travels again, and never in a URL.
 */
export class ConsoleSessions {
  private readonly key: Buffer | undefined;
  /** Times of recent failed logins, per client address. */
  private failures = new Map<string, number[]>();

  constructor(
    token: string | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.key =
      token === undefined
        ? undefined
        : createHash("sha256").update(`cairn console session\0${token}`).digest();
  }

  /** A new session's cookie value. */
  issue(): string {
    if (this.key === undefined) throw new Error("console sessions need CAIRN_ADMIN_TOKEN");
    const payload = `${this.now() + sessionTtlMs}.${randomBytes(12).toString("base64url")}`;
    return `${payload}.${this.sign(payload)}`;
  }

  /**
   * Does the request carry a valid, unexpired session? Requests that change something must also
   * send `x-cairn-console: 1`, a header a cross-site form cannot add (SameSite=Strict already keeps
   * the cookie off cross-site requests; this holds even for a browser that ignores it).
   */
  accepts(req: IncomingMessage): boolean {
    const value = cookieValue(req.headers.cookie, sessionCookie);
    if (value === undefined || !this.valid(value)) return false;
    const method = req.method ?? "GET";
    if (method === "GET" || method === "HEAD") return true;
    return req.headers["x-cairn-console"] === "1";
  }

  valid(value: string): boolean {
    if (this.key === undefined || value.length > 200) return false;
    const last = value.lastIndexOf(".");
    if (last <= 0) return false;
    const payload = value.slice(0, last);
    const given = Buffer.from(value.slice(last + 1));
    const expected = Buffer.from(this.sign(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    const expires = Number(payload.slice(0, payload.indexOf(".")));
    return Number.isFinite(expires) && expires > this.now();
  }

  /** May this address try a login? False after too many failures in the last minute (answer 429). */
  allowAttempt(req: IncomingMessage): boolean {
    const now = this.now();
    const recent = (this.failures.get(addressOf(req)) ?? []).filter((at) => now - at < 60_000);
    return recent.length < failuresPerMinute;
  }

  failed(req: IncomingMessage): void {
    const now = this.now();
    if (this.failures.size >= 10_000) {
      // Forget addresses whose failures are all older than a minute (bounded memory).
      for (const [address, times] of this.failures)
        if (times.every((at) => now - at >= 60_000)) this.failures.delete(address);
    }
    const address = addressOf(req);
    const recent = (this.failures.get(address) ?? []).filter((at) => now - at < 60_000);
    recent.push(now);
    this.failures.set(address, recent);
  }

  /** Set-Cookie for a session (Secure when the request came over HTTPS, directly or via a proxy). */
  cookie(value: string, req: IncomingMessage): string {
    return `${sessionCookie}=${value}; Path=/_cairn; Max-Age=${sessionTtlMs / 1000}; HttpOnly; SameSite=Strict${secure(req)}`;
  }

  clearCookie(req: IncomingMessage): string {
    return `${sessionCookie}=; Path=/_cairn; Max-Age=0; HttpOnly; SameSite=Strict${secure(req)}`;
  }

  private sign(payload: string): string {
    return createHmac("sha256", this.key!).update(payload).digest("base64url");
  }
}

function addressOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? "unknown";
}

function secure(req: IncomingMessage): string {
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  const forwarded =
    String(req.headers["x-forwarded-proto"] ?? "")
      .split(",")[0]
      ?.trim() === "https";
  return encrypted || forwarded ? "; Secure" : "";
}

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const at = part.indexOf("=");
    if (at === -1) continue;
    if (part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return undefined;
}
