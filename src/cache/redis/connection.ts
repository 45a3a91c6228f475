import type * as Ioredis from "ioredis";
import type { Redis, RedisOptions } from "ioredis";
import { CairnError } from "../../sdk/errors.js";
import { cacheScripts, type CacheScripts } from "./scripts.js";
import { maskRedisUrl } from "./url.js";
import { importModule } from "../../shared/import-module.js";

export type ScriptedRedis = Redis & CacheScripts;

let redisClass: Promise<typeof Redis> | undefined;

/**
 * The client library, loaded on first use: it takes a noticeable part of start-up time, and a node
 * without CAIRN_REDIS_URL never needs it (bundled into dist/cli.cjs, a static import would load it
 * at every start).
 */
export function loadIoredis(): Promise<typeof Redis> {
  return (redisClass ??= importModule<typeof Ioredis>("ioredis").then((library) => library.Redis));
}

/** Where the connection reports that Redis went away and came back (a pino logger fits). */
export interface ConnectionLog {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

export interface RedisConnectionOptions {
  /** Longest wait for a TCP connection and the handshake (default 2,000 ms). */
  connectTimeoutMs?: number;
  /**
   * Longest wait for any answer while commands are outstanding (default 2,000 ms). Past it the
   * socket counts as dead: it is dropped, its commands fail, and reconnecting starts.
   */
  socketTimeoutMs?: number;
  /** Longest pause between reconnection attempts (default 1,000 ms; they start at 100 ms). */
  maxRetryDelayMs?: number;
  log?: ConnectionLog;
}

/**
 * One client (one TCP connection, commands pipelined on it) to one Redis, set up to fail fast:
 * no offline queue (a command while disconnected fails at once), no resending after a connection
 * loss (a lost increment must not apply twice), a socket timeout for a server that stops
 * answering, and reconnection forever in the background. Every failure becomes a `CairnError`
 * (`backend_unavailable`, 503, retryable) whose message names the server by its masked URL.
 */
export class RedisConnection {
  readonly client: ScriptedRedis;
  /** The URL with its password masked. */
  readonly where: string;
  /** True until the first connection attempt ended (calls wait for it instead of failing). */
  starting = true;
  /** Settles when the first connection attempt ended, well or not. */
  readonly started: Promise<void>;
  private markStarted: () => void = () => undefined;
  /** The last connection error, for messages about commands that could not be sent. */
  private problem = "not connected yet";
  /** Whether an outage was logged (and its end is still to be). */
  private reported = false;
  private log: ConnectionLog | undefined;

  /** `RedisClient` is what loadIoredis() gave. */
  constructor(RedisClient: typeof Redis, url: string, options: RedisConnectionOptions = {}) {
    this.where = maskRedisUrl(url);
    this.log = options.log;
    const maxDelay = options.maxRetryDelayMs ?? 1000;
    const settings: RedisOptions = {
      connectionName: "cairn-cache",
      connectTimeout: options.connectTimeoutMs ?? 2000,
      socketTimeout: options.socketTimeoutMs ?? 2000,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * 100, maxDelay),
      // After a failover the old primary answers READONLY: reconnect to whatever the name now points to.
      reconnectOnError: (error) => error.message.startsWith("READONLY"),
      scripts: cacheScripts,
    };
    this.started = new Promise((resolve) => (this.markStarted = resolve));
    this.client = new RedisClient(url, settings) as ScriptedRedis;
    this.client.on("ready", () => {
      this.problem = "the connection closed";
      this.settle();
      if (!this.reported) return;
      this.reported = false;
      this.log?.info({ redis: this.where }, "cache: Redis is reachable again");
    });
    // Without a listener an error event would throw; each one is remembered for the next message.
    this.client.on("error", (error: Error) => {
      this.problem = error.message || error.name;
      this.down();
    });
    this.client.on("close", () => this.down());
  }

  /** Whether commands can be sent now. */
  get ready(): boolean {
    return this.client.status === "ready";
  }

  /** The error a failed command becomes (rethrown by the drivers). */
  readonly fail = (error: unknown): never => {
    throw this.unavailable(error);
  };

  unavailable(error: unknown): CairnError {
    if (error instanceof CairnError) return error;
    const cause = error instanceof Error ? error : new Error(String(error));
    const where = `the cache's Redis (${this.where})`;
    if (cause.name === "ReplyError") {
      // Redis answered, with an error: a full Redis and transient states are retryable; anything
      // else is a bug.
      if (cause.message.startsWith("OOM")) {
        const message = `${where} is full (maxmemory with noeviction, or nothing evictable): ${cause.message}`;
        return new CairnError("cache_full", message, { retryable: true, cause });
      }
      if (/^(BUSY|LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/.test(cause.message)) {
        const message = `${where} refused the command: ${cause.message}`;
        return new CairnError("backend_unavailable", message, { retryable: true, cause });
      }
      return new CairnError("internal_error", `${where} answered: ${cause.message}`, { cause });
    }
    let reason: string;
    if (cause.name === "MaxRetriesPerRequestError") {
      reason = `the connection dropped while the command ran (${this.problem}); it may or may not have taken effect`;
    } else if (!this.ready || cause.message.startsWith("Stream isn't writeable")) {
      reason = this.problem;
    } else {
      reason = cause.message;
    }
    const message = `${where} is unavailable: ${reason}`;
    return new CairnError("backend_unavailable", message, { retryable: true, cause });
  }

  /** Closes the connection: politely when it is up, at once otherwise. */
  async close(): Promise<void> {
    this.log = undefined;
    if (this.ready) {
      await this.client.quit().catch(() => undefined);
    }
    this.client.disconnect();
  }

  private down(): void {
    const first = this.starting;
    this.settle();
    if (this.reported) return;
    this.reported = true;
    this.log?.warn(
      { redis: this.where, error: this.problem },
      first
        ? "cache: Redis is unreachable; cache calls fail with backend_unavailable until it answers"
        : "cache: lost the connection to Redis; cache calls fail with backend_unavailable until it is back",
    );
  }

  private settle(): void {
    if (!this.starting) return;
    this.starting = false;
    this.markStarted();
  }
}
