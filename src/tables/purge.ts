import type { Store } from "../store/types.js";

/**
 * Remove expired items, a batch at a time. Reads already hide them; this only reclaims space.
 * Returns how many items were removed.
 */
export async function purgeExpired(store: Store, now: number, batch = 500): Promise<number> {
  let removed = 0;
  for (;;) {
    const rows = await store.read.all<{ tbl: string; pk: Uint8Array; sk: Uint8Array }>(
      "SELECT tbl, pk, sk FROM cairn_items WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?",
      [now, batch],
    );
    if (rows.length === 0) return removed;
    removed += await store.transaction(async (tx) => {
      let count = 0;
      for (const row of rows) {
        // Re-checked under the transaction: the item may have been rewritten since.
        const deleted = await tx.run(
          "DELETE FROM cairn_items WHERE tbl = ? AND pk = ? AND sk = ? AND expires_at IS NOT NULL AND expires_at <= ?",
          [row.tbl, row.pk, row.sk, now],
        );
        if (deleted.changes === 0) continue;
        await tx.run("DELETE FROM cairn_index_entries WHERE tbl = ? AND pk = ? AND sk = ?", [
          row.tbl,
          row.pk,
          row.sk,
        ]);
        count++;
      }
      return count;
    });
    if (rows.length < batch) return removed;
  }
}
