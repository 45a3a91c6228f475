import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/store.js";

// The write-ahead log restarts from its beginning only when a write finds it wholly checkpointed.
// Under writes that never pause, the checkpointing thread never catches up by itself.
describe("SQLite store: the write-ahead log under sustained writes", () => {
  let dir: string;
  let file: string;
  let store: SqliteStore;
  let nextId = 0;
  const body = "x".repeat(3000); // about a page per row

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), "cairn-log-"));
    file = join(dir, "cairn.db");
    store = SqliteStore.open(file, { restartLogFrames: 256 });
    await store.transaction((tx) =>
      tx.run("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"),
    );
  });

  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Eight writers that never stop for `ms`: several commits in every checkpoint interval. */
  async function sustain(ms: number): Promise<{ written: number; largest: number }> {
    const first = nextId;
    let largest = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (performance.now() - started < ms) {
          await store.transaction((tx) =>
            tx.run("INSERT INTO filler (id, body) VALUES (?, ?)", [++nextId, body]),
          );
          largest = Math.max(largest, statSync(`${file}-wal`).size);
        }
      }),
    );
    return { written: (nextId - first) * 4096, largest };
  }

  it("stays bounded: the store pauses writes briefly so that the log can restart", async () => {
    const { written, largest } = await sustain(3000);
    // Without restarts the log holds every page written: a quarter of a GB here.
    expect(written).toBeGreaterThan(16 * 1024 * 1024);
    // With them it holds what is written between two restarts: a fraction, however fast the
    // writes (about a tenth at the ~70 MB/s of this test on a small machine).
    expect(largest).toBeLessThan(written / 4);
    const rows = await store.read.get<{ n: number }>("SELECT COUNT(*) AS n FROM filler");
    expect(rows?.n).toBe(nextId);
  }, 20_000);

  it("never holds writes for long, and checkpoints go on after a hold that timed out", async () => {
    const inner = store as unknown as { held: boolean };
    await sustain(500); // the checkpointing thread is up
    // 400 pages in one commit: the next checkpoint finds the log past its threshold and asks for a
    // hold, which comes while the next transaction keeps the store busy for 2 s.
    await store.transaction(async (tx) => {
      for (let i = 0; i < 400; i++)
        await tx.run("INSERT INTO filler (id, body) VALUES (?, ?)", [++nextId, body]);
    });
    const seen: boolean[] = [];
    await store.transaction(async (tx) => {
      await tx.run("INSERT INTO filler (id, body) VALUES (?, ?)", [++nextId, body]);
      // The hold comes at the first checkpoint (every 100 ms); the store gives up on it a second later.
      for (const ms of [700, 1300]) {
        await new Promise((resolve) => setTimeout(resolve, ms));
        seen.push(inner.held);
      }
    });
    // Held while the transaction ran, released without waiting for it to end.
    expect(seen).toEqual([true, false]);
    // Writes go on, and so do the restarts: the thread stopped waiting for the hold's end.
    const { written, largest } = await sustain(4000);
    expect(largest).toBeLessThan(written / 4);
  }, 30_000);
});
