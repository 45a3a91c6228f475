import { pino } from "pino";
import { AppServices, type ServiceProvider } from "../../../src/host/services.js";
import { createSessionsClient } from "../../../src/instance/clients/sessions.js";
import type { LoadedApp } from "../../../src/runtime/app.js";
import { CairnError, deserializeError, serializeError } from "../../../src/sdk/errors.js";
import type { SessionsHost } from "../../../src/sessions/service.js";
import { sessionsProvider } from "../../../src/sessions/service.js";
import type { SessionsSpec } from "../../../src/sessions/spec.js";
import type { Sessions, SessionsConfig } from "../../../src/sessions/types.js";
import type { ManualClock } from "../../../src/shared/clock.js";
import type { Store } from "../../../src/store/types.js";
import { tablesProvider, type TablesHost } from "../../../src/tables/service.js";

/** A fresh, empty store of one driver, and how to dispose of it. */
export interface StoreFixture {
  store: Store;
  close(): Promise<void>;
}

/** One node's view of the app: `ctx.sessions` as a function sees it, and the host side. */
export interface SessionsNode {
  sessions: Sessions;
  host: SessionsHost;
  tables: TablesHost;
  spec: SessionsSpec;
  close(): Promise<void>;
}

export interface NodeOptions {
  config?: SessionsConfig;
  env?: NodeJS.ProcessEnv;
}

const caller = { app: "conformance", functionName: "suite", invocation: 1, instanceId: 1 };

/**
 * Open the sessions service on `store` as a node would (tables first, then sessions), with the
 * real instance-side client over the real dispatch; arguments and answers are structured-cloned
 * and errors serialized, as across the thread boundary.
 */
export async function openNode(
  store: Store,
  clock: ManualClock,
  options: NodeOptions = {},
): Promise<SessionsNode> {
  const storeProvider: ServiceProvider = {
    name: "store",
    open: () => Promise.resolve({ api: store, operations: {} }),
  };
  const app = {
    name: "conformance",
    dir: "/nonexistent",
    dataDir: "/nonexistent",
    config: { config: { sessions: options.config ?? {} } },
    functions: [],
  } as unknown as LoadedApp;
  const environment = {
    app,
    logger: pino({ level: "silent" }),
    env: options.env ?? {},
    clock,
    functions: { invoke: () => Promise.reject(new Error("no functions here")) },
  } as unknown as Parameters<typeof AppServices.open>[1];
  const services = await AppServices.open([storeProvider, tablesProvider, sessionsProvider], environment);
  const spec = services.specs.sessions as SessionsSpec;
  const call = async (operation: string, args: unknown[]) => {
    try {
      return structuredClone(await services.call(operation, structuredClone(args), caller));
    } catch (error) {
      throw deserializeError(serializeError(error));
    }
  };
  return {
    sessions: createSessionsClient(structuredClone(spec), call),
    host: services.api<SessionsHost>("sessions")!,
    tables: services.api<TablesHost>("tables")!,
    spec,
    close: () => services.close(),
  };
}

/** The CairnError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function failure(promise: Promise<unknown>): Promise<CairnError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CairnError)) throw new Error(`expected a CairnError, got ${String(error)}`);
  return error;
}

/** The decoded header and payload of a JWT (no checks). */
export function decode(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(header!, "base64url").toString()) as Record<string, unknown>,
    payload: JSON.parse(Buffer.from(payload!, "base64url").toString()) as Record<string, unknown>,
  };
}
