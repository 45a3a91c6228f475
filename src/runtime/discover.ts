import type { Worker } from "node:worker_threads";
import { CairnError, type SerializedError } from "../sdk/errors.js";
import { unbatch } from "../shared/batcher.js";
import type { DiscoverMessage, DiscoveredFunction, InstanceToHost } from "../shared/protocol.js";
import type { WorkerFactory } from "./workers.js";

const discoveryTimeoutMs = 30_000;

/**
 * Load every module of a build in a throw-away worker and list what they declare. App code never
 * runs in the host, not even to find out which functions exist.
 */
export async function discover(
  factory: WorkerFactory,
  groups: DiscoverMessage["groups"],
  memoryMb: number,
): Promise<DiscoveredFunction[]> {
  const worker = await factory.take(memoryMb);
  try {
    return await new Promise<DiscoveredFunction[]>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new CairnError(
              "load_failed",
              `loading the app's modules took over ${discoveryTimeoutMs / 1000}s`,
            ),
          ),
        discoveryTimeoutMs,
      );
      const settle = () => {
        clearTimeout(timer);
        worker.removeAllListeners("message");
      };
      worker.on("message", (payload: InstanceToHost | InstanceToHost[]) =>
        unbatch(payload, (message) => {
          if (message.t === "discovered") {
            settle();
            resolve(message.functions);
          } else if (message.t === "load-error") {
            settle();
            reject(loadError(message.e));
          }
        }),
      );
      worker.once("error", (error) => {
        settle();
        reject(
          new CairnError("load_failed", `loading the app's modules crashed: ${error.message}`, {
            cause: error,
          }),
        );
      });
      worker.postMessage({ t: "discover", groups } satisfies DiscoverMessage);
    });
  } finally {
    await stop(worker);
  }
}

function loadError(error: SerializedError): CairnError {
  const out = new CairnError("load_failed", error.message, { details: { code: error.code } });
  if (error.stack !== undefined) out.stack = error.stack;
  return out;
}

async function stop(worker: Worker): Promise<void> {
  await worker.terminate();
}
