import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { SqlExecutor, Store } from "../store/types.js";
import { applyChanges } from "./changes.js";
import type { Publisher } from "../events/publisher.js";
import { keyOf, derive, type EncodedKey, type TableSchema } from "./schema.js";
import {
  tableLimits,
  type Conditions,
  type Item,
  type OutboxEvent,
  type Stored,
  type UpdateChanges,
} from "./types.js";

interface Row {
  version: number;
  expires_at: number | null;
  data: string;
}

/** A write was beaten to an insert by a concurrent transaction: read again and decide again. */
class InsertRace extends Error {}

/**
 * Item writes for every dialect. Each runs inside a store transaction: read the current row (locked
 * on PostgreSQL), check the conditions against it, write the item, its expiry and its index entries.
 * An expired item counts as absent everywhere.
 */
export class ItemWriter {
  constructor(
    private readonly clock: Clock,
    private readonly table: (name: string) => TableSchema,
    private readonly publisher: Publisher | undefined,
  ) {}

  async put(
    tx: SqlExecutor,
    tableName: string,
    item: Item,
    conditions: Conditions = {},
  ): Promise<Stored<Item>> {
    const schema = this.table(tableName);
    const clean = checkItem(schema, item);
    const key = keyOf(schema, clean);
    return this.retrying(async () => {
      const row = await this.lock(tx, schema, key);
      checkConditions(schema, this.live(row), conditions);
      const stored = await this.store(tx, schema, key, clean, row !== undefined);
      await this.changed(tx, schema, "put", clean, stored);
      return stored;
    });
  }

  /**
   * A put without conditions on a table without indexes or change events, on a store with
   * autocommit (PostgreSQL): one upsert that commits on its own, one round trip to the server instead of five (begin, lock,
   * version, write, commit), with the same outcome. The row lock the upsert takes orders it with
   * concurrent transactions on the item as the locking read would; an existing item's new version
   * is drawn after that lock, so versions grow in commit order as on the transactional path.
   */
  async putAlone(exec: SqlExecutor, tableName: string, item: Item): Promise<Stored<Item>> {
    const { schema, clean, key, data, expiresAt } = this.plainItem(tableName, item);
    const row = await exec.get<{ version: number }>(
      "INSERT INTO cairn_items (tbl, pk, sk, version, expires_at, data) VALUES (?, ?, ?, nextval('cairn_versions'), ?, ?)" +
        " ON CONFLICT (tbl, pk, sk) DO UPDATE SET version = nextval('cairn_versions'), expires_at = excluded.expires_at, data = excluded.data" +
        " RETURNING version",
      [schema.name, key.pk, key.sk, expiresAt, data],
    );
    return { ...clean, _version: Number(row!.version) };
  }

  /**
   * putAlone on SQLite, where writes share commits: a version drawn and one upsert, in a bare
   * transaction (no savepoint of its own: if the upsert fails, the drawn version is merely skipped).
   */
  async upsert(tx: SqlExecutor, tableName: string, item: Item): Promise<Stored<Item>> {
    const { schema, clean, key, data, expiresAt } = this.plainItem(tableName, item);
    const version = await nextVersion(tx);
    await tx.run(
      "INSERT INTO cairn_items (tbl, pk, sk, version, expires_at, data) VALUES (?, ?, ?, ?, ?, ?)" +
        " ON CONFLICT (tbl, pk, sk) DO UPDATE SET version = excluded.version, expires_at = excluded.expires_at, data = excluded.data",
      [schema.name, key.pk, key.sk, version, expiresAt, data],
    );
    return { ...clean, _version: version };
  }

  /** An item for putAlone or upsert, checked and encoded before anything is written. */
  private plainItem(tableName: string, item: Item) {
    const schema = this.table(tableName);
    const clean = checkItem(schema, item);
    return {
      schema,
      clean,
      key: keyOf(schema, clean),
      data: encodeItem(schema, clean),
      expiresAt: derive(schema, clean).expiresAt,
    };
  }

  /** Whether a put may take putAlone's (or upsert's) path. */
  canPutAlone(tableName: string, conditions: Conditions | undefined): boolean {
    if (conditions !== undefined) {
      if (typeof conditions !== "object" || conditions === null) return false;
      if (conditions.ifNotExists || conditions.ifExists || conditions.ifVersion !== undefined) return false;
    }
    const schema = this.table(tableName);
    return schema.indexes.size === 0 && !schema.changeEvents;
  }

  async update(
    tx: SqlExecutor,
    tableName: string,
    keyItem: Item,
    changes: UpdateChanges,
    conditions: Conditions = {},
  ): Promise<Stored<Item>> {
    const schema = this.table(tableName);
    const key = keyOf(schema, keyItem);
    if (typeof changes !== "object" || changes === null) {
      throw new CairnError(
        "invalid_argument",
        "update: changes must be an object with set, remove, increment or append",
      );
    }
    return this.retrying(async () => {
      const row = await this.lock(tx, schema, key);
      const live = this.live(row);
      checkConditions(schema, live, conditions);
      const base: Item = live ? (JSON.parse(live.data) as Item) : keyAttributes(schema, keyItem);
      const next = applyChanges(base, changes, schema.keyAttributes);
      const stored = await this.store(tx, schema, key, checkItem(schema, next), row !== undefined);
      await this.changed(tx, schema, "update", stored, stored);
      return stored;
    });
  }

  async delete(
    tx: SqlExecutor,
    tableName: string,
    keyItem: Item,
    conditions: Conditions = {},
  ): Promise<boolean> {
    const schema = this.table(tableName);
    const key = keyOf(schema, keyItem);
    const row = await this.lock(tx, schema, key);
    const live = this.live(row);
    checkConditions(schema, live, conditions);
    if (row === undefined) return false;
    await tx.run("DELETE FROM cairn_items WHERE tbl = ? AND pk = ? AND sk = ?", [
      schema.name,
      key.pk,
      key.sk,
    ]);
    if (schema.indexes.size > 0) {
      await tx.run("DELETE FROM cairn_index_entries WHERE tbl = ? AND pk = ? AND sk = ?", [
        schema.name,
        key.pk,
        key.sk,
      ]);
    }
    if (live !== undefined) await this.changed(tx, schema, "delete", keyItem);
    return live !== undefined;
  }

  /** A condition check inside a transaction: fails it without writing anything. */
  async check(tx: SqlExecutor, tableName: string, keyItem: Item, conditions: Conditions): Promise<void> {
    const schema = this.table(tableName);
    const key = keyOf(schema, keyItem);
    checkConditions(schema, this.live(await this.lock(tx, schema, key)), conditions);
  }

  /** Append outbox events in this transaction (delivered to their subscribers once it commits). */
  async events(tx: SqlExecutor, events: OutboxEvent[] | undefined): Promise<void> {
    if (events === undefined || events.length === 0) return;
    if (this.publisher === undefined) {
      throw new CairnError(
        "invalid_argument",
        "events need the events service, which this store has no publisher for",
      );
    }
    await this.publisher.append(tx, events);
  }

  /** One change event per committed write of a table declared with changeEvents, ordered per item. */
  private async changed(
    tx: SqlExecutor,
    schema: TableSchema,
    type: "put" | "update" | "delete",
    key: Item,
    item?: Stored<Item>,
  ): Promise<void> {
    if (!schema.changeEvents || this.publisher === undefined) return;
    const keyValues: Item = {};
    for (const attribute of schema.keyAttributes) keyValues[attribute] = key[attribute];
    await this.publisher.append(tx, [
      {
        topic: `table.${schema.name}`,
        key: JSON.stringify(schema.keyAttributes.map((attribute) => key[attribute])),
        payload:
          item === undefined
            ? { table: schema.name, type, key: keyValues }
            : { table: schema.name, type, key: keyValues, item },
      },
    ]);
  }

  private async retrying<T>(attempt: () => Promise<T>): Promise<T> {
    for (let tries = 0; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (!(error instanceof InsertRace) || tries >= 3) throw error;
      }
    }
  }

  private lock(tx: SqlExecutor, schema: TableSchema, key: EncodedKey): Promise<Row | undefined> {
    const forUpdate = tx.dialect === "postgres" ? " FOR UPDATE" : "";
    return tx.get<Row>(
      `SELECT version, expires_at, data FROM cairn_items WHERE tbl = ? AND pk = ? AND sk = ?${forUpdate}`,
      [schema.name, key.pk, key.sk],
    );
  }

  private live(row: Row | undefined): Row | undefined {
    if (row === undefined) return undefined;
    if (row.expires_at !== null && row.expires_at <= this.clock.now()) return undefined;
    return row;
  }

  private async store(
    tx: SqlExecutor,
    schema: TableSchema,
    key: EncodedKey,
    item: Item,
    exists: boolean,
  ): Promise<Stored<Item>> {
    const data = encodeItem(schema, item);
    const { expiresAt, entries } = derive(schema, item);
    const version = await nextVersion(tx);
    if (exists) {
      await tx.run(
        "UPDATE cairn_items SET version = ?, expires_at = ?, data = ? WHERE tbl = ? AND pk = ? AND sk = ?",
        [version, expiresAt, data, schema.name, key.pk, key.sk],
      );
      if (schema.indexes.size > 0) {
        await tx.run("DELETE FROM cairn_index_entries WHERE tbl = ? AND pk = ? AND sk = ?", [
          schema.name,
          key.pk,
          key.sk,
        ]);
      }
    } else {
      const inserted = await tx.run(
        "INSERT INTO cairn_items (tbl, pk, sk, version, expires_at, data) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [schema.name, key.pk, key.sk, version, expiresAt, data],
      );
      if (inserted.changes === 0) throw new InsertRace();
    }
    for (const entry of entries) {
      await tx.run("INSERT INTO cairn_index_entries (tbl, idx, ipk, isk, pk, sk) VALUES (?, ?, ?, ?, ?, ?)", [
        schema.name,
        entry.idx,
        entry.ipk,
        entry.isk,
        key.pk,
        key.sk,
      ]);
    }
    return { ...item, _version: version };
  }
}

/** Versions come from one counter per store, so a deleted and re-created item never reuses one. */
export async function nextVersion(tx: SqlExecutor): Promise<number> {
  const row =
    tx.dialect === "postgres"
      ? await tx.get<{ value: number }>("SELECT nextval('cairn_versions') AS value")
      : await tx.get<{ value: number }>(
          "UPDATE cairn_meta SET value = value + 1 WHERE key = 'version' RETURNING value",
        );
  return Number(row!.value);
}

/** An item as stored: JSON, within the item size limit. */
function encodeItem(schema: TableSchema, item: Item): string {
  const data = JSON.stringify(item);
  if (Buffer.byteLength(data) > tableLimits.itemBytes) {
    throw new CairnError(
      "item_too_large",
      `${schema.name}: the item exceeds ${tableLimits.itemBytes} bytes as JSON`,
    );
  }
  return data;
}

function checkConditions(schema: TableSchema, live: Row | undefined, conditions: Conditions): void {
  if (typeof conditions !== "object" || conditions === null) {
    throw new CairnError("invalid_argument", "conditions must be an object such as { ifVersion: 3 }");
  }
  const { ifNotExists, ifExists, ifVersion } = conditions;
  if (ifVersion !== undefined && (typeof ifVersion !== "number" || !Number.isInteger(ifVersion))) {
    throw new CairnError("invalid_argument", "ifVersion must be an item's _version (an integer)");
  }
  if (ifNotExists && live !== undefined) {
    throw conditionFailed(schema, "the item already exists", live.version);
  }
  if ((ifExists || ifVersion !== undefined) && live === undefined) {
    throw conditionFailed(schema, "the item does not exist", undefined);
  }
  if (ifVersion !== undefined && live !== undefined && Number(live.version) !== ifVersion) {
    throw conditionFailed(schema, `the item is at version ${live.version}, not ${ifVersion}`, live.version);
  }
}

function conditionFailed(schema: TableSchema, why: string, current: number | undefined): CairnError {
  return new CairnError("condition_failed", `${schema.name}: condition failed: ${why}`, {
    details:
      current === undefined
        ? { table: schema.name }
        : { table: schema.name, currentVersion: Number(current) },
  });
}

/** Items are plain JSON objects; `_version` is the store's, not the caller's. */
function checkItem(schema: TableSchema, item: Item): Item {
  if (typeof item !== "object" || item === null || Array.isArray(item)) {
    throw new CairnError("invalid_argument", `${schema.name}: an item must be a plain object`);
  }
  if ("_version" in item) {
    const { _version: _ignored, ...rest } = item;
    return rest;
  }
  return item;
}

function keyAttributes(schema: TableSchema, key: Item): Item {
  const out: Item = {};
  for (const attribute of schema.keyAttributes) out[attribute] = key[attribute];
  return out;
}

/** Parse a stored row back into an item. */
export function toItem(row: { version: number; data: string }): Stored<Item> {
  const item = JSON.parse(row.data) as Item;
  return { ...item, _version: Number(row.version) };
}

export type { Store };
