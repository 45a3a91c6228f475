import type { FunctionOptions } from "./options.js";
import type { BlobsConfig } from "../blobs/types.js";
import type { CacheConfig } from "../cache/types.js";
import type { SessionsConfig } from "../sessions/types.js";
import type { TableDefinition, TypedTableDefinition } from "../tables/types.js";
import type { QueueDefinition, TypedQueueDefinition } from "../events/types.js";

/** The app's `cairn.config.ts` default export. Every field is optional. */
export interface AppConfig {
  /** Name of the app (default: its folder name). */
  name?: string;
  /** Defaults for every function of the app; a declaration's own options win. */
  functions?: FunctionOptions;
  limits?: {
    /** Largest request body a function accepts, in bytes (default 6 MB). Larger bodies get 413. */
    bodySize?: number;
  };
  /** Plain configuration values, visible to functions as `ctx.env`. */
  vars?: Record<string, string>;
  /** Names of secrets that must be set, in the app's `.env` file or the environment. */
  secrets?: string[];
  /** Queues by name: `emails: queue<Email>({ maxAttempts: 8 })`; consumed with on.queue(name, ...). */
  queues?: Record<string, QueueDefinition>;
  /** Tables by name: `users: table<User>({ partitionKey: "id" })`. */
  tables?: Record<string, TableDefinition>;
  /** The embedded cache: `{ maxBytes }` (default 64 MB per app). */
  cache?: CacheConfig;
  /** Blob storage: `{ maxObjectSize }` in bytes (default 5 GiB). */
  blobs?: BlobsConfig;
  /** Sessions: token ttl, key rotation, issuer, audience, cookie name (see SessionsConfig). */
  sessions?: SessionsConfig;
  build?: {
    /** Packages left out of the bundle and loaded from node_modules at run time (native addons). */
    external?: string[];
  };
}

/** Declare a table and the type of its items (the type only flows into ctx.tables). */
export function table<T extends object>(definition: TableDefinition<T>): TypedTableDefinition<T> {
  return definition;
}

/** Declare a queue and the type of its messages (the type only flows into ctx.queues). */
export function queue<T>(definition: QueueDefinition = {}): TypedQueueDefinition<T> {
  return definition;
}

/** Identity function that gives `cairn.config.ts` its types. */
export function defineConfig<const Config extends AppConfig>(config: Config): Config {
  return config;
}
