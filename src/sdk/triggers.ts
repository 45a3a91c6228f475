import type { EventMessage, QueueBatch, RetryOptions, ScheduleTick } from "../events/types.js";
import type { Context } from "./context.js";
import { declarationBrand } from "./declarations.js";
import type { FunctionOptions } from "./options.js";

export type EventHandler<T = unknown> = (event: EventMessage<T>, ctx: Context) => unknown;
export type QueueHandler<T = unknown> = (batch: QueueBatch<T>, ctx: Context) => unknown;
export type ScheduleHandler = (tick: ScheduleTick, ctx: Context) => unknown;

export interface EventOptions extends FunctionOptions, RetryOptions {}

/** Only keys starting with `prefix` and ending with `suffix` reach the handler. */
export interface KeyFilter {
  prefix?: string;
  suffix?: string;
}

export interface ScheduleOptions extends FunctionOptions, RetryOptions {
  /** IANA time zone the cron expression is read in (default UTC). */
  timezone?: string;
  /** After downtime, fire a missed tick once on recovery (true, default) or skip it (false). */
  catchUp?: boolean;
}

interface TriggerBase {
  readonly [declarationBrand]: true;
  readonly options: FunctionOptions;
  readonly site: Error;
}

export interface EventDeclaration extends TriggerBase {
  readonly kind: "event";
  readonly topic: string;
  readonly filter: KeyFilter;
  readonly retry: RetryOptions;
  readonly handler: EventHandler;
}

export interface QueueDeclaration extends TriggerBase {
  readonly kind: "queue";
  readonly queue: string;
  readonly handler: QueueHandler;
}

export interface ScheduleDeclaration extends TriggerBase {
  readonly kind: "schedule";
  readonly cron: string;
  readonly timezone: string;
  readonly catchUp: boolean;
  readonly retry: RetryOptions;
  readonly handler: ScheduleHandler;
}

export type TriggerDeclaration = EventDeclaration | QueueDeclaration | ScheduleDeclaration;

const retryKeys = ["maxAttempts", "backoff", "maxBackoff", "visibilityTimeout"] as const;

function split<T extends object>(options: T): { retry: RetryOptions; rest: FunctionOptions } {
  const retry: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if ((retryKeys as readonly string[]).includes(key)) retry[key] = value;
    else rest[key] = value;
  }
  return { retry: retry, rest: rest };
}

function checkHandler(name: string, handler: unknown): void {
  if (typeof handler !== "function") throw new TypeError(`${name}: the handler must be a function`);
}

/** `site` is made by the `on.*` method the app called, so that the app's line is its caller. */
function event<T>(
  topic: string,
  filter: KeyFilter,
  handler: EventHandler<T>,
  options: EventOptions,
  site: Error,
): EventDeclaration {
  const { retry, rest } = split(options);
  return {
    [declarationBrand]: true,
    kind: "event",
    topic,
    filter,
    retry,
    handler: handler as EventHandler,
    options: rest,
    site,
  };
}

function filterOf(filter: string | KeyFilter | undefined): KeyFilter {
  if (filter === undefined) return {};
  if (typeof filter === "string") return { prefix: filter };
  return {
    ...(filter.prefix !== undefined && { prefix: filter.prefix }),
    ...(filter.suffix !== undefined && { suffix: filter.suffix }),
  };
}

/** Blob events carry what the object looks like after the change. */
export interface BlobEventPayload {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  /** Orders the events of one key. */
  sequencer: string | number;
}

/** A committed table write, one event per write, in order per item. */
export interface TableChangePayload<T = Record<string, unknown>> {
  table: string;
  type: "put" | "update" | "delete";
  key: Record<string, unknown>;
  /** The item after the write (absent for deletes). */
  item?: T & { _version: number };
}

/** Triggers: functions that run because something happened rather than because of a request. */
export const on = {
  /** Events published in a transaction (`ctx.tables.transact(ops, { events })`) on `topic`. */
  event<T = unknown>(
    topic: string,
    handler: EventHandler<T>,
    options: EventOptions & KeyFilter = {},
  ): EventDeclaration {
    checkHandler(`on.event("${topic}")`, handler);
    if (typeof topic !== "string" || topic.length === 0)
      throw new TypeError("on.event: the topic must be a non-empty string");
    const { prefix, suffix, ...rest } = options;
    return event(
      topic,
      filterOf({ ...(prefix !== undefined && { prefix }), ...(suffix !== undefined && { suffix }) }),
      handler,
      rest,
      new Error("declared here"),
    );
  },
  /** A blob was written (also through a presigned URL); `filter` is a key prefix or { prefix, suffix }. */
  blobCreated(
    filter: string | KeyFilter | undefined,
    handler: EventHandler<BlobEventPayload>,
    options: EventOptions = {},
  ): EventDeclaration {
    checkHandler("on.blobCreated", handler);
    return event("blob.created", filterOf(filter), handler, options, new Error("declared here"));
  },
  /** A blob was deleted. */
  blobDeleted(
    filter: string | KeyFilter | undefined,
    handler: EventHandler<BlobEventPayload>,
    options: EventOptions = {},
  ): EventDeclaration {
    checkHandler("on.blobDeleted", handler);
    return event("blob.deleted", filterOf(filter), handler, options, new Error("declared here"));
  },
  /** Every committed write of a table declared with `changeEvents: true`. */
  tableChange<T = Record<string, unknown>>(
    table: string,
    handler: EventHandler<TableChangePayload<T>>,
    options: EventOptions = {},
  ): EventDeclaration {
    checkHandler(`on.tableChange("${table}")`, handler);
    return event(`table.${table}`, {}, handler as EventHandler, options, new Error("declared here"));
  },
  /** Messages sent to a queue declared in cairn.config.ts, in batches. */
  queue<T = unknown>(
    queue: string,
    handler: QueueHandler<T>,
    options: FunctionOptions = {},
  ): QueueDeclaration {
    checkHandler(`on.queue("${queue}")`, handler);
    return {
      [declarationBrand]: true,
      kind: "queue",
      queue,
      handler: handler as QueueHandler,
      options,
      site: new Error("declared here"),
    };
  },
  /** A cron schedule ("0 3 * * *"): each tick fires once, across every node and restart. */
  schedule(cron: string, handler: ScheduleHandler, options: ScheduleOptions = {}): ScheduleDeclaration {
    checkHandler(`on.schedule("${cron}")`, handler);
    const { timezone = "UTC", catchUp = true, ...others } = options;
    const { retry, rest } = split(others);
    return {
      [declarationBrand]: true,
      kind: "schedule",
      cron,
      timezone,
      catchUp,
      retry,
      handler,
      options: rest,
      site: new Error("declared here"),
    };
  },
};
