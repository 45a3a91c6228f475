import type { LoadedApp } from "../runtime/app.js";
import { CairnError } from "../sdk/errors.js";
import { parseDuration } from "../shared/duration.js";
import type { Consumer } from "./dispatcher.js";
import type { QueueSettings } from "./queues.js";
import type { ScheduleSpec } from "./scheduler.js";
import { functionConsumer, queueConsumer } from "./subscriptions.js";

/** The consumers and schedules an app's trigger functions declare, checked against its queues. */
export function consumersOf(
  app: LoadedApp,
  queues: Map<string, QueueSettings>,
): { consumers: Consumer[]; schedules: ScheduleSpec[] } {
  const consumers: Consumer[] = [];
  const schedules: ScheduleSpec[] = [];
  const queueOwners = new Map<string, string>();
  const problems: string[] = [];
  for (const spec of app.functions) {
    const trigger = spec.trigger;
    if (trigger === undefined) continue;
    const capacity = spec.settings.maxInstances * spec.settings.concurrency;
    const visibility = spec.settings.timeoutMs + 10_000;
    if (trigger.kind === "queue") {
      const settings = queues.get(trigger.queue);
      if (settings === undefined) {
        problems.push(
          `${spec.site}: ${spec.name} consumes queue "${trigger.queue}", which is not declared under queues in cairn.config.ts`,
        );
        continue;
      }
      const owner = queueOwners.get(trigger.queue);
      if (owner !== undefined) {
        problems.push(
          `${spec.site}: queue "${trigger.queue}" already has a consumer (${owner}); a queue has one`,
        );
        continue;
      }
      queueOwners.set(trigger.queue, spec.name);
      consumers.push({
        id: queueConsumer(trigger.queue),
        functionName: spec.name,
        kind: "queue",
        queue: trigger.queue,
        batchSize: settings.batchSize,
        capacity,
        maxAttempts: settings.maxAttempts,
        backoffMs: settings.backoffMs,
        maxBackoffMs: settings.maxBackoffMs,
        visibilityMs: settings.visibilityMs ?? visibility,
      });
      continue;
    }
    if (trigger.kind === "workflow") {
      // Activations are cheap to repeat (they replay), and a run must not be given up on lightly.
      consumers.push({
        id: functionConsumer(spec.name),
        functionName: spec.name,
        kind: "workflow",
        batchSize: 1,
        capacity,
        maxAttempts: 50,
        backoffMs: 500,
        maxBackoffMs: 60_000,
        visibilityMs: visibility,
      });
      continue;
    }
    const retry = trigger.retry as {
      maxAttempts?: number;
      backoff?: string | number;
      maxBackoff?: string | number;
      visibilityTimeout?: string | number;
    };
    try {
      consumers.push({
        id: functionConsumer(spec.name),
        functionName: spec.name,
        kind: trigger.kind,
        batchSize: 1,
        capacity,
        maxAttempts: retry.maxAttempts ?? 5,
        backoffMs: parseDuration(retry.backoff ?? "1s", `${spec.name} backoff`),
        maxBackoffMs: parseDuration(retry.maxBackoff ?? "5m", `${spec.name} maxBackoff`),
        visibilityMs:
          retry.visibilityTimeout === undefined
            ? visibility
            : parseDuration(retry.visibilityTimeout, `${spec.name} visibilityTimeout`),
      });
    } catch (error) {
      problems.push(`${spec.site}: ${(error as Error).message}`);
      continue;
    }
    if (trigger.kind === "schedule") {
      schedules.push({
        functionName: spec.name,
        cron: trigger.cron,
        timezone: trigger.timezone,
        catchUp: trigger.catchUp,
      });
    }
  }
  if (problems.length > 0) {
    throw new CairnError("load_failed", `app ${app.name} has problems:\n  ${problems.join("\n  ")}`);
  }
  return { consumers, schedules };
}
