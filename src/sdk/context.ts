/** What a function sees of the platform. Service clients join this object as they are configured. */
import type { Blobs } from "../blobs/types.js";
import type { Cache } from "../cache/types.js";
import type { Sessions } from "../sessions/types.js";
import type { TablesOf } from "../tables/types.js";
import type { QueuesOf } from "../events/types.js";
import type { WorkflowsClient } from "../workflows/types.js";
import type { RegisteredConfig } from "./register.js";

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export interface Context<Params = Record<string, string>> {
  /** Unique per invocation; echoed in the `x-request-id` response header and every log line. */
  readonly requestId: string;
  /** The export name of the function being invoked. */
  readonly functionName: string;
  /** Route parameters: `:name` segments, and `*` for a trailing wildcard. */
  readonly params: Params;
  /** Plain configuration values (`vars` in cairn.config.ts). */
  readonly env: Readonly<Record<string, string>>;
  /** Secrets from the app's `.env` file and the environment; never logged. */
  readonly secrets: Readonly<Record<string, string>>;
  /** Structured logger; lines carry the request id and function name. */
  readonly log: Logger;
  /** Keep the instance alive until the promise settles, after the response is sent. */
  waitUntil(promise: Promise<unknown>): void;
  /** Durable workflows: start runs, read their state, signal and cancel them. */
  readonly workflows: WorkflowsClient;
  /** The app's queues: `ctx.queues.emails.send(message, { delay, idempotencyKey })`. */
  readonly queues: QueuesOf<
    // A registered config without `queues` has none (indexing it would not compile); so for tables.
    RegisteredConfig extends { queues?: infer Queues } ? NonNullable<Queues> : never
  >;
  /** The app's tables, typed from cairn.config.ts once it is registered (see Register). */
  readonly tables: TablesOf<RegisteredConfig extends { tables?: infer Tables } ? NonNullable<Tables> : never>;
  /** The app's cache (get/set with ttl, increment, rate limits, locks); never the only copy of anything. */
  readonly cache: Cache;
  /** The app's blob storage: streamed objects with metadata, listing, presigned URLs. */
  readonly blobs: Blobs;
  /** Sessions: signed tokens checked against revocable rows, cookies, signed client-side state. */
  readonly sessions: Sessions;
}

/** The third argument of a mounted app's `fetch(request, env, ctx)`, as on Cloudflare Workers. */
export interface FetchContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
  /** Present for compatibility with Workers frameworks; always empty. */
  props: Record<string, unknown>;
}

/** `{ id: string }` from "/users/:id"; `{ "*": string }` from "/files/*". */
export type RouteParams<Route extends string> = string extends Route
  ? Record<string, string>
  : Simplify<ParamsOf<PathOf<Route>>>;

type PathOf<Route extends string> = Route extends `${string} ${infer Path}` ? Path : Route;
type ParamsOf<Path extends string> = Path extends `${infer Head}/${infer Tail}`
  ? ParamsOf<Head> & ParamsOf<Tail>
  : Path extends `:${infer Name}`
    ? { [K in Name]: string }
    : Path extends "*"
      ? { "*": string }
      : unknown;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
