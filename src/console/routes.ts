import type { ServerResponse } from "node:http";
import type { AdminApi, AdminRequest } from "../gateway/admin.js";
import { sendError } from "../gateway/respond.js";
import { CairnError } from "../sdk/errors.js";
import { consoleAssets } from "./assets.js";
import { registerDataRoutes } from "./data-api.js";
import { registerFunctionRoutes } from "./functions-api.js";
import { ConsoleSessions } from "./session.js";
import type { ConsoleSource } from "./source.js";

/** The page may only load and talk to what this node serves. */
const securityHeaders = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

/**
 * The web console at /_cairn/console: a single page (served from this node, no outside requests)
 * over the platform API. The page, its assets and the login are public; everything it reads needs
 * the admin token, which the login turns into a session cookie (see ConsoleSessions).
 */
export function registerConsole(admin: AdminApi, source: ConsoleSource, token: string | undefined): void {
  const sessions = new ConsoleSessions(token);
  admin.acceptSession((req) => sessions.accepts(req));
  registerFunctionRoutes(admin, source);
  registerDataRoutes(admin, source);

  const serve = async ({ req, res, params, requestId }: AdminRequest) => {
    const name = params.file ?? "index.html";
    const asset = (await consoleAssets()).get(name);
    if (asset === undefined) {
      sendError(res, 404, "not_found", `no console file ${name}`, requestId);
      return;
    }
    const headers = { ...securityHeaders, etag: asset.etag, "cache-control": "no-cache" };
    if (req.headers["if-none-match"] === asset.etag) {
      res.writeHead(304, headers);
      res.end();
      return;
    }
    res.writeHead(200, { ...headers, "content-type": asset.type, "content-length": asset.body.length });
    res.end(req.method === "HEAD" ? undefined : asset.body);
  };
  admin.route("GET", "/console", serve, { public: true });
  admin.route("GET", "/console/:file", serve, { public: true });

  // Whether this browser is in: under `cairn dev` without a token there is nothing to log in to.
  admin.route(
    "GET",
    "/console/session",
    ({ req }) => ({
      body: {
        authenticated: admin.authorized(req),
        login: admin.tokenConfigured ? "token" : source.dev ? "open" : "disabled",
        dev: source.dev,
      },
    }),
    { public: true },
  );

  admin.route(
    "POST",
    "/console/login",
    async (request) => {
      const { req, res } = request;
      if (!admin.tokenConfigured) {
        throw new CairnError(
          "unauthorized",
          source.dev
            ? "cairn dev without CAIRN_ADMIN_TOKEN needs no login"
            : "the console is disabled: set CAIRN_ADMIN_TOKEN on the server",
        );
      }
      if (!sessions.allowAttempt(req)) {
        throw new CairnError("rate_limited", "too many failed logins; wait a minute", { retryable: true });
      }
      const body = (await request.json()) as { token?: unknown } | undefined;
      const given = typeof body?.token === "string" ? body.token : "";
      if (!admin.checkToken(given)) {
        sessions.failed(req);
        throw new CairnError("unauthorized", "that is not the admin token (CAIRN_ADMIN_TOKEN)");
      }
      noContent(res, sessions.cookie(sessions.issue(), req));
    },
    { public: true },
  );

  admin.route("POST", "/console/logout", ({ req, res }) => noContent(res, sessions.clearCookie(req)), {
    public: true,
  });
}

function noContent(res: ServerResponse, cookie: string): void {
  res.writeHead(204, { "set-cookie": cookie, "cache-control": "no-store" });
  res.end();
}
