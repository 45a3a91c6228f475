import type { IncomingMessage, ServerResponse } from "node:http";
import type { Deployment, RouteTarget } from "../runtime/deployment.js";
import { parseTraceparent, SpanKind, type Span, type Tracer } from "../telemetry/tracing.js";
import type { AdminApi } from "./admin.js";
import { hasBody, readBody } from "./body.js";
import { HttpJob } from "./http-job.js";
import { requestIdFor } from "./request-id.js";
import { sendError } from "./respond.js";

export interface GatewayState {
  /** The deployment serving new requests (hot reload swaps it). */
  readonly deployment: Deployment;
  readonly draining: boolean;
  readonly admin: AdminApi;
  /** Set only when traces are exported (an OTLP endpoint is configured). */
  readonly tracer: Tracer | undefined;
}

/** The server span of a request to a function, below the caller's span when it sent a traceparent. */
function requestSpan(
  tracer: Tracer,
  req: IncomingMessage,
  target: RouteTarget,
  started: number,
  requestId: string,
): Span | undefined {
  const route = target.spec.kind === "mount" ? `${target.spec.path}/*` : target.spec.path;
  const method = req.method ?? "GET";
  return tracer.start(`${method} ${route}`, {
    parent: parseTraceparent(req.headers.traceparent),
    kind: SpanKind.server,
    startMs: performance.timeOrigin + started,
    attributes: {
      "http.request.method": method,
      "http.route": route,
      "url.path": (req.url ?? "/").split("?")[0]!,
      "cairn.request_id": requestId,
      "cairn.app": target.app.name,
      "cairn.function": target.spec.name,
    },
  });
}

const hostPattern = /^[A-Za-z0-9.:[\]_-]{1,255}$/;

/** Routes a request to its function (or to the platform API) and streams the outcome back. */
export function createHandler(state: GatewayState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const started = performance.now();
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const q = rawUrl.indexOf("?");
    const path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    const requestId = requestIdFor(req.headers["x-request-id"]);

    if (path.startsWith("/_cairn/")) {
      state.admin.handle(req, res, path, q === -1 ? "" : rawUrl.slice(q + 1), requestId);
      return;
    }
    if (path === "/.well-known/jwks.json") {
      // The public keys that verify session tokens: a public route of the platform API.
      state.admin.handle(req, res, "/_cairn/jwks.json", "", requestId);
      return;
    }
    if (state.draining) {
      res.shouldKeepAlive = false;
      sendError(res, 503, "shutting_down", "the server is shutting down; retry on another node", requestId, {
        "retry-after": "1",
        connection: "close",
      });
      return;
    }
    if (path.charCodeAt(0) !== 47 /* "/" */) {
      sendError(res, 400, "bad_request", "the request target must be an absolute path", requestId);
      return;
    }
    // HTTP/1.0 clients may omit Host.
    const host = req.headers.host ?? "localhost";
    if (!hostPattern.test(host)) {
      sendError(res, 400, "bad_request", "the Host header is malformed", requestId);
      return;
    }

    const { router } = state.deployment;
    const match = router.find(method, path);
    if (match === null) {
      const allowed = router.allowed(path);
      if (allowed.length > 0) {
        sendError(res, 405, "method_not_allowed", `${method} is not allowed on ${path}`, requestId, {
          allow: allowed.join(", "),
        });
      } else {
        sendError(res, 404, "not_found", `no function serves ${method} ${path}`, requestId);
      }
      return;
    }

    const target = match.target;
    const url = `http://${host}${rawUrl}`;
    const log = target.log.isLevelEnabled("info") ? target.log : null;
    const span =
      state.tracer === undefined ? undefined : requestSpan(state.tracer, req, target, started, requestId);
    if (!hasBody(req)) {
      target.pool.dispatch(
        new HttpJob(
          res,
          requestId,
          started,
          method,
          url,
          path,
          req.rawHeaders,
          undefined,
          match.params,
          log,
          target.meter,
          span,
        ),
      );
      return;
    }
    readBody(req, target.app.bodyLimit).then(
      (result) => {
        if (result.ok) {
          target.pool.dispatch(
            new HttpJob(
              res,
              requestId,
              started,
              method,
              url,
              path,
              req.rawHeaders,
              result.body,
              match.params,
              log,
              target.meter,
              span,
            ),
          );
        } else if (result.tooLarge) {
          res.shouldKeepAlive = false;
          sendError(
            res,
            413,
            "payload_too_large",
            `the request body exceeds the limit of ${target.app.bodyLimit} bytes`,
            requestId,
            { connection: "close" },
          );
        } else {
          sendError(res, 400, "bad_request", "the request body could not be read", requestId);
        }
      },
      () => sendError(res, 400, "bad_request", "the request body could not be read", requestId),
    );
  };
}
