/**
 * The durable store: one SQL database per app (a SQLite file, or a PostgreSQL schema) holding
 * every durable service's state, so a table write, the event it announces and a workflow checkpoint
 * can commit in one transaction. Services speak SQL through this small interface; the few places
 * where the dialects differ are spelled out with `dialect`.
 */
export type Dialect = "sqlite" | "postgres";

export type SqlValue = string | number | bigint | Uint8Array | null;

/** Runs SQL. Placeholders are written `?` for both dialects. */
export interface SqlExecutor {
  readonly dialect: Dialect;
  all<Row = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<Row[]>;
  get<Row = Record<string, unknown>>(sql: string, params?: readonly SqlValue[]): Promise<Row | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface Store {
  readonly dialect: Dialect;
  /** Reads of committed data, outside any transaction. */
  readonly read: SqlExecutor;
  /**
   * Single statements that each commit on their own, durable when they resolve: one round trip for
   * a write that is one statement (PostgreSQL). Absent on SQLite, where writes share commits.
   */
  readonly autocommit?: SqlExecutor;
  /**
   * Run `work` in a transaction; it resolves once the transaction is durable (fsync'd). If `work`
   * throws, nothing it did is kept. `work` must only await calls on `tx`: on SQLite, transactions
   * that arrive together share one commit (group commit), each in its own savepoint.
   */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions<T>): Promise<T>;
  /**
   * Resolves once everything a read can see is durable. Reads may see a commit whose fsync is still
   * running (SQLite); what reports another's write as done, a run's result say, waits for this
   * first. Absent where a commit is durable before anyone can read it (PostgreSQL).
   */
  synced?(): Promise<void>;
  close(): Promise<void>;
}

export interface TransactionOptions<T> {
  /**
   * Called once the transaction has committed, which on SQLite is before it is durable (its fsync
   * runs after). For starting work the transaction scheduled, whose own commits come later in the
   * same log and so can only be durable after this one, or for waking what waits for it, which
   * then reports it only after `synced()`; never for telling anyone it is done.
   * It runs in the async context of the call to `transaction`. An error it throws is dropped: the
   * caller repeats, or checks, the work once the transaction resolves.
   */
  committed?: (value: T) => void;
  /**
   * `work` needs no undo of its own if it fails: its writes before a failing statement are harmless
   * to keep (one write after drawing a version, say). On SQLite it then runs without the savepoint
   * that otherwise isolates it within a shared commit.
   */
  bare?: boolean;
}

/** Call a transaction's `committed` callback; an error it throws is dropped (see TransactionOptions). */
export function notifyCommitted<T>(options: TransactionOptions<T> | undefined, value: T): void {
  try {
    options?.committed?.(value);
  } catch {
    // the caller repeats the work after the transaction resolves
  }
}

/** A schema change, written for both dialects, applied once per database in name order. */
export interface Migration {
  name: string;
  sqlite: string;
  postgres: string;
}
