/**
 * Service clients that appear on `ctx` inside an instance. Each turns method calls into host calls;
 * the host decides which services an app has and sends their descriptions in the load message.
 */
/** `streams`: indexes of `args` holding ReadableStreams, sent alongside the call (see services.ts). */
export type HostCall = (service: string, args: unknown[], streams?: number[]) => Promise<unknown>;
export type ClientFactory = (spec: unknown, call: HostCall) => unknown;

const factories = new Map<string, ClientFactory>();

export function registerClient(name: string, factory: ClientFactory): void {
  factories.set(name, factory);
}

export function createClients(specs: Record<string, unknown>, call: HostCall): Record<string, unknown> {
  const clients: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const factory = factories.get(name);
    if (factory === undefined) throw new Error(`no client for service "${name}" in this instance runtime`);
    clients[name] = factory(spec, call);
  }
  return clients;
}
