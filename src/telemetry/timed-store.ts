import type { HistogramSeries } from "../metrics/registry.js";
import type { SqlExecutor, SqlValue, Store, TransactionOptions } from "../store/types.js";
import type { Telemetry } from "./telemetry.js";

/**
 * The store with its latency measured: each read (one query on committed data) and each
 * transaction (from the call until it is durable, group commit included) is one observation of
 * `cairn_store_duration_seconds{app, operation}`. Statements inside a transaction are not timed one
 * by one: on SQLite they run in a shared commit, and their sum is the transaction.
 */
export function timedStore(store: Store, telemetry: Telemetry, app: string): Store {
  const reads = telemetry.store.series({ app, operation: "read" });
  const transactions = telemetry.store.series({ app, operation: "transaction" });
  const read = timedExecutor(store.read, reads);
  return {
    dialect: store.dialect,
    read,
    // A statement that commits on its own is a transaction of one.
    ...(store.autocommit && { autocommit: timedExecutor(store.autocommit, transactions) }),
    transaction<T>(work: (tx: SqlExecutor) => Promise<T>, options?: TransactionOptions<T>): Promise<T> {
      return timed(transactions, () => store.transaction(work, options));
    },
    ...(store.synced && { synced: () => store.synced!() }),
    close: () => store.close(),
  };
}

function timedExecutor(executor: SqlExecutor, series: HistogramSeries): SqlExecutor {
  return {
    dialect: executor.dialect,
    all: <Row>(sql: string, params?: readonly SqlValue[]) =>
      timed(series, () => executor.all<Row>(sql, params)),
    get: <Row>(sql: string, params?: readonly SqlValue[]) =>
      timed(series, () => executor.get<Row>(sql, params)),
    run: (sql: string, params?: readonly SqlValue[]) => timed(series, () => executor.run(sql, params)),
  };
}

function timed<T>(series: HistogramSeries, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const work = run();
  const observe = () => series.observe((performance.now() - started) / 1000);
  work.then(observe, observe);
  return work;
}
