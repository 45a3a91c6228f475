import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import FindMyWay from "find-my-way";
import { CairnError, isCairnError } from "../sdk/errors.js";
import { readBody } from "./body.js";
import { sendError, sendJson } from "./respond.js";

export interface AdminRequest {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  requestId: string;
  /** The JSON body (parsed on demand, at most 1 MB). */
  json(): Promise<unknown>;
}

/** A handler answers with a value (sent as JSON with `status`) or writes the response itself. */
export type AdminHandler = (request: AdminRequest) => Promise<AdminResult | void> | AdminResult | void;
export interface AdminResult {
  status?: number;
  body: unknown;
}

interface RouteStore {
  handler: AdminHandler;
  public: boolean;
}

const adminBodyLimit = 1024 * 1024;
type Method = "GET" | "HEAD" | "OPTIONS" | "POST" | "PUT" | "DELETE";

/**
 * The platform's own HTTP API under /_cairn/. Everything but the health check needs the admin token
 * (CAIRN_ADMIN_TOKEN) as a bearer token; without a token configured only `cairn dev` allows access.
 */
export class AdminApi {
  private readonly routes: Array<{ method: Method; path: string; store: RouteStore }> = [];
  /** Built on the first request: compiling the matchers is ~10 ms that start-up need not wait for. */
  private router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> | undefined;
  /** Another credential the API accepts besides the bearer token (the console's session cookie). */
  private session: ((req: IncomingMessage) => boolean) | undefined;

  constructor(
    private readonly token: string | undefined,
    private readonly openWithoutToken: boolean,
  ) {}

  route(method: Method, path: string, handler: AdminHandler, options: { public?: boolean } = {}): void {
    this.router = undefined;
    this.routes.push({ method, path: `/_cairn${path}`, store: { handler, public: options.public === true } });
  }

  private buildRouter(): FindMyWay.Instance<FindMyWay.HTTPVersion.V1> {
    const router = FindMyWay({ ignoreTrailingSlash: true, maxParamLength: 2048 });
    for (const { method, path, store } of this.routes) router.on(method, path, () => {}, store);
    return router;
  }

  /** Accept requests that `check` vouches for (it sees only requests without a valid bearer token). */
  acceptSession(check: (req: IncomingMessage) => boolean): void {
    this.session = check;
  }

  /** Whether the admin token is configured; without one only `cairn dev` opens the API. */
  get tokenConfigured(): boolean {
    return this.token !== undefined;
  }

  handle(req: IncomingMessage, res: ServerResponse, path: string, query: string, requestId: string): void {
    this.router ??= this.buildRouter();
    const found = this.router.find((req.method ?? "GET") as Method, path);
    if (found === null || found.store === null) {
      sendError(res, 404, "not_found", `no platform endpoint ${req.method} ${path}`, requestId);
      return;
    }
    const { handler, public: isPublic } = found.store as RouteStore;
    if (!isPublic && !this.authorized(req)) {
      const message =
        this.token === undefined
          ? "the admin API is disabled: set CAIRN_ADMIN_TOKEN on the server and send it as a bearer token"
          : "missing or wrong admin token: send Authorization: Bearer <CAIRN_ADMIN_TOKEN>";
      sendError(res, 401, "unauthorized", message, requestId, { "www-authenticate": "Bearer" });
      return;
    }
    const request: AdminRequest = {
      req,
      res,
      params: found.params as Record<string, string>,
      query: new URLSearchParams(query),
      requestId,
      json: () => readJson(req),
    };
    Promise.resolve()
      .then(() => handler(request))
      .then(
        (result) => {
          if (result !== undefined && !res.headersSent) {
            sendJson(res, result.status ?? 200, result.body, { "x-request-id": requestId });
          }
        },
        (error: unknown) => {
          if (isCairnError(error)) sendError(res, error.status, error.code, error.message, requestId);
          else
            sendError(
              res,
              500,
              "internal_error",
              "internal error; the server log has the details",
              requestId,
            );
        },
      );
  }

  /** The bearer token, a session the console issued, or `cairn dev` without a token. */
  authorized(req: IncomingMessage): boolean {
    if (this.token === undefined) return this.openWithoutToken;
    const header = req.headers.authorization ?? "";
    const match = /^Bearer\s+(.+)$/i.exec(header);
    if (match === null) return this.session?.(req) === true;
    return this.checkToken(match[1]!.trim());
  }

  /** Is `given` the admin token (compared in constant time)? */
  checkToken(given: string): boolean {
    if (this.token === undefined) return false;
    const a = createHash("sha256").update(given).digest();
    const b = createHash("sha256").update(this.token).digest();
    return timingSafeEqual(a, b);
  }
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const result = await readBody(req, adminBodyLimit);
  if (!result.ok) {
    if (result.tooLarge)
      throw new CairnError("payload_too_large", `the body exceeds ${adminBodyLimit} bytes`);
    throw new CairnError("bad_request", "could not read the request body");
  }
  if (result.body === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(result.body)) as unknown;
  } catch {
    throw new CairnError("invalid_json", "the request body is not valid JSON");
  }
}
