import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../../src/store/postgres/store.js";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import type { Store } from "../../src/store/types.js";

const databaseUrl = process.env.CAIRN_TEST_DATABASE_URL;

// A transaction's `committed` callback: what lets a workflow's first activation start while the
// start's commit is still being made durable.
function committedSuite(name: string, open: () => Promise<{ store: Store; close: () => Promise<void> }>) {
  describe(`a transaction's committed callback (${name})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await open()));
    afterAll(() => close());

    it("is called with the value once the transaction commits, no later than it resolves", async () => {
      const seen: string[] = [];
      const value = await store.transaction(
        async (tx) => {
          await tx.run(
            "INSERT INTO cairn_nodes (id, started_at, seen_at) VALUES (?, 0, 0) ON CONFLICT (id) DO NOTHING",
            [`committed-${name}`],
          );
          seen.push("work");
          return 42;
        },
        { committed: (committedValue) => seen.push(`committed ${committedValue}`) },
      );
      seen.push(`resolved ${value}`);
      expect(seen).toEqual(["work", "committed 42", "resolved 42"]);
      // What the callback may start reads the committed state.
      const row = await store.read.get("SELECT id FROM cairn_nodes WHERE id = ?", [`committed-${name}`]);
      expect(row).toBeDefined();
    });

    it("is not called for a transaction that fails, nor does its error stop the one that succeeds", async () => {
      let called = 0;
      const failing = store.transaction(
        async (tx) => {
          await tx.run("INSERT INTO cairn_nodes (id, started_at, seen_at) VALUES (?, 0, 0)", [
            `failing-${name}`,
          ]);
          throw new Error("changed my mind");
        },
        { committed: () => called++ },
      );
      await expect(failing).rejects.toThrow("changed my mind");
      // Alone in its commit or not, nothing of it is kept.
      expect(
        await store.read.get("SELECT id FROM cairn_nodes WHERE id = ?", [`failing-${name}`]),
      ).toBeUndefined();
      const throwing = store.transaction(() => Promise.resolve(1), {
        committed: () => {
          throw new Error("a callback that throws");
        },
      });
      await expect(throwing).resolves.toBe(1);
      expect(called).toBe(0);
    });

    it("runs every callback of transactions that share one commit", async () => {
      const committed: number[] = [];
      const values = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.transaction(() => Promise.resolve(i), { committed: (value) => committed.push(value) }),
        ),
      );
      expect(values).toEqual([...Array(10).keys()]);
      expect(committed.sort((a, b) => a - b)).toEqual([...Array(10).keys()]);
    });

    it("runs each callback in the async context of the call that made its transaction", async () => {
      // A shared commit runs in the context of whichever call scheduled it; a workflow's first
      // activation must still join the trace of the request that started it.
      const context = new AsyncLocalStorage<number>();
      const seen = new Map<number, number | undefined>();
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          context.run(i, () =>
            store.transaction(() => Promise.resolve(i), {
              committed: (value) => seen.set(value, context.getStore()),
            }),
          ),
        ),
      );
      expect([...seen.entries()].sort(([a], [b]) => a - b)).toEqual([...Array(10).keys()].map((i) => [i, i]));
    });
  });

  describe(`reads and bare transactions (${name})`, () => {
    let store: Store;
    let close: () => Promise<void>;
    beforeAll(async () => ({ store, close } = await open()));
    afterAll(() => close());
    const insert = "INSERT INTO cairn_nodes (id, started_at, seen_at) VALUES (?, 0, 0)";
    const find = "SELECT id FROM cairn_nodes WHERE id = ?";

    it("a read never sees what a transaction has not committed, even between its statements", async () => {
      const id = `uncommitted-${name}`;
      const seen = await store.transaction(async (tx) => {
        await tx.run(insert, [id]);
        return await store.read.get(find, [id]);
      });
      expect(seen).toBeUndefined();
      expect(await store.read.get(find, [id])).toEqual({ id });
    });

    it("a bare transaction that fails leaves the others of its commit whole (on SQLite its writes before the failure stay)", async () => {
      const [kept, failed, other] = await Promise.allSettled([
        store.transaction(
          async (tx) => {
            await tx.run(insert, [`bare-first-${name}`]);
            await tx.run(insert, [`bare-first-${name}`]); // a duplicate: fails
          },
          { bare: true },
        ),
        store.transaction(async (tx) => {
          await tx.run(insert, [`isolated-${name}`]);
          throw new Error("undo me");
        }),
        store.transaction((tx) => tx.run(insert, [`other-${name}`])),
      ]);
      expect(kept.status).toBe("rejected");
      expect(failed.status).toBe("rejected");
      expect(other.status).toBe("fulfilled");
      if (name === "SQLite") expect(await store.read.get(find, [`bare-first-${name}`])).toBeDefined();
      expect(await store.read.get(find, [`isolated-${name}`])).toBeUndefined();
      expect(await store.read.get(find, [`other-${name}`])).toBeDefined();
    });
  });
}

describe("SQLite store: synced()", () => {
  it("resolves only once what reads can see is on disk", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-synced-"));
    const store = SqliteStore.open(join(dir, "cairn.db"));
    try {
      // Slow fsyncs, and a record of which commits each one covered.
      const inner = store as unknown as { syncLog(): Promise<void> };
      const syncLog = inner.syncLog.bind(store);
      let fsyncs = 0;
      inner.syncLog = async () => {
        await new Promise((resolve) => setTimeout(resolve, 30));
        await syncLog();
        fsyncs++;
      };
      await store.synced(); // nothing committed yet: at once
      expect(fsyncs).toBe(0);
      let seenAt: number | undefined;
      const write = store.transaction(
        (tx) => tx.run("INSERT INTO cairn_nodes (id, started_at, seen_at) VALUES ('synced', 0, 0)"),
        {
          committed: () => {
            // Committed and readable, not yet on disk.
            void store.synced().then(() => (seenAt = fsyncs));
          },
        },
      );
      await write;
      await store.synced();
      expect(seenAt).toBe(1);
      // A commit made while a flush is under way waits for the next flush, not that one.
      const first = store.transaction((tx) => tx.run("UPDATE cairn_nodes SET seen_at = 1"));
      await new Promise((resolve) => setTimeout(resolve, 5)); // its flush has begun
      await store.transaction((tx) => tx.run("UPDATE cairn_nodes SET seen_at = 2"), {
        committed: () => void store.synced().then(() => (seenAt = fsyncs)),
      });
      await first;
      expect(seenAt).toBe(3);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

committedSuite("SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-committed-"));
  const store = SqliteStore.open(join(dir, "cairn.db"));
  return Promise.resolve({
    store,
    close: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});

if (databaseUrl !== undefined) {
  committedSuite("PostgreSQL", async () => {
    const store = await PostgresStore.open({
      url: databaseUrl,
      schema: `cairn_test_${randomBytes(6).toString("hex")}`,
    });
    return {
      store,
      close: async () => {
        await store.dropSchema();
        await store.close();
      },
    };
  });
}
