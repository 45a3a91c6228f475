import * as v from "valibot";
import { parseDuration, type Duration } from "../shared/duration.js";
import { isCookieName } from "./transport.js";
import type { SessionsConfig } from "./types.js";
import type { SigningAlgorithm } from "./verify-token.js";

const second = 1000;
const day = 86_400_000;

function duration(field: string, min: number, max: number, range: string) {
  return v.pipe(
    v.union([v.number(), v.string()]),
    v.check((value) => {
      try {
        const ms = parseDuration(value, field);
        return ms >= min && ms <= max;
      } catch {
        return false;
      }
    }, `expected a duration from ${range}, in ms or as a string such as "30s", "5m" or "7d"`),
  );
}

/** The optional `sessions` section of cairn.config.ts. */
export const sessionsConfigSchema = v.strictObject({
  ttl: v.optional(duration("ttl", second, 365 * day, "1s to 365d")),
  rotateEvery: v.optional(duration("rotateEvery", 60 * second, 365 * day, "1m to 365d")),
  algorithm: v.optional(v.picklist(["EdDSA", "ES256"], 'expected "EdDSA" or "ES256"')),
  issuer: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  audience: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(256))),
  cookieName: v.optional(v.pipe(v.string(), v.check(isCookieName, "not a valid cookie name"))),
  clockSkew: v.optional(duration("clockSkew", 0, 5 * 60 * second, "0 to 5m")),
  cacheTtl: v.optional(duration("cacheTtl", 0, 60 * second, "0 to 1m")),
});

/** The sessions settings of one app, defaults applied. */
export interface SessionSettings {
  ttlMs: number;
  rotateEveryMs: number;
  algorithm: SigningAlgorithm;
  issuer: string;
  audience: string;
  cookieName: string;
  clockSkewMs: number;
  cacheTtlMs: number;
}

export function sessionSettings(app: string, config: SessionsConfig = {}): SessionSettings {
  const ms = (value: Duration | undefined, fallback: number) =>
    value === undefined ? fallback : parseDuration(value);
  return {
    ttlMs: ms(config.ttl, 7 * day),
    rotateEveryMs: ms(config.rotateEvery, 30 * day),
    algorithm: config.algorithm ?? "EdDSA",
    issuer: config.issuer ?? `cairn:${app}`,
    audience: config.audience ?? app,
    cookieName: config.cookieName ?? "__Host-session",
    clockSkewMs: ms(config.clockSkew, 30 * second),
    cacheTtlMs: ms(config.cacheTtl, second),
  };
}
