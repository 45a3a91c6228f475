/**
 * Signed client-side state: a small JSON value in a cookie, with an HMAC-SHA256 over it and its
 * name and expiry, so the client keeps it and cannot change it unnoticed. Runs inside instances
 * (HMAC is cheap); the app's secret comes from the host and is never sent to a client.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { CairnError } from "../sdk/errors.js";
import { parseDuration } from "../shared/duration.js";
import type { SignedState, SignedStateOptions } from "./types.js";
import { isCookieName, readCookie, serializeCookie } from "./transport.js";

const version = "s1";
export const stateLimits = { defaultBytes: 3072, maxBytes: 4000, defaultTtlMs: 30 * 86_400_000 } as const;
const namePattern = /^[A-Za-z0-9_-]{1,64}$/;

function invalid(): CairnError {
  return new CairnError("state_invalid", "the signed state was changed or has expired", { status: 400 });
}

export function createSignedState<T>(
  secret: Uint8Array,
  name: string,
  options: SignedStateOptions = {},
  now: () => number = Date.now,
): SignedState<T> {
  if (typeof name !== "string" || !namePattern.test(name)) {
    throw new CairnError("invalid_argument", "a state name is 1 to 64 of A-Z a-z 0-9 _ -");
  }
  const maxBytes = options.maxBytes ?? stateLimits.defaultBytes;
  if (!Number.isInteger(maxBytes) || maxBytes < 64 || maxBytes > stateLimits.maxBytes) {
    throw new CairnError(
      "invalid_argument",
      `state maxBytes must be an integer from 64 to ${stateLimits.maxBytes}`,
    );
  }
  const ttlMs = options.ttl === undefined ? stateLimits.defaultTtlMs : parseDuration(options.ttl, "ttl");
  const cookieName = options.cookieName ?? `__Host-${name}`;
  if (!isCookieName(cookieName))
    throw new CairnError("invalid_argument", `"${cookieName}" is not a valid cookie name`);

  const mac = (body: string) => createHmac("sha256", secret).update(`${version}.${name}.${body}`).digest();

  const seal = (value: T): string => {
    let json: string | undefined;
    try {
      json = JSON.stringify({ e: Math.ceil((now() + ttlMs) / 1000), v: value });
    } catch {
      json = undefined;
    }
    if (json === undefined || value === undefined) {
      throw new CairnError("invalid_argument", "signed state must be a JSON value");
    }
    const body = Buffer.from(json).toString("base64url");
    const sealed = `${version}.${body}.${mac(body).toString("base64url")}`;
    if (sealed.length > maxBytes) {
      throw new CairnError(
        "state_too_large",
        `the signed state takes ${sealed.length} bytes, more than the limit of ${maxBytes}`,
        { status: 413 },
      );
    }
    return sealed;
  };

  const open = (sealed: string): T => {
    if (typeof sealed !== "string" || sealed.length > stateLimits.maxBytes) throw invalid();
    const parts = sealed.split(".");
    if (parts.length !== 3 || parts[0] !== version) throw invalid();
    const [, body, signature] = parts as [string, string, string];
    const given = Buffer.from(signature, "base64url");
    const expected = mac(body);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let parsed: { e?: unknown; v?: unknown };
    try {
      parsed = JSON.parse(Buffer.from(body, "base64url").toString("utf8")) as { e?: unknown; v?: unknown };
    } catch {
      throw invalid();
    }
    if (typeof parsed.e !== "number" || parsed.e * 1000 <= now()) throw invalid();
    return parsed.v as T;
  };

  return {
    seal,
    open,
    read(request) {
      const value = readCookie(request.headers.get("cookie"), cookieName);
      return value === undefined || value === "" ? undefined : open(value);
    },
    cookie: (value) => serializeCookie(cookieName, seal(value), ttlMs / 1000),
    clear: () => serializeCookie(cookieName, "", 0),
  };
}
