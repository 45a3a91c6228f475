import type { CacheDriver } from "../../../src/cache/driver.js";
import { cacheOperations } from "../../../src/cache/operations.js";
import type { Cache } from "../../../src/cache/types.js";
import { AppServices, type ServiceEnvironment } from "../../../src/host/services.js";
import { createCacheClient } from "../../../src/instance/clients/cache.js";
import { deserializeError, serializeError, CairnError } from "../../../src/sdk/errors.js";
import type { ManualClock } from "../../../src/shared/clock.js";

/** What the conformance suite runs against: a fresh, empty cache, its clock, and how to dispose of it. */
export interface CacheFixture {
  cache: Cache;
  clock: ManualClock;
  close(): Promise<void>;
}

const caller = { app: "conformance", functionName: "suite", invocation: 1, instanceId: 1 };

/**
 * `ctx.cache` as a function sees it, over a driver: the real instance-side client and the real
 * service operations and dispatch, with the thread boundary imitated (arguments and answers are
 * structured-cloned, errors serialized and rebuilt). Every driver's test file builds its fixture
 * with this, so the suite checks the whole path, argument checks included.
 */
export async function cacheOver(driver: CacheDriver): Promise<{ cache: Cache; close: () => Promise<void> }> {
  const services = await AppServices.open(
    [
      {
        name: "cache",
        open: () =>
          Promise.resolve({ spec: {}, operations: cacheOperations(driver), close: () => driver.close() }),
      },
    ],
    {} as ServiceEnvironment,
  );
  const cache = createCacheClient((operation, args) =>
    services.call(operation, structuredClone(args), caller).then(
      (value) => structuredClone(value),
      (error: unknown) => {
        throw deserializeError(serializeError(error));
      },
    ),
  );
  return { cache, close: () => services.close() };
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
