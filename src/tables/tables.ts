import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { Publisher } from "../events/publisher.js";
import type { SqlExecutor, SqlValue, Store } from "../store/types.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { ItemWriter, toItem } from "./engine.js";
import { emptyKey, encodeKey, prefixRange } from "./keys.js";
import { keyOf, type TableSchema } from "./schema.js";
import {
  tableLimits,
  type Conditions,
  type Item,
  type Page,
  type QueryOptions,
  type ScanOptions,
  type SortCondition,
  type Stored,
  type TransactionOp,
  type TransactionOptions,
  type TransactionResult,
  type UpdateChanges,
} from "./types.js";

/** An item as stored: its JSON and its version. Parsing waits for whoever needs the object. */
export interface ItemRow {
  version: number;
  data: string;
}

export interface RowPage {
  items: ItemRow[];
  cursor?: string;
}

/**
 * The tables of one app, on its store. Writes are store transactions (durable when they resolve);
 * reads see committed data and never return an expired item.
 */
export class Tables {
  readonly writer: ItemWriter;

  constructor(
    readonly store: Store,
    private readonly schemas: Map<string, TableSchema>,
    private readonly clock: Clock,
    private readonly publisher?: Publisher,
  ) {
    this.writer = new ItemWriter(clock, (name) => this.schema(name), publisher);
  }

  /** Run a write and, if it may have published events, wake this node's dispatcher after the commit. */
  private async write<T>(
    tables: string[],
    events: boolean,
    work: (tx: SqlExecutor) => Promise<T>,
  ): Promise<T> {
    const value = await this.store.transaction(work);
    if (
      this.publisher !== undefined &&
      (events || tables.some((name) => this.schemas.get(name)?.changeEvents))
    ) {
      this.publisher.published();
    }
    return value;
  }

  schema(name: string): TableSchema {
    const schema = typeof name === "string" ? this.schemas.get(name) : undefined;
    if (schema === undefined) {
      throw new CairnError(
        "not_found",
        `no table "${String(name)}": declare it under tables in cairn.config.ts`,
      );
    }
    return schema;
  }

  names(): string[] {
    return [...this.schemas.keys()];
  }

  async get(table: string, key: Item): Promise<Stored<Item> | undefined> {
    const row = await this.getRow(table, key);
    return row === undefined ? undefined : toItem(row);
  }

  getRow(table: string, key: Item): Promise<ItemRow | undefined> {
    const schema = this.schema(table);
    const { pk, sk } = keyOf(schema, key);
    return this.store.read.get<ItemRow>(
      "SELECT version, data FROM cairn_items WHERE tbl = ? AND pk = ? AND sk = ? AND (expires_at IS NULL OR expires_at > ?)",
      [schema.name, pk, sk, this.clock.now()],
    );
  }

  async put(table: string, item: Item, conditions?: Conditions): Promise<Stored<Item>> {
    if (this.writer.canPutAlone(table, conditions)) {
      const alone = this.store.autocommit;
      if (alone !== undefined) return this.writer.putAlone(alone, table, item);
      return this.store.transaction((tx) => this.writer.upsert(tx, table, item), { bare: true });
    }
    return this.write([table], false, (tx) => this.writer.put(tx, table, item, conditions));
  }

  update(table: string, key: Item, changes: UpdateChanges, conditions?: Conditions): Promise<Stored<Item>> {
    return this.write([table], false, (tx) => this.writer.update(tx, table, key, changes, conditions));
  }

  delete(table: string, key: Item, conditions?: Conditions): Promise<boolean> {
    return this.write([table], false, (tx) => this.writer.delete(tx, table, key, conditions));
  }

  async query(table: string, partition: unknown, options: QueryOptions = {}): Promise<Page<Item>> {
    return parsePage(await this.queryRows(table, partition, options));
  }

  async queryRows(table: string, partition: unknown, options: QueryOptions = {}): Promise<RowPage> {
    const schema = this.schema(table);
    const { limit, order } = pageOptions(options);
    const index = options.index === undefined ? undefined : schema.indexes.get(options.index);
    if (options.index !== undefined && index === undefined) {
      throw new CairnError("not_found", `table ${schema.name} has no index "${options.index}"`);
    }
    const pkAttribute = index?.partitionKey ?? schema.partitionKey;
    const skAttribute = index ? index.sortKey : schema.sortKey;
    const pk = encodeKey(partition, pkAttribute);
    const scope = `q:${schema.name}:${options.index ?? ""}:${order}`;
    const after = options.cursor === undefined ? undefined : decodeCursor(options.cursor, scope);
    const [lower, upper] = sortBounds(options.sort, skAttribute, schema.name);
    const desc = order === "desc";
    const params: SqlValue[] = [];
    let sql: string;
    const sortColumn = index ? "e.isk" : "i.sk";
    let where: string;
    if (index) {
      sql =
        "SELECT i.version, i.data FROM cairn_index_entries e JOIN cairn_items i ON i.tbl = e.tbl AND i.pk = e.pk AND i.sk = e.sk";
      where = " WHERE e.tbl = ? AND e.idx = ? AND e.ipk = ?";
      params.push(schema.name, options.index!, pk);
    } else {
      sql = "SELECT i.version, i.data FROM cairn_items i";
      where = " WHERE i.tbl = ? AND i.pk = ?";
      params.push(schema.name, pk);
    }
    if (lower !== undefined) {
      where += ` AND ${sortColumn} ${lower.inclusive ? ">=" : ">"} ?`;
      params.push(lower.value);
    }
    if (upper !== undefined) {
      where += ` AND ${sortColumn} ${upper.inclusive ? "<=" : "<"} ?`;
      params.push(upper.value);
    }
    if (after !== undefined) {
      if (index) {
        if (after.length !== 3) throw new CairnError("invalid_argument", "the cursor is not valid");
        where += ` AND (e.isk, e.pk, e.sk) ${desc ? "<" : ">"} (?, ?, ?)`;
        params.push(after[0]!, after[1]!, after[2]!);
      } else {
        if (after.length !== 1) throw new CairnError("invalid_argument", "the cursor is not valid");
        where += ` AND i.sk ${desc ? "<" : ">"} ?`;
        params.push(after[0]!);
      }
    }
    where += " AND (i.expires_at IS NULL OR i.expires_at > ?)";
    params.push(this.clock.now());
    const direction = desc ? "DESC" : "ASC";
    const orderBy = index
      ? ` ORDER BY e.isk ${direction}, e.pk ${direction}, e.sk ${direction}`
      : ` ORDER BY i.sk ${direction}`;
    params.push(limit + 1);
    const rows = await this.store.read.all<ItemRow>(`${sql}${where}${orderBy} LIMIT ?`, params);
    return page(rows, limit, scope, (item) => {
      const { pk: itemPk, sk: itemSk } = keyOf(schema, item);
      if (!index) return [itemSk];
      const isk = index.sortKey === undefined ? emptyKey : encodeKey(item[index.sortKey], index.sortKey);
      return [isk, itemPk, itemSk];
    });
  }

  async scan(table: string, options: ScanOptions = {}): Promise<Page<Item>> {
    return parsePage(await this.scanRows(table, options));
  }

  async scanRows(table: string, options: ScanOptions = {}): Promise<RowPage> {
    const schema = this.schema(table);
    const { limit } = pageOptions(options);
    const scope = `s:${schema.name}`;
    const params: SqlValue[] = [schema.name];
    let where = "WHERE tbl = ?";
    if (options.cursor !== undefined) {
      const after = decodeCursor(options.cursor, scope);
      if (after.length !== 2) throw new CairnError("invalid_argument", "the cursor is not valid");
      where += " AND (pk, sk) > (?, ?)";
      params.push(after[0]!, after[1]!);
    }
    params.push(this.clock.now(), limit + 1);
    const rows = await this.store.read.all<ItemRow>(
      `SELECT version, data FROM cairn_items ${where} AND (expires_at IS NULL OR expires_at > ?) ORDER BY pk, sk LIMIT ?`,
      params,
    );
    return page(rows, limit, scope, (item) => {
      const { pk, sk } = keyOf(schema, item);
      return [pk, sk];
    });
  }

  /** Up to 100 writes and checks, all or nothing; a failed condition names the op that failed. */
  transact(ops: TransactionOp[], options: TransactionOptions = {}): Promise<TransactionResult> {
    if (!Array.isArray(ops) || ops.length === 0) {
      return Promise.reject(
        new CairnError("invalid_argument", "transact needs a non-empty array of operations"),
      );
    }
    if (ops.length > tableLimits.transactionOps) {
      return Promise.reject(
        new CairnError(
          "invalid_argument",
          `a transaction holds at most ${tableLimits.transactionOps} operations, got ${ops.length}`,
        ),
      );
    }
    const touched = ops.map((op) => Object.values(op as Record<string, { table?: string }>)[0]?.table ?? "");
    return this.write(touched, (options.events?.length ?? 0) > 0, async (tx) => {
      const seen = new Set<string>();
      const results: TransactionResult = [];
      for (let i = 0; i < ops.length; i++) {
        const op = ops[i]!;
        try {
          results.push(await this.apply(tx, op, seen));
        } catch (error) {
          if (error instanceof CairnError && error.code === "condition_failed") {
            throw new CairnError("condition_failed", `transaction operation ${i}: ${error.message}`, {
              details: { ...error.details, operation: i },
            });
          }
          throw error;
        }
      }
      await this.writer.events(tx, options.events);
      return results;
    });
  }

  private async apply(
    tx: Parameters<ItemWriter["put"]>[0],
    op: TransactionOp,
    seen: Set<string>,
  ): Promise<Stored<Item> | boolean | null> {
    const once = (table: string, key: Item) => {
      const { pk, sk } = keyOf(this.schema(table), key);
      const id = `${table}\0${Buffer.from(pk).toString("hex")}\0${Buffer.from(sk).toString("hex")}`;
      if (seen.has(id)) {
        throw new CairnError("invalid_argument", `a transaction may touch an item only once (${table})`);
      }
      seen.add(id);
    };
    if ("put" in op) {
      const { table, item, ...conditions } = op.put;
      once(table, item);
      return this.writer.put(tx, table, item, conditions);
    }
    if ("update" in op) {
      const { table, key, changes, ...conditions } = op.update;
      once(table, key);
      return this.writer.update(tx, table, key, changes, conditions);
    }
    if ("delete" in op) {
      const { table, key, ...conditions } = op.delete;
      once(table, key);
      return this.writer.delete(tx, table, key, conditions);
    }
    if ("check" in op) {
      const { table, key, ...conditions } = op.check;
      once(table, key);
      await this.writer.check(tx, table, key, conditions);
      return null;
    }
    throw new CairnError(
      "invalid_argument",
      "each transaction operation is one of put, update, delete or check",
    );
  }
}

function pageOptions(options: { limit?: number; order?: string }): { limit: number; order: "asc" | "desc" } {
  const limit = options.limit ?? tableLimits.defaultQueryLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > tableLimits.queryLimit) {
    throw new CairnError("invalid_argument", `limit must be an integer from 1 to ${tableLimits.queryLimit}`);
  }
  const order = options.order ?? "asc";
  if (order !== "asc" && order !== "desc")
    throw new CairnError("invalid_argument", 'order must be "asc" or "desc"');
  return { limit, order };
}

interface Bound {
  value: Uint8Array;
  inclusive: boolean;
}

function sortBounds(
  sort: SortCondition | undefined,
  attribute: string | undefined,
  table: string,
): [Bound | undefined, Bound | undefined] {
  if (sort === undefined) return [undefined, undefined];
  if (attribute === undefined) {
    throw new CairnError(
      "invalid_argument",
      `${table}: a sort condition needs a sort key, and this one has none`,
    );
  }
  if (typeof sort !== "object" || sort === null) {
    throw new CairnError(
      "invalid_argument",
      "sort must be one of { eq }, { lt }, { lte }, { gt }, { gte }, { between }, { beginsWith }",
    );
  }
  const key = (value: unknown) => encodeKey(value, attribute);
  if ("eq" in sort)
    return [
      { value: key(sort.eq), inclusive: true },
      { value: key(sort.eq), inclusive: true },
    ];
  if ("lt" in sort) return [undefined, { value: key(sort.lt), inclusive: false }];
  if ("lte" in sort) return [undefined, { value: key(sort.lte), inclusive: true }];
  if ("gt" in sort) return [{ value: key(sort.gt), inclusive: false }, undefined];
  if ("gte" in sort) return [{ value: key(sort.gte), inclusive: true }, undefined];
  if ("between" in sort) {
    if (!Array.isArray(sort.between) || sort.between.length !== 2) {
      throw new CairnError("invalid_argument", "between takes [low, high]");
    }
    return [
      { value: key(sort.between[0]), inclusive: true },
      { value: key(sort.between[1]), inclusive: true },
    ];
  }
  if ("beginsWith" in sort) {
    if (typeof sort.beginsWith !== "string")
      throw new CairnError("invalid_argument", "beginsWith takes a string");
    const [start, end] = prefixRange(sort.beginsWith);
    return [
      { value: start, inclusive: true },
      end === undefined ? undefined : { value: end, inclusive: false },
    ];
  }
  throw new CairnError(
    "invalid_argument",
    "sort must be one of { eq }, { lt }, { lte }, { gt }, { gte }, { between }, { beginsWith }",
  );
}

/** Selecting the key columns costs more than re-encoding the last item's key, so positions come from items. */
function page(
  rows: ItemRow[],
  limit: number,
  scope: string,
  position: (item: Item) => Uint8Array[],
): RowPage {
  const more = rows.length > limit;
  const items = more ? rows.slice(0, limit) : rows;
  if (!more) return { items };
  const last = JSON.parse(items[items.length - 1]!.data) as Item;
  return { items, cursor: encodeCursor({ scope, after: position(last) }) };
}

function parsePage(rows: RowPage): Page<Item> {
  const items = rows.items.map(toItem);
  return rows.cursor === undefined ? { items } : { items, cursor: rows.cursor };
}
