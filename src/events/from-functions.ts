import type { FunctionSpec } from "../runtime/app.js";
import { functionConsumer, Subscriptions, type Subscription } from "./subscriptions.js";

/** Event subscriptions of an app, from its trigger functions. */
export function subscriptionsOf(functions: readonly FunctionSpec[]): Subscriptions {
  const list: Subscription[] = [];
  for (const spec of functions) {
    if (spec.trigger?.kind !== "event") continue;
    list.push({
      consumer: functionConsumer(spec.name),
      topic: spec.trigger.topic,
      filter: spec.trigger.filter,
    });
  }
  return new Subscriptions(list);
}
