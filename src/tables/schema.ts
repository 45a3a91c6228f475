import * as v from "valibot";
import { CairnError } from "../sdk/errors.js";
import { encodeKey, emptyKey } from "./keys.js";
import { tableLimits, type Item, type TableDefinition } from "./types.js";

const attribute = v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "use letters, digits and _"));
const indexName = v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9_]*$/, "use letters, digits and _"));

const tableDefinitionSchema = v.strictObject({
  partitionKey: attribute,
  sortKey: v.optional(attribute),
  indexes: v.optional(
    v.record(indexName, v.strictObject({ partitionKey: attribute, sortKey: v.optional(attribute) })),
  ),
  ttl: v.optional(attribute),
  changeEvents: v.optional(v.boolean()),
});

/** The `tables` section of cairn.config.ts. */
export const tablesConfigSchema = v.pipe(
  v.record(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z][A-Za-z0-9_]*$/, "table names use letters, digits and _, starting with a letter"),
      v.check((name) => name !== "transact", '"transact" is reserved (ctx.tables.transact)'),
    ),
    tableDefinitionSchema,
  ),
);

/** A table's definition, compiled for the engine. */
export interface TableSchema {
  name: string;
  definition: TableDefinition;
  partitionKey: string;
  sortKey: string | undefined;
  keyAttributes: string[];
  indexes: Map<string, { partitionKey: string; sortKey: string | undefined }>;
  ttl: string | undefined;
  /** Publish one `table.<name>` event per committed write. */
  changeEvents: boolean;
}

export function compileSchema(name: string, definition: TableDefinition): TableSchema {
  const indexes = new Map<string, { partitionKey: string; sortKey: string | undefined }>();
  for (const [index, spec] of Object.entries(definition.indexes ?? {})) {
    indexes.set(index, { partitionKey: spec.partitionKey, sortKey: spec.sortKey });
  }
  const keyAttributes = definition.sortKey
    ? [definition.partitionKey, definition.sortKey]
    : [definition.partitionKey];
  return {
    name,
    definition,
    partitionKey: definition.partitionKey,
    sortKey: definition.sortKey,
    keyAttributes,
    indexes,
    ttl: definition.ttl,
    changeEvents: definition.changeEvents === true,
  };
}

export interface EncodedKey {
  pk: Uint8Array;
  sk: Uint8Array;
}

/** The encoded primary key of an item (or of a key object), with the key size limits enforced. */
export function keyOf(schema: TableSchema, item: Item): EncodedKey {
  if (typeof item !== "object" || item === null) {
    throw new CairnError(
      "invalid_key",
      `${schema.name}: a key must be an object holding ${schema.keyAttributes.join(" and ")}`,
    );
  }
  const pk = encodeKey(item[schema.partitionKey], schema.partitionKey);
  if (pk.length - 1 > tableLimits.partitionKeyBytes) {
    throw new CairnError(
      "invalid_key",
      `${schema.name}: the partition key exceeds ${tableLimits.partitionKeyBytes} bytes`,
    );
  }
  if (schema.sortKey === undefined) return { pk, sk: emptyKey };
  const sk = encodeKey(item[schema.sortKey], schema.sortKey);
  if (sk.length - 1 > tableLimits.sortKeyBytes) {
    throw new CairnError(
      "invalid_key",
      `${schema.name}: the sort key exceeds ${tableLimits.sortKeyBytes} bytes`,
    );
  }
  return { pk, sk };
}

export interface IndexEntry {
  idx: string;
  ipk: Uint8Array;
  isk: Uint8Array;
}

/** What the store keeps besides the item itself: its expiry and its secondary index entries. */
export function derive(schema: TableSchema, item: Item): { expiresAt: number | null; entries: IndexEntry[] } {
  let expiresAt: number | null = null;
  if (schema.ttl !== undefined) {
    const seconds = item[schema.ttl];
    if (typeof seconds === "number" && Number.isFinite(seconds)) expiresAt = Math.round(seconds * 1000);
  }
  const entries: IndexEntry[] = [];
  for (const [idx, spec] of schema.indexes) {
    const partition = item[spec.partitionKey];
    if (typeof partition !== "string" && typeof partition !== "number") continue; // sparse: not indexed
    let isk: Uint8Array = emptyKey;
    if (spec.sortKey !== undefined) {
      const sort = item[spec.sortKey];
      if (typeof sort !== "string" && typeof sort !== "number") continue;
      isk = encodeKey(sort, spec.sortKey);
    }
    entries.push({ idx, ipk: encodeKey(partition, spec.partitionKey), isk });
  }
  return { expiresAt, entries };
}

/** Canonical JSON of a definition, for the catalog: key order must not look like a change. */
export function canonical(definition: TableDefinition): string {
  const indexes = Object.fromEntries(
    Object.entries(definition.indexes ?? {})
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, spec]) => [name, { partitionKey: spec.partitionKey, sortKey: spec.sortKey ?? null }]),
  );
  return JSON.stringify({
    partitionKey: definition.partitionKey,
    sortKey: definition.sortKey ?? null,
    indexes,
    ttl: definition.ttl ?? null,
  });
}
