import { expect, it } from "vitest";
import { failure, type BlobsFixture } from "./harness.js";

interface EventRow {
  topic: string;
  key: string | null;
  payload: string;
}

async function events(fixture: BlobsFixture) {
  const rows = await fixture.blobs.tables.tables.store.read.all<EventRow>(
    "SELECT topic, key, payload FROM cairn_messages WHERE consumer IN ('f:onCreated', 'f:onDeleted') ORDER BY id",
  );
  return rows.map((row) => ({
    topic: row.topic,
    key: row.key,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
  }));
}

async function storedIds(fixture: BlobsFixture): Promise<string[]> {
  const ids: string[] = [];
  for await (const { id } of fixture.blobs.driver.list()) ids.push(id);
  return ids;
}

export function eventCases(fixture: () => BlobsFixture): void {
  it("commits blob.created and blob.deleted events with the writes, ordered per key", async () => {
    const { blobs } = fixture();
    const first = await blobs.put("ev/a", "one", { contentType: "text/plain" });
    const second = await blobs.put("ev/a", "two!");
    await failure(blobs.put("ev/a", "three", { ifNoneMatch: "*" }));
    await failure(blobs.delete("ev/a", { ifMatch: first.etag }));
    expect(await blobs.delete("ev/a")).toBe(true);
    expect(await blobs.delete("ev/a")).toBe(false);
    const seen = await events(fixture());
    expect(seen).toEqual([
      {
        topic: "blob.created",
        key: "ev/a",
        payload: {
          key: "ev/a",
          size: 3,
          etag: first.etag,
          contentType: "text/plain",
          sequencer: expect.any(String),
        },
      },
      {
        topic: "blob.created",
        key: "ev/a",
        payload: {
          key: "ev/a",
          size: 4,
          etag: second.etag,
          contentType: "text/plain;charset=utf-8",
          sequencer: expect.any(String),
        },
      },
      {
        topic: "blob.deleted",
        key: "ev/a",
        payload: expect.objectContaining({ key: "ev/a", etag: second.etag, sequencer: expect.any(String) }),
      },
    ]);
    const sequencers = seen.map((event) => event.payload.sequencer as string);
    expect([...sequencers].sort()).toEqual(sequencers);
    expect(new Set(sequencers).size).toBe(3);
  });

  it("sweeps bytes no object refers to, once older than the grace period", async () => {
    const { blobs, clock } = fixture();
    await blobs.put("kept", "still here");
    // What a crash between writing the bytes and committing the metadata leaves behind:
    const orphan = await blobs.driver.write([new TextEncoder().encode("orphaned")], { maxSize: 1000 });
    expect(await storedIds(fixture())).toContain(orphan.id);
    expect(await blobs.sweepOrphans()).toBe(0); // too young: it may be a write about to commit
    clock.advance(2 * 3_600_000);
    expect(await blobs.sweepOrphans()).toBe(1);
    const ids = await storedIds(fixture());
    expect(ids).not.toContain(orphan.id);
    expect(ids).toHaveLength(1);
    expect(await (await blobs.get("kept"))!.text()).toBe("still here");
    expect(await blobs.driver.read(orphan.id)).toBeUndefined();
  });
}
