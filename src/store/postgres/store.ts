import type pg from "pg";
import { CairnError } from "../../sdk/errors.js";
import "../all-migrations.js";
import { allMigrations } from "../migrations.js";
import { numbered } from "../placeholders.js";
import {
  notifyCommitted,
  type SqlExecutor,
  type SqlValue,
  type Store,
  type TransactionOptions,
} from "../types.js";
import { importModule } from "../../shared/import-module.js";

export interface PostgresOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /** The schema holding this app's state (created if missing). */
  schema: string;
  /** Most connections this store opens (default 10). */
  poolSize?: number;
}

/** int8 as JavaScript numbers: versions and times stay below 2^53. */
function int8AsNumber(driver: typeof pg) {
  return {
    getTypeParser(id: number, format?: string): (value: string) => unknown {
      if (id === 20) return (value: string) => Number(value);
      return driver.types.getTypeParser(id, format as "text") as (value: string) => unknown;
    },
  };
}

/**
 * The scale-out store: one PostgreSQL schema per app, a bounded connection pool, one database
 * transaction per store transaction (PostgreSQL shares WAL flushes between concurrent commits).
 */
export class PostgresStore implements Store {
  readonly dialect = "postgres" as const;
  readonly read: SqlExecutor;
  readonly autocommit: SqlExecutor;
  private readonly pool: pg.Pool;
  private closed = false;

  private constructor(
    private readonly options: PostgresOptions,
    pool: pg.Pool,
  ) {
    this.pool = pool;
    this.qualify = qualifier(options.schema);
    this.read = executor((text, values) => this.pool.query(this.qualify(text), values));
    this.autocommit = executor((text, values) => {
      if (this.closed) throw new CairnError("shutting_down", "the store is closed");
      return this.pool.query(this.qualify(text), values);
    });
  }

  /**
   * Table names are qualified with the app's schema in every statement rather than set through
   * search_path on the connection, so the store works behind PgBouncer in transaction pooling mode.
   */
  private readonly qualify: (sql: string) => string;

  static async open(options: PostgresOptions): Promise<PostgresStore> {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema)) {
      throw new CairnError("invalid_config", `"${options.schema}" is not a usable PostgreSQL schema name`);
    }
    // Loaded only when PostgreSQL is used: the embedded default starts without it.
    const { default: driver } = await importModule<{ default: typeof pg }>("pg");
    const pool = new driver.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      types: int8AsNumber(driver),
      // Fail fast while the database is unreachable; the pool reconnects by itself when it is back.
      connectionTimeoutMillis: 2000,
      // A database that stops answering (a hung server, a lost network) fails requests after this
      // long instead of leaving them hanging; Cairn's statements are short.
      query_timeout: 5000,
    });
    // A client that loses its server must not crash the process, idle (the pool's error event) or
    // checked out between two queries (the client's own, with nobody listening otherwise): its next
    // query fails instead, and the transaction drops it.
    pool.on("error", () => {});
    pool.on("connect", (client) => client.on("error", () => {}));
    const store = new PostgresStore(options, pool);
    try {
      await store.migrate();
    } catch (error) {
      await pool.end().catch(() => {});
      throw unavailable(error, mask(options.url));
    }
    return store;
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions<T>): Promise<T> {
    if (this.closed) throw new CairnError("shutting_down", "the store is closed");
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw unavailable(error, mask(this.options.url));
    }
    let done = false;
    let broken = false;
    try {
      await client.query("BEGIN");
      const tx = executor((text, values) => {
        if (done) throw new Error("a store transaction was used after it ended");
        return client.query(this.qualify(text), values);
      });
      const value = await work(tx);
      await client.query("COMMIT");
      done = true;
      notifyCommitted(options, value);
      return value;
    } catch (error) {
      done = true;
      broken = isConnectionError(error);
      if (!broken) await client.query("ROLLBACK").catch(() => {});
      if (broken) throw unavailable(error, mask(this.options.url));
      throw error;
    } finally {
      // A connection that failed is dropped rather than handed to the next transaction.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** Drop this store's schema and everything in it (tests). */
  async dropSchema(): Promise<void> {
    await this.pool.query(`DROP SCHEMA IF EXISTS ${this.options.schema} CASCADE`);
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.options.schema}`);
      await client.query("BEGIN");
      await client.query(`SET LOCAL search_path TO ${this.options.schema}`);
      // Nodes starting together take turns; the first applies, the others find it done.
      await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`cairn:${this.options.schema}`]);
      await client.query(
        "CREATE TABLE IF NOT EXISTS cairn_migrations (name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
      );
      const applied = new Set(
        (await client.query<{ name: string }>("SELECT name FROM cairn_migrations")).rows.map(
          (row) => row.name,
        ),
      );
      for (const migration of allMigrations()) {
        if (applied.has(migration.name)) continue;
        await client.query(migration.postgres);
        await client.query("INSERT INTO cairn_migrations (name, applied_at) VALUES ($1, $2)", [
          migration.name,
          Date.now(),
        ]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
}

type Query = (text: string, values: unknown[]) => Promise<pg.QueryResult>;

/** Qualify every cairn_* table (and sequence) name with the schema; cached per statement. */
function qualifier(schema: string): (sql: string) => string {
  const cache = new Map<string, string>();
  return (sql) => {
    let out = cache.get(sql);
    if (out === undefined) {
      out = sql.replace(/\bcairn_[a-z0-9_]+/g, (name) => `${schema}.${name}`);
      if (cache.size > 2000) cache.clear();
      cache.set(sql, out);
    }
    return out;
  };
}

function executor(query: Query): SqlExecutor {
  const run = async (sql: string, params: readonly SqlValue[]) => {
    try {
      return await query(numbered(sql), params.map(bind));
    } catch (error) {
      if (isConnectionError(error)) throw unavailable(error, "PostgreSQL");
      throw error;
    }
  };
  return {
    dialect: "postgres",
    async all<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row[]> {
      return (await run(sql, params)).rows as Row[];
    },
    async get<Row>(sql: string, params: readonly SqlValue[] = []): Promise<Row | undefined> {
      return (await run(sql, params)).rows[0] as Row | undefined;
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
      return { changes: (await run(sql, params)).rowCount ?? 0 };
    },
  };
}

function bind(value: SqlValue): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "57P01",
  "57P03",
  "08006",
  "08001",
  "08003",
]);

function isConnectionError(error: unknown): boolean {
  if (error instanceof CairnError) return error.code === "backend_unavailable";
  const code = (error as { code?: string }).code;
  const message = (error as Error).message ?? "";
  return (
    (code !== undefined && connectionCodes.has(code)) ||
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Query read timeout/i.test(
      message,
    )
  );
}

function unavailable(error: unknown, where: string): CairnError {
  if (error instanceof CairnError) return error;
  return new CairnError(
    "backend_unavailable",
    `the database (${where}) is unavailable: ${(error as Error).message}`,
    {
      cause: error,
      retryable: true,
    },
  );
}

/** A URL with its password replaced, for messages. */
export function mask(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "PostgreSQL";
  }
}
