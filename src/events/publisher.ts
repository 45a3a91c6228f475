import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { SqlExecutor } from "../store/types.js";
import type { OutboxEvent } from "../tables/types.js";
import { eventLimits } from "./types.js";
import type { Subscriptions } from "./subscriptions.js";

/**
 * The outbox: events are appended inside the transaction of the writes that cause them, as one
 * delivery row per subscribing function, so they exist exactly when those writes do. After a commit
 * that published anything, `published()` wakes the dispatcher of this node.
 */
export class Publisher {
  private listeners: Array<() => void> = [];

  constructor(
    private readonly subscriptions: Subscriptions,
    private readonly clock: Clock,
  ) {}

  /** Insert deliveries for `events`; returns how many rows were written. */
  async append(tx: SqlExecutor, events: OutboxEvent[] | undefined): Promise<number> {
    if (events === undefined) return 0;
    if (!Array.isArray(events))
      throw new CairnError("invalid_argument", "events must be an array of { topic, payload }");
    const now = this.clock.now();
    let rows = 0;
    for (const event of events) {
      if (
        typeof event !== "object" ||
        event === null ||
        typeof event.topic !== "string" ||
        event.topic.length === 0
      ) {
        throw new CairnError("invalid_argument", "every event needs a topic (a non-empty string)");
      }
      if (event.key !== undefined && typeof event.key !== "string") {
        throw new CairnError("invalid_argument", `event ${event.topic}: key must be a string`);
      }
      const payload = JSON.stringify(event.payload ?? null);
      if (payload === undefined || Buffer.byteLength(payload) > eventLimits.payloadBytes) {
        throw new CairnError(
          "payload_too_large",
          `event ${event.topic}: the payload must be JSON of at most ${eventLimits.payloadBytes} bytes`,
        );
      }
      for (const consumer of this.subscriptions.consumers(event.topic, event.key)) {
        await insertMessage(tx, consumer, event.topic, event.key ?? null, payload, now, now);
        rows++;
      }
    }
    return rows;
  }

  hasSubscribers(topic: string): boolean {
    return this.subscriptions.has(topic);
  }

  onPublished(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((other) => other !== listener);
    };
  }

  published(): void {
    for (const listener of this.listeners) listener();
  }
}

export async function insertMessage(
  tx: SqlExecutor,
  consumer: string,
  topic: string,
  key: string | null,
  payload: string,
  createdAt: number,
  availableAt: number,
): Promise<number> {
  const row = await tx.get<{ id: number }>(
    "INSERT INTO cairn_messages (consumer, topic, key, payload, created_at, available_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    [consumer, topic, key, payload, createdAt, availableAt],
  );
  return Number(row!.id);
}
