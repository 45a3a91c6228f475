import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { claim, releaseOrphanedLeases } from "../../src/events/messages.js";
import { insertMessage } from "../../src/events/publisher.js";
import { localOwnerAlive } from "../../src/events/service.js";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import type { SqlExecutor } from "../../src/store/types.js";

describe("message rows: claims and leases", () => {
  let dir: string;
  let store: SqliteStore;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "cairn-leases-"));
    store = SqliteStore.open(join(dir, "cairn.db"));
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("claims the longest-due messages first, reading the due index in order without sorting", async () => {
    const now = Date.now();
    await store.transaction(async (tx) => {
      await insertMessage(tx, "q:order", "order", null, "3", now, now - 10); // a retry due before the rest
      await insertMessage(tx, "q:order", "order", null, "1", now, now - 50);
      await insertMessage(tx, "q:order", "order", null, "2", now, now - 50);
      await insertMessage(tx, "q:order", "order", null, "later", now, now + 60_000);
    });
    const claimed = await store.transaction((tx) => claim(tx, "q:order", now, now + 1000, "me", 2));
    expect(claimed.map((row) => row.payload)).toEqual(["1", "2"]);
    const rest = await store.transaction((tx) => claim(tx, "q:order", now, now + 1000, "me", 10));
    expect(rest.map((row) => row.payload)).toEqual(["3"]);

    // A backlog of any size costs a claim `limit` rows: no sort of every due message.
    let statement = "";
    await store.transaction((tx) => {
      const recording: SqlExecutor = {
        ...tx,
        all: (sql, params) => {
          statement = sql;
          return tx.all(sql, params);
        },
      };
      return claim(recording, "q:none", now, now + 1000, "me", 10);
    });
    const plan = await store.read.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${statement}`, [
      1,
      1,
      "me",
      "q:x",
      1,
      10,
    ]);
    expect(plan.map((row) => row.detail).join("\n")).toMatch(/USING INDEX cairn_messages_due/);
    expect(plan.map((row) => row.detail).join("\n")).not.toMatch(/TEMP B-TREE/);
  });

  it("knows a lease owner whose process is gone from one that runs", () => {
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    });
    expect(localOwnerAlive(`${child.stdout}-abcd`)).toBe(false);
    expect(localOwnerAlive(`${process.pid}-abcd`)).toBe(true);
    expect(localOwnerAlive(`${process.ppid}-abcd`)).toBe(true);
    expect(localOwnerAlive("not-a-pid")).toBe(true); // unknown shapes are left to expire
  });

  it("makes a dead owner's messages due at once, and leaves live owners' leases alone", async () => {
    const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
      encoding: "utf8",
    }).stdout;
    const now = Date.now();
    const hour = 3_600_000;
    await store.transaction(async (tx) => {
      for (let i = 0; i < 4; i++) await insertMessage(tx, "q:jobs", "jobs", null, `{"n":${i}}`, now, now);
    });
    const leased = await store.transaction(async (tx) => [
      ...(await claim(tx, "q:jobs", now, now + hour, `${dead}-gone`, 3)),
      ...(await claim(tx, "q:jobs", now, now + hour, `${process.pid}-live`, 1)),
    ]);
    expect(leased).toHaveLength(4);

    const released = await store.transaction((tx) => releaseOrphanedLeases(tx, now + 1, localOwnerAlive));
    expect(released).toBe(3);
    const again = await store.transaction((tx) => claim(tx, "q:jobs", now + 1, now + hour, "next-node", 10));
    expect(again.map((row) => row.id)).toEqual(leased.slice(0, 3).map((row) => row.id));
    expect(again.every((row) => row.attempts === 2)).toBe(true);
  });
});
