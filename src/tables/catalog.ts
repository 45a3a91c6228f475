import { CairnError } from "../sdk/errors.js";
import type { SqlExecutor, Store } from "../store/types.js";
import { canonical, derive, type TableSchema } from "./schema.js";

interface CatalogRow {
  name: string;
  definition: string;
}

/**
 * Bring the store's catalog in line with the declared tables. New tables and indexes, changed or
 * removed indexes and a changed TTL attribute are safe: existing items are re-derived. A changed
 * partition or sort key would need every item rewritten under a new key, so it is refused.
 * Returns what changed, for the log.
 */
export async function syncCatalog(store: Store, schemas: TableSchema[]): Promise<string[]> {
  return store.transaction(async (tx) => {
    if (tx.dialect === "postgres") await tx.get("SELECT pg_advisory_xact_lock(hashtext('cairn:catalog'))");
    const known = new Map(
      (await tx.all<CatalogRow>("SELECT name, definition FROM cairn_tables")).map((row) => [row.name, row]),
    );
    const unsafe: string[] = [];
    const changes: string[] = [];
    for (const schema of schemas) {
      const wanted = canonical(schema.definition);
      const row = known.get(schema.name);
      if (row === undefined) {
        await tx.run("INSERT INTO cairn_tables (name, definition) VALUES (?, ?)", [schema.name, wanted]);
        changes.push(`created table ${schema.name}`);
        continue;
      }
      if (row.definition === wanted) continue;
      const before = JSON.parse(row.definition) as { partitionKey: string; sortKey: string | null };
      if (before.partitionKey !== schema.partitionKey || before.sortKey !== (schema.sortKey ?? null)) {
        unsafe.push(
          `table ${schema.name}: its key changed from (${before.partitionKey}${before.sortKey ? `, ${before.sortKey}` : ""}) ` +
            `to (${schema.partitionKey}${schema.sortKey ? `, ${schema.sortKey}` : ""})`,
        );
        continue;
      }
      const count = await rederive(tx, schema);
      await tx.run("UPDATE cairn_tables SET definition = ? WHERE name = ?", [wanted, schema.name]);
      changes.push(`updated indexes and TTL of table ${schema.name} (${count} items re-derived)`);
    }
    if (unsafe.length > 0) {
      throw new CairnError(
        "unsafe_schema_change",
        `refusing unsafe table changes:\n  ${unsafe.join("\n  ")}\n` +
          "Keys cannot change in place: create a new table with the new key and copy the items over.",
      );
    }
    return changes;
  });
}

/** Recompute expiry and index entries of every item of a table, a page at a time. */
async function rederive(tx: SqlExecutor, schema: TableSchema): Promise<number> {
  await tx.run("DELETE FROM cairn_index_entries WHERE tbl = ?", [schema.name]);
  let count = 0;
  let after: { pk: Uint8Array; sk: Uint8Array } | undefined;
  for (;;) {
    const rows = after
      ? await tx.all<{ pk: Uint8Array; sk: Uint8Array; data: string }>(
          "SELECT pk, sk, data FROM cairn_items WHERE tbl = ? AND (pk, sk) > (?, ?) ORDER BY pk, sk LIMIT 500",
          [schema.name, after.pk, after.sk],
        )
      : await tx.all<{ pk: Uint8Array; sk: Uint8Array; data: string }>(
          "SELECT pk, sk, data FROM cairn_items WHERE tbl = ? ORDER BY pk, sk LIMIT 500",
          [schema.name],
        );
    for (const row of rows) {
      const { expiresAt, entries } = derive(schema, JSON.parse(row.data) as Record<string, unknown>);
      await tx.run("UPDATE cairn_items SET expires_at = ? WHERE tbl = ? AND pk = ? AND sk = ?", [
        expiresAt,
        schema.name,
        row.pk,
        row.sk,
      ]);
      for (const entry of entries) {
        await tx.run(
          "INSERT INTO cairn_index_entries (tbl, idx, ipk, isk, pk, sk) VALUES (?, ?, ?, ?, ?, ?)",
          [schema.name, entry.idx, entry.ipk, entry.isk, row.pk, row.sk],
        );
      }
      count++;
    }
    if (rows.length < 500) return count;
    const last = rows[rows.length - 1]!;
    after = { pk: last.pk, sk: last.sk };
  }
}
