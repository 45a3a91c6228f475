import type { ServerResponse } from "node:http";
import type { AdminApi } from "../gateway/admin.js";
import { sendError } from "../gateway/respond.js";
import type { DeployedApp } from "../runtime/deployment.js";
import type { SessionsHost } from "./service.js";

/** The public JWKS path: the gateway hands it to the platform API as /_cairn/jwks.json. */
export const wellKnownJwks = "/.well-known/jwks.json";

/**
 * Public keys as a JWKS, public routes both: `GET /.well-known/jwks.json` (and
 * `/_cairn/jwks.json`) lists the keys of every app on the node, each with its `kid`;
 * `GET /_cairn/sessions/:app/jwks.json` lists one app's.
 */
export function registerJwksRoutes(admin: AdminApi, apps: () => readonly DeployedApp[]): void {
  const hostOf = (deployed: DeployedApp) => deployed.services.api<SessionsHost>("sessions");
  admin.route(
    "GET",
    "/jwks.json",
    ({ res, requestId }) => {
      const keys = apps().flatMap((deployed) => hostOf(deployed)?.jwks().keys ?? []);
      send(res, requestId, { keys });
    },
    { public: true },
  );
  admin.route(
    "GET",
    "/sessions/:app/jwks.json",
    ({ res, requestId, params }) => {
      const deployed = apps().find((candidate) => candidate.app.name === params.app);
      const host = deployed === undefined ? undefined : hostOf(deployed);
      if (host === undefined) {
        sendError(res, 404, "not_found", `no app "${params.app}" on this node`, requestId);
        return;
      }
      send(res, requestId, host.jwks());
    },
    { public: true },
  );
}

function send(res: ServerResponse, requestId: string, body: unknown): void {
  const json = JSON.stringify(body);
  res.writeHead(200, {
    "content-type": "application/jwk-set+json",
    "content-length": Buffer.byteLength(json),
    "cache-control": "public, max-age=300",
    "x-request-id": requestId,
  });
  res.end(json);
}
