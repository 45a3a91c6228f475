/**
 * The tables API (the DynamoDB / Cosmos DB role): items under a partition key and an optional sort
 * key, a version on every item, conditional writes, range queries, secondary indexes, TTL and
 * transactions that may also append outbox events. The same shapes are used inside functions
 * (ctx.tables) and by host services that keep their own state in system tables.
 */

/** Key attribute values: strings or numbers (finite). */
export type KeyValue = string | number;

export type Item = Record<string, unknown>;

/** What every stored item carries besides its own attributes. */
export interface ItemMeta {
  /** Changes on every write; pass it back as `ifVersion` for optimistic concurrency. */
  _version: number;
}

export type Stored<T> = T & ItemMeta;

/** Conditions on a write; when one does not hold the write fails with `condition_failed`. */
export interface Conditions {
  /** The item must not exist yet. */
  ifNotExists?: boolean;
  /** The item must exist. */
  ifExists?: boolean;
  /** The item must exist with exactly this version. */
  ifVersion?: number;
}

/**
 * Changes to an item. Paths are attribute names, or dotted paths into nested objects
 * ("address.city"). An update of a missing item creates it (unless `ifExists`/`ifVersion`).
 */
export interface UpdateChanges {
  set?: Record<string, unknown>;
  remove?: string[];
  /** Add to a number (a missing attribute counts as 0). */
  increment?: Record<string, number>;
  /** Append to a list (a missing attribute counts as []). */
  append?: Record<string, unknown[]>;
}

/** A condition on the sort key of a query (of the table, or of the index being queried). */
export type SortCondition =
  | { eq: KeyValue }
  | { lt: KeyValue }
  | { lte: KeyValue }
  | { gt: KeyValue }
  | { gte: KeyValue }
  | { between: [KeyValue, KeyValue] }
  | { beginsWith: string };

export interface QueryOptions {
  /** Query a secondary index instead of the table. */
  index?: string;
  sort?: SortCondition;
  /** Sort key order (default "asc"). */
  order?: "asc" | "desc";
  /** Items per page (default 100, at most 1000). */
  limit?: number;
  /** From the previous page's `cursor`. */
  cursor?: string;
}

export interface ScanOptions {
  limit?: number;
  cursor?: string;
}

export interface Page<T> {
  items: Array<Stored<T>>;
  /** Present when there may be more items: pass it to get the next page. */
  cursor?: string;
}

export interface Table<T extends object = Item> {
  get(key: Partial<T>): Promise<Stored<T> | undefined>;
  put(item: T, conditions?: Conditions): Promise<Stored<T>>;
  update(key: Partial<T>, changes: UpdateChanges, conditions?: Conditions): Promise<Stored<T>>;
  /** Resolves true when an item was deleted, false when there was none. */
  delete(key: Partial<T>, conditions?: Conditions): Promise<boolean>;
  /** Items of one partition (of the table, or of `options.index`), in sort key order. */
  query(partition: KeyValue, options?: QueryOptions): Promise<Page<T>>;
  /** Every item of the table, in no particular order, a page at a time. */
  scan(options?: ScanOptions): Promise<Page<T>>;
}

/** An event appended to the outbox in the same transaction as the writes that cause it. */
export interface OutboxEvent {
  topic: string;
  payload: unknown;
  /** Orders events: events with one key are delivered in commit order. */
  key?: string;
}

export type TransactionOp =
  | { put: { table: string; item: Item } & Conditions }
  | { update: { table: string; key: Item; changes: UpdateChanges } & Conditions }
  | { delete: { table: string; key: Item } & Conditions }
  | { check: { table: string; key: Item } & Conditions };

export interface TransactionOptions {
  events?: OutboxEvent[];
}

/** Per op: the item as written (put, update), whether it existed (delete), or nothing (check). */
export type TransactionResult = Array<Stored<Item> | boolean | null>;

export interface TablesApi {
  /** Up to 100 writes and checks, all or nothing, with outbox events committed alongside. */
  transact(ops: TransactionOp[], options?: TransactionOptions): Promise<TransactionResult>;
}

/** A table's declaration in cairn.config.ts. */
export interface TableDefinition<T extends object = Item> {
  partitionKey: keyof T & string;
  sortKey?: keyof T & string;
  /** Secondary indexes by name: items lacking the index's partition key are left out of it. */
  indexes?: Record<string, { partitionKey: keyof T & string; sortKey?: keyof T & string }>;
  /** An attribute holding an expiry time in epoch seconds; expired items are never returned. */
  ttl?: keyof T & string;
  /** Publish one `table.<name>` event per committed write, in order per item (see on.tableChange). */
  changeEvents?: boolean;
}

/** Phantom carrier of a table's item type through the config: `table<User>({ partitionKey: "id" })`. */
export interface TypedTableDefinition<T extends object> extends TableDefinition<T> {
  readonly __item?: T;
}

export type TablesOf<Definitions> = {
  [Name in keyof Definitions]: Definitions[Name] extends TypedTableDefinition<infer T> ? Table<T> : Table;
} & TablesApi;

/** Limits, documented in the README and enforced by every driver. */
export const tableLimits = {
  itemBytes: 400 * 1024,
  partitionKeyBytes: 2048,
  sortKeyBytes: 1024,
  transactionOps: 100,
  queryLimit: 1000,
  defaultQueryLimit: 100,
} as const;
