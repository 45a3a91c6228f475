import { nextVersion } from "../tables/engine.js";
import type { TablesHost } from "../tables/service.js";
import type { Conditions, Stored } from "../tables/types.js";
import { blobTable, objectPartition, sequencer, type BlobItem } from "./metadata.js";

/**
 * The metadata commits that make objects appear and disappear, each in one store transaction with
 * its outbox event, so an event exists exactly when its change does. The sequencer orders the
 * events of one key: the item's new version (put) or a fresh one from the same counter (delete).
 */
export async function commitPut(
  host: TablesHost,
  item: BlobItem,
  conditions: Conditions | undefined,
): Promise<Stored<BlobItem>> {
  const { tables } = host;
  const stored = await tables.store.transaction(async (tx) => {
    const stored = (await tables.writer.put(tx, blobTable, item, conditions)) as Stored<BlobItem>;
    await tables.writer.events(tx, [
      {
        topic: "blob.created",
        key: item.k,
        payload: {
          key: item.k,
          size: item.size,
          etag: item.etag,
          contentType: item.ct,
          sequencer: sequencer(stored._version),
        },
      },
    ]);
    return stored;
  });
  host.publisher.published();
  return stored;
}

/** Remove an object's metadata (if still at the version read) with its `blob.deleted` event. */
export async function commitDelete(host: TablesHost, current: Stored<BlobItem>): Promise<void> {
  const { tables } = host;
  await tables.store.transaction(async (tx) => {
    const key = { p: objectPartition, k: current.k };
    await tables.writer.delete(tx, blobTable, key, { ifVersion: current._version });
    const version = await nextVersion(tx);
    await tables.writer.events(tx, [
      {
        topic: "blob.deleted",
        key: current.k,
        payload: {
          key: current.k,
          size: current.size,
          etag: current.etag,
          contentType: current.ct,
          sequencer: sequencer(version),
        },
      },
    ]);
  });
  host.publisher.published();
}
