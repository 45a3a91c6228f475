import type { ServiceProvider } from "../host/services.js";
import type { TablesHost } from "../tables/service.js";
import { sessionSettings, type SessionSettings } from "./config.js";
import { KeyRing, keysTable, keysTableDefinition, stateSecret } from "./keys.js";
import { rowCacheFor } from "./row-cache.js";
import {
  SessionRows,
  sessionsTable,
  sessionsTableDefinition,
  type CheckedClaims,
  type SessionRow,
} from "./rows.js";
import type { SessionsSpec } from "./spec.js";
import { sessionError } from "./transport.js";

/** The host side of sessions, for the platform's own routes (JWKS) and tools. */
export interface SessionsHost {
  settings: SessionSettings;
  ring: KeyRing;
  rows: SessionRows;
  jwks(): { keys: unknown[] };
}

/** How often every node re-reads the keys (picking up other nodes' rotations) and rotates when due. */
const tickMs = 60_000;

/**
 * The sessions service ("sessions", `ctx.sessions`). Rows and keys are system tables of the app's
 * store, so they live wherever its tables do (SQLite or PostgreSQL) and every node shares them.
 */
export const sessionsProvider: ServiceProvider = {
  name: "sessions",
  async open(environment) {
    const { app, clock, env, logger } = environment;
    const host = environment.use<TablesHost>("tables");
    await host.defineSystemTable(sessionsTable, sessionsTableDefinition);
    await host.defineSystemTable(keysTable, keysTableDefinition);
    const settings = sessionSettings(app.name, app.config.config.sessions);
    const secret = env.CAIRN_SECRET || undefined;
    const tables = host.tables;
    const spec: SessionsSpec = {
      issuer: settings.issuer,
      audience: settings.audience,
      cookieName: settings.cookieName,
      ttlSeconds: Math.ceil(settings.ttlMs / 1000),
      keys: [],
      stateSecret: (await stateSecret(tables, secret, logger)).toString("base64url"),
    };
    const ring = new KeyRing(tables, settings, clock, secret, logger, (keys) => {
      spec.keys = keys;
    });
    await ring.tick();
    const rows = new SessionRows(tables, settings, clock, ring, rowCacheFor(tables.store));
    const timer = setInterval(() => {
      ring
        .tick()
        .catch((error: unknown) => logger.warn({ err: error }, "sessions: key check failed; will retry"));
    }, tickMs);
    timer.unref();

    const api: SessionsHost = { settings, ring, rows, jwks: () => ring.jwks() };
    return {
      spec,
      api,
      close: () => clearInterval(timer),
      operations: {
        create: async ([subject, data, ttlMs]) => issued(await rows.create(subject, data, ttlMs)),
        check: (args) => rows.check(claimsOf(args)),
        renew: async (args) => {
          const result = await rows.renew(claimsOf(args), args[5] === true);
          return { renewed: result.renewed, token: result.token, row: result.row, exp: result.exp };
        },
        revoke: ([id]) => rows.revoke(id),
        revokeAll: ([subject]) => rows.revokeAll(subject),
        list: ([subject]) => rows.list(subject),
        keys: () => ring.refresh(),
      },
    };
  },
};

function issued(result: { token: string; row: SessionRow; exp: number }) {
  return { token: result.token, row: result.row, exp: result.exp };
}

/** Claims as the instance sends them: [sid, sub, exp, iat, nbf]. */
function claimsOf(args: unknown[]): CheckedClaims {
  const [sid, sub, exp, iat, nbf] = args;
  if (
    typeof sid !== "string" ||
    typeof sub !== "string" ||
    typeof exp !== "number" ||
    typeof iat !== "number" ||
    (nbf !== undefined && nbf !== null && typeof nbf !== "number")
  ) {
    throw sessionError("token_invalid");
  }
  return { sid, sub, exp, iat, nbf: typeof nbf === "number" ? nbf : undefined };
}
