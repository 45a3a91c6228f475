import type { Context } from "../sdk/context.js";
import type { TriggerDeclaration } from "../sdk/triggers.js";
import { parseDuration } from "../shared/duration.js";
import type { DiscoveredTrigger, TriggerInput, TriggerResult } from "../shared/protocol.js";
import type { QueueMessage } from "../events/types.js";

/** What discovery reports of a trigger declaration (the host builds subscriptions from it). */
export function describeTrigger(declaration: TriggerDeclaration): DiscoveredTrigger {
  switch (declaration.kind) {
    case "event":
      return {
        kind: "event",
        topic: declaration.topic,
        filter: { ...declaration.filter },
        retry: { ...declaration.retry },
      };
    case "queue":
      return { kind: "queue", queue: declaration.queue };
    case "schedule":
      return {
        kind: "schedule",
        cron: declaration.cron,
        timezone: declaration.timezone,
        catchUp: declaration.catchUp,
        retry: { ...declaration.retry },
      };
  }
}

/**
 * Run a trigger's handler for one delivery. Queue batches record each message's ack or retry;
 * when the handler throws, the outcome still carries the messages it acknowledged before.
 */
export function runTrigger(
  declaration: TriggerDeclaration,
  input: TriggerInput,
  ctx: Context,
): { result: unknown; outcome: () => TriggerResult } {
  if (input.kind === "queue" && declaration.kind === "queue") {
    const acked = new Set<string>();
    const retried = new Map<string, number>();
    const messages: QueueMessage[] = input.messages.map((message) => ({
      id: message.id,
      body: JSON.parse(message.body) as unknown,
      attempt: message.attempt,
      sentAt: message.sentAt,
      ack() {
        retried.delete(message.id);
        acked.add(message.id);
      },
      retry(options = {}) {
        acked.delete(message.id);
        retried.set(
          message.id,
          options.delay === undefined ? -1 : parseDuration(options.delay, "retry delay"),
        );
      },
    }));
    const batch = {
      queue: input.queue,
      messages,
      ackAll() {
        for (const message of messages) if (!retried.has(message.id)) message.ack();
      },
      retryAll(options?: { delay?: number | string }) {
        for (const message of messages)
          if (!acked.has(message.id)) message.retry(options as { delay?: number });
      },
    };
    return {
      result: declaration.handler(batch, ctx),
      outcome: () => ({ acked: [...acked], retried: [...retried].map(([id, delayMs]) => ({ id, delayMs })) }),
    };
  }
  if (input.kind === "event" && declaration.kind === "event") {
    const event = { ...input.event, payload: JSON.parse(input.event.payload) as unknown };
    if (event.key === undefined) delete event.key;
    return { result: declaration.handler(event, ctx), outcome: () => ({}) };
  }
  if (input.kind === "schedule" && declaration.kind === "schedule") {
    return { result: declaration.handler(input.tick, ctx), outcome: () => ({}) };
  }
  throw new Error(`a ${input.kind} delivery reached a ${declaration.kind} function`);
}
