/**
 * Events, queues and schedules as functions see them. Delivery is at least once: a handler that
 * throws is retried with exponential backoff until it succeeds or its attempts run out, and then the
 * message goes to the dead-letter queue. Handlers must therefore be idempotent.
 */
import type { Duration } from "../shared/duration.js";

/** One delivery of an event to a consumer function. */
export interface EventMessage<T = unknown> {
  /** Stable across retries of this delivery: use it as an idempotency key. */
  id: string;
  topic: string;
  /** The ordering key the event was published with (a blob key, an item key, ...). */
  key?: string;
  payload: T;
  /** 1 on the first delivery, 2 on the first retry, ... */
  attempt: number;
  /** When the event was committed (ms since the epoch). */
  createdAt: number;
  /** The consumer's attempts before the message goes to the dead-letter queue. */
  maxAttempts: number;
}

/** A queue message inside a batch. Without a call to ack() or retry() the batch's outcome decides. */
export interface QueueMessage<T = unknown> {
  id: string;
  body: T;
  attempt: number;
  sentAt: number;
  /** Done: never delivered again, whatever happens to the rest of the batch. */
  ack(): void;
  /** Deliver again later (counts as an attempt). */
  retry(options?: { delay?: Duration }): void;
}

export interface QueueBatch<T = unknown> {
  queue: string;
  messages: Array<QueueMessage<T>>;
  /** Acknowledge every message not yet retried. */
  ackAll(): void;
  /** Retry every message not yet acknowledged. */
  retryAll(options?: { delay?: Duration }): void;
}

/** A cron tick. */
export interface ScheduleTick {
  /** Stable across retries of this tick's delivery: an idempotency key. */
  id: string;
  /** The tick this invocation is for (a late delivery still carries its own tick). */
  scheduledAt: number;
  cron: string;
}

export interface SendOptions {
  /** Deliver no earlier than this from now. */
  delay?: Duration;
  /** A second send with the same key within the queue's dedup window is dropped (and resolves). */
  idempotencyKey?: string;
  /** Messages with one ordering key are delivered one at a time, in send order (ordered queues). */
  orderingKey?: string;
}

export interface SendResult {
  id: string;
  /** False when an earlier message with the same idempotency key made this one a duplicate. */
  sent: boolean;
}

export interface Queue<T = unknown> {
  send(body: T, options?: SendOptions): Promise<SendResult>;
  /** Up to 100 messages in one commit. */
  sendBatch(messages: Array<{ body: T } & SendOptions>): Promise<SendResult[]>;
}

/** A queue's declaration in cairn.config.ts. */
export interface QueueDefinition {
  /** Deliveries before a message goes to the dead-letter queue (default 5). */
  maxAttempts?: number;
  /** First retry delay, doubled per attempt with jitter, up to `maxBackoff` (default 1s / 5m). */
  backoff?: Duration;
  maxBackoff?: Duration;
  /** How long a delivery may take before the message is delivered again (default: the consumer's timeout + 10 s). */
  visibilityTimeout?: Duration;
  /** How long idempotency keys suppress duplicates (default 5m). */
  dedupWindow?: Duration;
  /** Messages per batch handed to the consumer (default 10, at most 100). */
  batchSize?: number;
}

export interface TypedQueueDefinition<T> extends QueueDefinition {
  readonly __message?: T;
}

export type QueuesOf<Definitions> = {
  [Name in keyof Definitions]: Definitions[Name] extends TypedQueueDefinition<infer T> ? Queue<T> : Queue;
};

/** Retry settings of an event or schedule consumer (queues take theirs from the queue's definition). */
export interface RetryOptions {
  maxAttempts?: number;
  backoff?: Duration;
  maxBackoff?: Duration;
  visibilityTimeout?: Duration;
}

export const eventLimits = {
  payloadBytes: 256 * 1024,
  batchSend: 100,
  batchSize: 100,
} as const;
