import type { Registry } from "../metrics/registry.js";
import type { EventsResolver } from "./admin.js";

/** Queue depth, in-flight, retries and dead letters per consumer, read from the store at scrape time. */
export function registerQueueMetrics(registry: Registry, resolve: EventsResolver): void {
  const messages = registry.gauge(
    "cairn_queue_messages",
    "Messages per consumer and state (ready, delayed, inflight, retrying).",
  );
  const dead = registry.gauge("cairn_queue_dead_letters", "Messages in the dead-letter queue per consumer.");
  const delivered = registry.gauge(
    "cairn_queue_delivered",
    "Messages this node delivered (successfully or not) since its apps loaded.",
  );
  registry.collect(async () => {
    messages.reset();
    dead.reset();
    delivered.reset();
    for (const { app, events } of resolve()) {
      if (events === undefined) continue;
      delivered.set({ app }, events.dispatcher.delivered);
      for (const stats of await events.stats.all()) {
        const labels = { app, consumer: stats.consumer };
        for (const state of ["ready", "delayed", "inflight", "retrying"] as const) {
          messages.set({ ...labels, state }, stats[state]);
        }
        dead.set(labels, stats.dead);
      }
    }
  });
}
