import { CairnError } from "../sdk/errors.js";
import type { HostLogger } from "../log/logger.js";
import type { LoadedApp } from "../runtime/app.js";

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
  /** Operations by name, called as "<service>.<operation>". */
  operations: Record<string, Operation>;
  close?(): Promise<void> | void;
}

export interface ServiceEnvironment {
  app: LoadedApp;
  logger: HostLogger;
  env: NodeJS.ProcessEnv;
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

  static async open(providers: ServiceProvider[], environment: ServiceEnvironment): Promise<AppServices> {
    const services = new AppServices();
    try {
      for (const provider of providers) {
        const open = await provider.open(environment);
        if (open === undefined) continue;
        services.opened.push(open);
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

  async close(): Promise<void> {
    for (const open of this.opened.splice(0).reverse()) await open.close?.();
  }
}
