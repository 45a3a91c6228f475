import { randomBytes } from "node:crypto";
import type { ServiceProvider } from "../host/services.js";
import type { Store } from "../store/types.js";
import type { TablesHost } from "../tables/service.js";
import { consumersOf } from "./consumers.js";
import { DeadLetters } from "./dead-letters.js";
import { Dispatcher } from "./dispatcher.js";
import { releaseOrphanedLeases } from "./messages.js";
import "./migrations.js";
import { NodeRegistry } from "./nodes.js";
import { queueSettings, Queues, type QueueSettings } from "./queues.js";
import { Scheduler } from "./scheduler.js";
import { QueueStats } from "./stats.js";
import type { SendOptions } from "./types.js";

/** What the platform API and tests use of an app's events. */
export interface EventsHost {
  queues: Queues;
  deadLetters: DeadLetters;
  dispatcher: Dispatcher;
  scheduler: Scheduler;
  stats: QueueStats;
}

/** Identifies this process's leases, so a stopping node can hand back exactly its own. */
export const nodeId = `${process.pid}-${randomBytes(4).toString("hex")}`;

/**
 * Whether the process that took a lease may still run. The embedded store is a file on this
 * machine, so its lease owners were processes here: one whose pid no longer exists was killed,
 * and a restarted node need not wait for its leases to expire. (A reused pid only means waiting.)
 */
export function localOwnerAlive(owner: string): boolean {
  const pid = Number(/^(\d+)-/.exec(owner)?.[1]);
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

export const queuesProvider: ServiceProvider = {
  name: "queues",
  open({ app, use, clock, logger, functions }) {
    const store = use<Store>("store");
    const { publisher } = use<TablesHost>("tables");
    const settings = new Map<string, QueueSettings>();
    for (const [name, definition] of Object.entries(app.config.config.queues ?? {})) {
      settings.set(name, queueSettings(name, definition));
    }
    const { consumers, schedules } = consumersOf(app, settings);
    const dispatcher = new Dispatcher(store, clock, consumers, functions, nodeId, logger);
    const queues = new Queues(store, clock, settings, () => dispatcher.kick());
    const scheduler = new Scheduler(store, clock, schedules, () => dispatcher.kick(), logger);
    const unsubscribe = publisher.onPublished(() => dispatcher.kick());
    const dedupTimer = setInterval(() => {
      queues
        .purgeDedup()
        .catch((error: unknown) => logger.warn({ err: error }, "purging idempotency keys failed"));
    }, 60_000);
    dedupTimer.unref();
    const nodes = new NodeRegistry(store, clock, nodeId, logger, () => dispatcher.kick());
    const host: EventsHost = {
      queues,
      deadLetters: new DeadLetters(store, clock, () => dispatcher.kick()),
      dispatcher,
      scheduler,
      stats: new QueueStats(store, clock, consumers),
    };
    return Promise.resolve({
      spec: { names: queues.names() },
      api: host,
      async start() {
        if (store.dialect === "sqlite") {
          const released = await store.transaction((tx) =>
            releaseOrphanedLeases(tx, clock.now(), localOwnerAlive),
          );
          if (released > 0)
            logger.info(
              { released },
              "took back the leases of a node that stopped without handing them back",
            );
        }
        await nodes.join();
        await scheduler.start();
        dispatcher.start();
      },
      async drain() {
        scheduler.stop();
        await dispatcher.stop();
        await nodes.leave();
      },
      close() {
        unsubscribe();
        clearInterval(dedupTimer);
        scheduler.stop();
        nodes.stop();
      },
      operations: {
        send: ([queue, body, options]) => queues.send(String(queue), body, options as SendOptions),
        sendBatch: ([queue, messages]) =>
          queues.sendBatch(String(queue), messages as Array<{ body: unknown } & SendOptions>),
      },
    });
  },
};
