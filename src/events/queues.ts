import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import { parseDuration } from "../shared/duration.js";
import type { SqlExecutor, Store } from "../store/types.js";
import { insertMessage } from "./publisher.js";
import { queueConsumer } from "./subscriptions.js";
import { eventLimits, type QueueDefinition, type SendOptions, type SendResult } from "./types.js";

export interface QueueSettings {
  name: string;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  visibilityMs: number | undefined;
  dedupWindowMs: number;
  batchSize: number;
}

export function queueSettings(name: string, definition: QueueDefinition): QueueSettings {
  return {
    name,
    maxAttempts: definition.maxAttempts ?? 5,
    backoffMs: parseDuration(definition.backoff ?? "1s", `queues.${name}.backoff`),
    maxBackoffMs: parseDuration(definition.maxBackoff ?? "5m", `queues.${name}.maxBackoff`),
    visibilityMs:
      definition.visibilityTimeout === undefined
        ? undefined
        : parseDuration(definition.visibilityTimeout, `queues.${name}.visibilityTimeout`),
    dedupWindowMs: parseDuration(definition.dedupWindow ?? "5m", `queues.${name}.dedupWindow`),
    batchSize: definition.batchSize ?? 10,
  };
}

/** Sending to the app's queues: each send is one durable commit (a batch is one too). */
export class Queues {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly queues: Map<string, QueueSettings>,
    private readonly sent: () => void,
  ) {}

  names(): string[] {
    return [...this.queues.keys()];
  }

  async send(queue: string, body: unknown, options: SendOptions = {}): Promise<SendResult> {
    const [result] = await this.sendBatch(queue, [{ body, ...options }]);
    return result!;
  }

  async sendBatch(queue: string, messages: Array<{ body: unknown } & SendOptions>): Promise<SendResult[]> {
    const settings = this.queues.get(queue);
    if (settings === undefined) {
      throw new CairnError(
        "not_found",
        `no queue "${String(queue)}": declare it under queues in cairn.config.ts`,
      );
    }
    if (!Array.isArray(messages) || messages.length === 0 || messages.length > eventLimits.batchSend) {
      throw new CairnError(
        "invalid_argument",
        `send between 1 and ${eventLimits.batchSend} messages at once`,
      );
    }
    const prepared = messages.map((message, index) => prepare(queue, message, index));
    const now = this.clock.now();
    const results = await this.store.transaction(async (tx) => {
      const out: SendResult[] = [];
      for (const message of prepared) out.push(await this.insert(tx, settings, message, now));
      return out;
    });
    if (results.some((result) => result.sent)) this.sent();
    return results;
  }

  private async insert(
    tx: SqlExecutor,
    settings: QueueSettings,
    message: Prepared,
    now: number,
  ): Promise<SendResult> {
    if (message.idempotencyKey !== undefined) {
      const seen = await tx.get<{ message_id: number; expires_at: number }>(
        `SELECT message_id, expires_at FROM cairn_dedup WHERE queue = ? AND dedup_key = ?${tx.dialect === "postgres" ? " FOR UPDATE" : ""}`,
        [settings.name, message.idempotencyKey],
      );
      if (seen !== undefined && Number(seen.expires_at) > now)
        return { id: String(seen.message_id), sent: false };
    }
    const id = await insertMessage(
      tx,
      queueConsumer(settings.name),
      settings.name,
      message.orderingKey ?? null,
      message.payload,
      now,
      now + message.delayMs,
    );
    if (message.idempotencyKey !== undefined) {
      await tx.run(
        `INSERT INTO cairn_dedup (queue, dedup_key, expires_at, message_id) VALUES (?, ?, ?, ?)
         ON CONFLICT (queue, dedup_key) DO UPDATE SET expires_at = excluded.expires_at, message_id = excluded.message_id`,
        [settings.name, message.idempotencyKey, now + settings.dedupWindowMs, id],
      );
    }
    return { id: String(id), sent: true };
  }

  /** Forget idempotency keys whose window has passed. */
  async purgeDedup(): Promise<void> {
    await this.store.transaction((tx) =>
      tx.run("DELETE FROM cairn_dedup WHERE expires_at <= ?", [this.clock.now()]),
    );
  }
}

interface Prepared {
  payload: string;
  delayMs: number;
  idempotencyKey: string | undefined;
  orderingKey: string | undefined;
}

function prepare(queue: string, message: { body: unknown } & SendOptions, index: number): Prepared {
  if (typeof message !== "object" || message === null) {
    throw new CairnError("invalid_argument", `${queue}: message ${index} must be { body, ...options }`);
  }
  const payload = JSON.stringify(message.body ?? null);
  if (payload === undefined || Buffer.byteLength(payload) > eventLimits.payloadBytes) {
    throw new CairnError(
      "payload_too_large",
      `${queue}: a message body must be JSON of at most ${eventLimits.payloadBytes} bytes`,
    );
  }
  const delayMs = message.delay === undefined ? 0 : parseDuration(message.delay, "delay");
  const check = (value: unknown, name: string) => {
    if (value !== undefined && (typeof value !== "string" || value.length === 0 || value.length > 512)) {
      throw new CairnError("invalid_argument", `${queue}: ${name} must be a string of 1 to 512 characters`);
    }
  };
  check(message.idempotencyKey, "idempotencyKey");
  check(message.orderingKey, "orderingKey");
  return { payload, delayMs, idempotencyKey: message.idempotencyKey, orderingKey: message.orderingKey };
}
