import type { AdminRequest } from "../gateway/admin.js";
import type { AppServices } from "../host/services.js";
import type { Deployment } from "../runtime/deployment.js";
import { CairnError } from "../sdk/errors.js";
import type { Telemetry } from "../telemetry/telemetry.js";

/** What the console's endpoints read: the deployment serving now and the node's telemetry. */
export interface ConsoleSource {
  deployment(): Deployment | undefined;
  readonly telemetry: Telemetry;
  readonly dev: boolean;
  readonly version: string;
  readonly startedAt: number;
}

/** The app a request names with `?app=` (or the only one), with its services. */
export function pickApp(
  source: ConsoleSource,
  request: AdminRequest,
): { app: string; services: AppServices } {
  const apps = source.deployment()?.apps ?? [];
  const wanted = request.query.get("app");
  const found =
    wanted === null ? (apps.length === 1 ? apps[0] : undefined) : apps.find(({ app }) => app.name === wanted);
  if (found === undefined) {
    throw wanted === null
      ? new CairnError(
          "invalid_argument",
          `this node serves several apps (${apps.map(({ app }) => app.name).join(", ")}): add ?app=<name>`,
        )
      : new CairnError("not_found", `no app "${wanted}" on this node`);
  }
  return { app: found.app.name, services: found.services };
}

/** An optional positive integer query parameter. */
export function intParam(request: AdminRequest, name: string): number | undefined {
  const value = request.query.get(name);
  if (value === null || value === "") return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1)
    throw new CairnError("invalid_argument", `${name} must be a positive integer`);
  return number;
}
