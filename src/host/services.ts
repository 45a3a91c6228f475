import { CairnError } from "../sdk/errors.js";
import type { HostLogger } from "../log/logger.js";
import type { LoadedApp } from "../runtime/app.js";
import type { Clock } from "../shared/clock.js";
import type { TriggerInvoker } from "../events/dispatcher.js";
import type { Telemetry } from "../telemetry/telemetry.js";

/** Who is calling a service operation. */
export interface Caller {
  app: string;
  functionName: string;
  /** Invocation id within its instance (0 outside an invocation). */
  invocation: number;
  instanceId: number;
}

export type Operation = (args: unknown[], caller: Caller) => unknown;

/** A service as opened for one app: what instances need to build their client, and its operations. */
export interface OpenService {
  /** Sent to instances; their client for this service is built from it. Omit to keep it off ctx. */
  spec?: unknown;
  /** What other services of the app may use of this one (see ServiceEnvironment.use). */
  api?: unknown;
  /** Called once the app's functions can be invoked (background work starts here). */
  start?(): Promise<void> | void;
  /** Called when the deployment stops: finish or hand back work, while functions can still run. */
  drain?(): Promise<void>;
  /** Operations by name, called as "<service>.<operation>". */
  operations: Record<string, Operation>;
  close?(): Promise<void> | void;
}

export interface ServiceEnvironment {
  app: LoadedApp;
  logger: HostLogger;
  env: NodeJS.ProcessEnv;
  clock: Clock;
  /** The node's metrics and traces (absent in tests that open services alone). */
  telemetry?: Telemetry;
  /** Invokes the app's trigger functions (usable once the service's start() has been called). */
  functions: TriggerInvoker;
  /** The api of a service opened before this one (providers open in order). */
  use: <T>(service: string) => T;
}

/** A platform service (tables, cache, blobs, ...): opened once per app when the app loads. */
export interface ServiceProvider {
  readonly name: string;
  open(environment: ServiceEnvironment): Promise<OpenService | undefined>;
}

/** Every service an app has, with one dispatch table from "service.operation" to its handler. */
export class AppServices {
  readonly specs: Record<string, unknown> = {};
  private readonly operations = new Map<string, Operation>();
  private readonly opened: OpenService[] = [];

  private readonly apis = new Map<string, unknown>();

  static async open(
    providers: ServiceProvider[],
    base: Omit<ServiceEnvironment, "use">,
  ): Promise<AppServices> {
    const services = new AppServices();
    const environment: ServiceEnvironment = {
      ...base,
      use: <T>(name: string): T => {
        if (!services.apis.has(name))
          throw new Error(`service "${name}" is not open (yet): check the provider order`);
        return services.apis.get(name) as T;
      },
    };
    try {
      for (const provider of providers) {
        const open = await provider.open(environment);
        if (open === undefined) continue;
        services.opened.push(open);
        if (open.api !== undefined) services.apis.set(provider.name, open.api);
        if (open.spec !== undefined) services.specs[provider.name] = open.spec;
        for (const [name, operation] of Object.entries(open.operations)) {
          services.operations.set(`${provider.name}.${name}`, operation);
        }
      }
    } catch (error) {
      await services.close();
      throw error;
    }
    return services;
  }

  call(operation: string, args: unknown[], caller: Caller): Promise<unknown> {
    try {
      const handler = this.operations.get(operation);
      if (handler === undefined) {
        throw new CairnError("unknown_operation", `no service operation "${operation}" in this app`);
      }
      return Promise.resolve(handler(args, caller));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async start(): Promise<void> {
    for (const open of this.opened) await open.start?.();
  }

  async drain(): Promise<void> {
    await Promise.all(
      this.opened.map((open) => (open.drain === undefined ? Promise.resolve() : open.drain())),
    );
  }

  /** A service's host api (for the platform's own routes and tools). */
  api<T>(name: string): T | undefined {
    return this.apis.get(name) as T | undefined;
  }

  async close(): Promise<void> {
    for (const open of this.opened.splice(0).reverse()) await open.close?.();
  }
}
