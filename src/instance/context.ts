import type { Context, FetchContext } from "../sdk/context.js";
import { createLogger, type Invocation } from "./invocation.js";

export interface SharedContext {
  functionName: string;
  env: Readonly<Record<string, string>>;
  secrets: Readonly<Record<string, string>>;
  services: Record<string, unknown>;
  /** Called when an invocation's background work has all settled. */
  onSettled(invocation: Invocation): void;
}

/** Per-invocation fields sit on top of a prototype that holds what every invocation shares. */
export function createContextFactory(shared: SharedContext) {
  const base: Record<string, unknown> = {
    functionName: shared.functionName,
    env: shared.env,
    secrets: shared.secrets,
    ...shared.services,
  };
  Object.freeze(base);

  return (invocation: Invocation, params: Record<string, string>): Context => {
    const ctx = Object.create(base) as Record<string, unknown>;
    ctx.requestId = invocation.requestId;
    ctx.params = params;
    ctx.log = createLogger(invocation);
    ctx.waitUntil = (promise: Promise<unknown>) => track(invocation, promise, shared);
    return ctx as unknown as Context;
  };
}

export function fetchContext(ctx: Context): FetchContext {
  return { waitUntil: (promise) => ctx.waitUntil(promise), passThroughOnException: () => {}, props: {} };
}

function track(invocation: Invocation, promise: Promise<unknown>, shared: SharedContext): void {
  invocation.background++;
  const done = () => {
    invocation.background--;
    if (invocation.background === 0 && invocation.finished) shared.onSettled(invocation);
  };
  Promise.resolve(promise).then(done, (error: unknown) => {
    invocation.log("error", "waitUntil promise rejected", { error: describe(error) });
    done();
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
