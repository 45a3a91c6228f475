import type { HostLogger } from "../log/logger.js";
import { throttledWarn } from "../log/throttle.js";
import type { SerializedError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import { IdMap } from "../shared/id-map.js";
import type { TriggerInput, TriggerResult } from "../shared/protocol.js";
import type { Store } from "../store/types.js";
import { backoffDelay } from "./backoff.js";
import {
  acknowledge,
  claim,
  deadLetter,
  nextDue,
  nextDueAfter,
  releaseLeases,
  reschedule,
  type MessageRow,
} from "./messages.js";

/** A function that consumes messages: an event subscriber, a queue's consumer or a schedule. */
export interface Consumer {
  /** "f:<function>" or "q:<queue>" */
  id: string;
  functionName: string;
  kind: "event" | "queue" | "schedule" | "workflow";
  queue?: string;
  /** Messages per invocation (queues); 1 for events and schedules. */
  batchSize: number;
  /** Invocations running at once at most. */
  capacity: number;
  maxAttempts: number;
  backoffMs: number;
  maxBackoffMs: number;
  visibilityMs: number;
}

export type TriggerOutcome =
  { ok: true; result: TriggerResult } | { ok: false; error: SerializedError; result?: TriggerResult };

/** Runs a trigger function (through its pool) and reports how it went. */
export interface TriggerInvoker {
  invoke(functionName: string, requestId: string, input: TriggerInput): Promise<TriggerOutcome>;
}

interface ConsumerState {
  consumer: Consumer;
  inflight: number;
  /**
   * Due messages exist but none could be claimed (each waits behind an earlier message with its
   * ordering key): look again at this time, or when a completion kicks the dispatcher.
   */
  stalledUntil: number;
}

/** Waits between attempts to record an outcome while the store does not answer. */
const recordRetryMs = { first: 100, max: 2000 };

/** How often the dispatcher looks for work nobody told it about (other nodes, expired leases). */
export const pollIntervalMs = 1000;

/**
 * Claims due messages with leases, invokes their consumers, and records each outcome: delete on
 * success, retry with exponential backoff and jitter, or move to the dead-letter queue once the
 * attempts run out. Woken right after local commits that publish, by a timer for the next due
 * message, and by a slow poll for everything else.
 */
export class Dispatcher {
  private readonly states: ConsumerState[];
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;
  private again = false;
  private stopped = false;
  /** Deliveries under way, by a number of their own. */
  private readonly completions = new IdMap<Promise<void>>();
  private nextCompletion = 0;
  private deliveries = 0;
  private readonly pollWarning: ReturnType<typeof throttledWarn>;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    consumers: Consumer[],
    private readonly invoker: TriggerInvoker,
    readonly owner: string,
    private readonly logger: HostLogger,
  ) {
    this.states = consumers.map((consumer) => ({ consumer, inflight: 0, stalledUntil: 0 }));
    this.pollWarning = throttledWarn(logger);
  }

  start(): void {
    this.kick();
  }

  /** Look for work now (coalesced: many kicks in one turn make one pass). */
  kick(): void {
    if (this.stopped) return;
    for (const state of this.states) state.stalledUntil = 0;
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.pump();
    });
  }

  /** One pass over every consumer (also what tests call after moving a manual clock). */
  async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    let wake = this.clock.now() + pollIntervalMs;
    try {
      do {
        this.again = false;
        for (const state of this.states) {
          const next = await this.serve(state);
          if (next !== undefined) wake = Math.min(wake, next);
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      this.pollWarning({ err: error }, "dispatcher: looking for due messages failed; retrying shortly");
    } finally {
      this.running = false;
    }
    this.arm(wake);
  }

  /**
   * Stop claiming, wait (up to `graceMs`) for running deliveries to be recorded, and hand back every
   * lease still held, so other nodes can take those messages at once.
   */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    while (this.running) await new Promise((resolve) => setImmediate(resolve));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.completions.values()]),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    try {
      await this.store.transaction((tx) => releaseLeases(tx, this.owner, this.clock.now()));
    } catch (error) {
      this.logger.warn({ err: error }, "dispatcher: could not hand back leases; they expire by themselves");
    }
  }

  /** Messages delivered (successfully or not) since start. */
  get delivered(): number {
    return this.deliveries;
  }

  inflight(consumerId: string): number {
    return this.states.find((state) => state.consumer.id === consumerId)?.inflight ?? 0;
  }

  /** Claim and start what is due for one consumer; returns when it should be looked at again. */
  private async serve(state: ConsumerState): Promise<number | undefined> {
    const { consumer } = state;
    for (;;) {
      const free = consumer.capacity - state.inflight;
      const now = this.clock.now();
      if (free <= 0) return undefined;
      if (state.stalledUntil > now) return state.stalledUntil;
      const due = await nextDue(this.store.read, consumer.id);
      if (due === undefined) return undefined;
      if (due > now) return due;
      const limit = Math.min(free * consumer.batchSize, 500);
      const rows = await this.store.transaction((tx) =>
        claim(tx, consumer.id, now, now + consumer.visibilityMs, this.owner, limit),
      );
      if (rows.length === 0) {
        const later = await nextDueAfter(this.store.read, consumer.id, now);
        state.stalledUntil = later ?? now + pollIntervalMs;
        return state.stalledUntil;
      }
      this.deliver(state, rows);
      if (rows.length < limit) return undefined;
    }
  }

  /**
   * Deliver messages this node has already leased (a workflow run started here runs at once,
   * without waiting for a claim), optionally with the input already built.
   */
  deliverClaimed(consumerId: string, rows: MessageRow[], input?: TriggerInput): void {
    const state = this.states.find((candidate) => candidate.consumer.id === consumerId);
    if (state === undefined) throw new Error(`no consumer ${consumerId} on this dispatcher`);
    this.deliver(state, rows, input);
  }

  private deliver(state: ConsumerState, rows: MessageRow[], input?: TriggerInput): void {
    const { consumer } = state;
    const groups: MessageRow[][] = [];
    for (let i = 0; i < rows.length; i += consumer.batchSize)
      groups.push(rows.slice(i, i + consumer.batchSize));
    for (const group of groups) {
      state.inflight++;
      const completion = this.nextCompletion++;
      const requestId = `msg-${group[0]!.id}-${group[0]!.attempts}`;
      const run = this.invoker
        .invoke(consumer.functionName, requestId, input ?? inputFor(consumer, group))
        .catch((error: unknown): TriggerOutcome => ({
          ok: false,
          error: { code: "internal_error", message: (error as Error).message },
        }))
        .then((outcome) => this.record(consumer, group, outcome))
        .catch((error: unknown) => {
          this.logger.error(
            { err: error, consumer: consumer.id },
            "dispatcher: recording an outcome failed; the lease will expire",
          );
        })
        .finally(() => {
          state.inflight--;
          this.completions.delete(completion);
          this.kick();
        });
      this.completions.set(completion, run);
    }
  }

  /**
   * Record an outcome, retrying while the store does not answer (a database restarting). Given up at
   * once, the messages would stay leased to this node, which is alive and so never taken for dead,
   * until the lease expires: the consumer's timeout and more. Retries end when the lease would have
   * expired anyway, or when the dispatcher stops (which hands every lease back).
   */
  private async record(consumer: Consumer, group: MessageRow[], outcome: TriggerOutcome): Promise<void> {
    this.deliveries += group.length;
    // A workflow activation that ended normally has already rescheduled or removed its message.
    if (consumer.kind === "workflow" && outcome.ok) return;
    if (!outcome.ok) {
      this.logger.warn(
        { consumer: consumer.id, messages: group.map((row) => row.id), code: outcome.error.code },
        `delivery failed: ${outcome.error.message}`,
      );
    }
    const deadline = performance.now() + consumer.visibilityMs;
    for (let delay = recordRetryMs.first; ; delay = Math.min(delay * 2, recordRetryMs.max)) {
      try {
        await this.complete(consumer, group, outcome);
        return;
      } catch (error) {
        if (this.stopped || performance.now() + delay > deadline) throw error;
        this.pollWarning(
          { err: error, consumer: consumer.id },
          "dispatcher: recording an outcome failed; retrying",
        );
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private async complete(consumer: Consumer, group: MessageRow[], outcome: TriggerOutcome): Promise<void> {
    const now = this.clock.now();
    const acked = new Set(outcome.result?.acked ?? []);
    const retried = new Map((outcome.result?.retried ?? []).map(({ id, delayMs }) => [id, delayMs]));
    const error = outcome.ok ? null : `${outcome.error.code}: ${outcome.error.message}`.slice(0, 2000);
    await this.store.transaction(async (tx) => {
      for (const row of group) {
        const id = String(row.id);
        const retry = retried.get(id);
        if (acked.has(id) || (outcome.ok && retry === undefined)) {
          await acknowledge(tx, row.id, this.owner);
          continue;
        }
        const why = retry !== undefined && outcome.ok ? "retry requested by the consumer" : error;
        if (row.attempts >= consumer.maxAttempts) {
          await deadLetter(tx, row.id, this.owner, now, why);
          continue;
        }
        const delay =
          retry !== undefined && retry >= 0
            ? retry
            : backoffDelay(row.attempts, consumer.backoffMs, consumer.maxBackoffMs);
        await reschedule(tx, row.id, this.owner, now + delay, why);
      }
    });
  }

  private arm(wake: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const delay = Math.max(0, Math.min(pollIntervalMs, wake - this.clock.now()));
    this.timer = setTimeout(() => this.kick(), delay);
    this.timer.unref();
  }
}

function inputFor(consumer: Consumer, group: MessageRow[]): TriggerInput {
  if (consumer.kind === "queue") {
    return {
      kind: "queue",
      queue: consumer.queue!,
      messages: group.map((row) => ({
        id: String(row.id),
        body: row.payload,
        attempt: row.attempts,
        sentAt: row.created_at,
      })),
    };
  }
  const row = group[0]!;
  if (consumer.kind === "workflow") {
    const { runId, trace } = JSON.parse(row.payload) as { runId: string; trace?: string };
    return { kind: "workflow", runId, messageId: String(row.id), ...(trace !== undefined && { trace }) };
  }
  if (consumer.kind === "schedule") {
    const tick = JSON.parse(row.payload) as { scheduledAt: number; cron: string };
    return { kind: "schedule", tick: { id: String(row.id), ...tick } };
  }
  return {
    kind: "event",
    event: {
      id: String(row.id),
      topic: row.topic,
      ...(row.key !== null && { key: row.key }),
      payload: row.payload,
      attempt: row.attempts,
      createdAt: row.created_at,
      maxAttempts: consumer.maxAttempts,
    },
  };
}
