import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CairnError } from "../../../src/sdk/errors.js";
import { ManualClock } from "../../../src/shared/clock.js";
import type { Store } from "../../../src/store/types.js";
import { syncCatalog } from "../../../src/tables/catalog.js";
import { purgeExpired } from "../../../src/tables/purge.js";
import { compileSchema, type TableSchema } from "../../../src/tables/schema.js";
import { Tables } from "../../../src/tables/tables.js";
import type { TableDefinition } from "../../../src/tables/types.js";
import { Publisher } from "../../../src/events/publisher.js";
import { Subscriptions } from "../../../src/events/subscriptions.js";

/** A fresh, empty store of one driver, and how to dispose of it. */
export interface StoreFixture {
  store: Store;
  close(): Promise<void>;
}

const definitions: Record<string, TableDefinition> = {
  users: { partitionKey: "id", indexes: { byEmail: { partitionKey: "email" } }, ttl: "expiresAt" },
  posts: {
    partitionKey: "author",
    sortKey: "slug",
    indexes: { byTag: { partitionKey: "tag", sortKey: "published" } },
    ttl: "expiresAt",
  },
  counters: { partitionKey: "name" },
  events: { partitionKey: "stream", sortKey: "seq", changeEvents: true },
};

async function failure(promise: Promise<unknown>): Promise<CairnError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CairnError)) throw new Error(`expected a CairnError, got ${String(error)}`);
  return error;
}

/** The tables conformance suite: every store driver runs it unchanged. */
export function tablesConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`tables conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let tables: Tables;
    const clock = new ManualClock();
    const schemas = new Map<string, TableSchema>();

    beforeAll(async () => {
      fixture = await open();
      for (const [table, definition] of Object.entries(definitions))
        schemas.set(table, compileSchema(table, definition));
      await syncCatalog(fixture.store, [...schemas.values()]);
      const subscriptions = new Subscriptions([
        { consumer: "f:audit", topic: "order.placed", filter: {} },
        { consumer: "f:audit", topic: "never", filter: {} },
        { consumer: "f:watch", topic: "table.events", filter: {} },
      ]);
      tables = new Tables(fixture.store, schemas, clock, new Publisher(subscriptions, clock));
    });
    afterAll(async () => fixture.close());

    describe("items and versions", () => {
      it("puts and gets an item with a version", async () => {
        const stored = await tables.put("users", { id: "u1", name: "Ada", tags: ["x"], nested: { a: 1 } });
        expect(stored).toMatchObject({ id: "u1", name: "Ada" });
        expect(typeof stored._version).toBe("number");
        expect(await tables.get("users", { id: "u1" })).toEqual(stored);
        expect(await tables.get("users", { id: "missing" })).toBeUndefined();
      });

      it("changes the version on every write, and never reuses one after delete and re-create", async () => {
        const first = await tables.put("users", { id: "v1", n: 1 });
        const second = await tables.put("users", { id: "v1", n: 2 });
        expect(second._version).not.toBe(first._version);
        await tables.delete("users", { id: "v1" });
        const again = await tables.put("users", { id: "v1", n: 3 });
        expect([first._version, second._version]).not.toContain(again._version);
      });

      it("ignores a _version attribute passed in an item", async () => {
        const stored = await tables.put("users", { id: "v2", _version: 999 });
        expect(stored._version).not.toBe(999);
      });

      it("supports number keys, which sort before strings", async () => {
        await tables.put("events", { stream: 1, seq: 10, what: "a" });
        await tables.put("events", { stream: 1, seq: 2, what: "b" });
        await tables.put("events", { stream: 1, seq: -5.5, what: "c" });
        await tables.put("events", { stream: 1, seq: "z", what: "d" });
        const page = await tables.query("events", 1);
        expect(page.items.map((item) => item.seq)).toEqual([-5.5, 2, 10, "z"]);
      });
    });

    describe("conditions", () => {
      it("ifNotExists: the first write wins, the second fails and changes nothing", async () => {
        await tables.put("users", { id: "c1", v: "first" }, { ifNotExists: true });
        const error = await failure(tables.put("users", { id: "c1", v: "second" }, { ifNotExists: true }));
        expect(error.code).toBe("condition_failed");
        expect(error.status).toBe(412);
        expect((await tables.get("users", { id: "c1" }))?.v).toBe("first");
      });

      it("ifExists fails on a missing item", async () => {
        expect((await failure(tables.put("users", { id: "c2" }, { ifExists: true }))).code).toBe(
          "condition_failed",
        );
        expect(
          (await failure(tables.update("users", { id: "c2" }, { set: { a: 1 } }, { ifExists: true }))).code,
        ).toBe("condition_failed");
        expect((await failure(tables.delete("users", { id: "c2" }, { ifExists: true }))).code).toBe(
          "condition_failed",
        );
        expect(await tables.get("users", { id: "c2" })).toBeUndefined();
      });

      it("ifVersion: a stale version (ETag mismatch) fails and changes nothing", async () => {
        const v1 = await tables.put("users", { id: "c3", n: 1 });
        const v2 = await tables.put("users", { id: "c3", n: 2 }, { ifVersion: v1._version });
        const error = await failure(tables.put("users", { id: "c3", n: 3 }, { ifVersion: v1._version }));
        expect(error.code).toBe("condition_failed");
        expect(error.details).toMatchObject({ currentVersion: v2._version });
        expect(
          await failure(tables.delete("users", { id: "c3" }, { ifVersion: v1._version })),
        ).toBeInstanceOf(CairnError);
        expect((await tables.get("users", { id: "c3" }))?.n).toBe(2);
        expect(await tables.delete("users", { id: "c3" }, { ifVersion: v2._version })).toBe(true);
      });

      it("50 concurrent conditional updates from one version have exactly one winner", async () => {
        const base = await tables.put("counters", { name: "race", value: 0 });
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) =>
            tables.update(
              "counters",
              { name: "race" },
              { set: { value: i + 1 } },
              { ifVersion: base._version },
            ),
          ),
        );
        const winners = results.filter((result) => result.status === "fulfilled");
        expect(winners).toHaveLength(1);
        for (const result of results) {
          if (result.status === "rejected")
            expect((result.reason as CairnError).code).toBe("condition_failed");
        }
        const final = await tables.get("counters", { name: "race" });
        expect(final?._version).toBe(
          (winners[0] as PromiseFulfilledResult<{ _version: number }>).value._version,
        );
      });

      it("50 concurrent plain puts of one item all land, each with its own version; the last one read stays", async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => tables.put("counters", { name: "plain", by: i })),
        );
        const versions = results.map((result) => result._version);
        expect(new Set(versions).size).toBe(50);
        const stored = await tables.get("counters", { name: "plain" });
        const newest = results.reduce((a, b) => (b._version > a._version ? b : a));
        expect(stored).toEqual(newest);
      });

      it("50 concurrent first writes of one item have exactly one winner", async () => {
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, (_, i) =>
            tables.put("counters", { name: "first", by: i }, { ifNotExists: true }),
          ),
        );
        expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
      });
    });

    describe("updates", () => {
      it("sets, removes, increments and appends, nested paths included", async () => {
        await tables.put("users", {
          id: "up1",
          name: "x",
          tmp: true,
          count: 1,
          list: [1],
          address: { city: "Oslo" },
        });
        const updated = await tables.update(
          "users",
          { id: "up1" },
          {
            set: { name: "y", "address.zip": "0150" },
            remove: ["tmp"],
            increment: { count: 4, visits: 1 },
            append: { list: [2, 3], log: ["a"] },
          },
        );
        expect(updated).toMatchObject({
          id: "up1",
          name: "y",
          count: 5,
          visits: 1,
          list: [1, 2, 3],
          log: ["a"],
          address: { city: "Oslo", zip: "0150" },
        });
        expect(updated).not.toHaveProperty("tmp");
        expect(await tables.get("users", { id: "up1" })).toEqual(updated);
      });

      it("creates a missing item from its key", async () => {
        const created = await tables.update("counters", { name: "fresh" }, { increment: { value: 3 } });
        expect(created).toMatchObject({ name: "fresh", value: 3 });
      });

      it("refuses to change key attributes, bad paths and wrong types", async () => {
        await tables.put("users", { id: "up2", n: "text" });
        expect((await failure(tables.update("users", { id: "up2" }, { set: { id: "other" } }))).code).toBe(
          "invalid_argument",
        );
        expect((await failure(tables.update("users", { id: "up2" }, { increment: { n: 1 } }))).code).toBe(
          "invalid_argument",
        );
        expect(
          (await failure(tables.update("users", { id: "up2" }, { set: { "__proto__.x": 1 } }))).code,
        ).toBe("invalid_argument");
        expect((await failure(tables.update("users", { id: "up2" }, { set: { "n.deep": 1 } }))).code).toBe(
          "invalid_argument",
        );
        expect((await tables.get("users", { id: "up2" }))?.n).toBe("text");
      });

      it("50 concurrent increments sum exactly", async () => {
        await Promise.all(
          Array.from({ length: 50 }, () =>
            tables.update("counters", { name: "sum" }, { increment: { value: 2 } }),
          ),
        );
        expect((await tables.get("counters", { name: "sum" }))?.value).toBe(100);
      });
    });

    describe("queries", () => {
      beforeAll(async () => {
        for (let i = 0; i < 25; i++) {
          const slug = `post-${String(i).padStart(2, "0")}`;
          await tables.put("posts", {
            author: "ann",
            slug,
            tag: i % 2 ? "odd" : "even",
            published: 1000 + i,
          });
        }
        await tables.put("posts", { author: "ann", slug: "draft-1" });
        await tables.put("posts", { author: "bob", slug: "post-00", tag: "even", published: 5 });
      });

      it("queries a partition in sort key order, both ways", async () => {
        const asc = await tables.query("posts", "ann", { limit: 1000 });
        expect(asc.items).toHaveLength(26);
        expect(asc.items[0]!.slug).toBe("draft-1");
        expect(asc.cursor).toBeUndefined();
        const desc = await tables.query("posts", "ann", { order: "desc", limit: 3 });
        expect(desc.items.map((item) => item.slug)).toEqual(["post-24", "post-23", "post-22"]);
      });

      it("applies sort key conditions", async () => {
        const slugs = async (sort: Parameters<Tables["query"]>[2]) =>
          (await tables.query("posts", "ann", { limit: 1000, ...sort })).items.map((item) => item.slug);
        expect(await slugs({ sort: { eq: "post-03" } })).toEqual(["post-03"]);
        expect(await slugs({ sort: { beginsWith: "draft" } })).toEqual(["draft-1"]);
        expect(await slugs({ sort: { between: ["post-01", "post-03"] } })).toEqual([
          "post-01",
          "post-02",
          "post-03",
        ]);
        expect(await slugs({ sort: { gt: "post-22" } })).toEqual(["post-23", "post-24"]);
        expect(await slugs({ sort: { gte: "post-23" } })).toEqual(["post-23", "post-24"]);
        expect((await slugs({ sort: { lt: "post-01" } })).sort()).toEqual(["draft-1", "post-00"]);
        expect(await slugs({ sort: { lte: "draft-1" } })).toEqual(["draft-1"]);
        expect(await slugs({ sort: { beginsWith: "" } })).toHaveLength(26);
      });

      it("pages through a partition with the cursor, without gaps or repeats", async () => {
        for (const order of ["asc", "desc"] as const) {
          const seen: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await tables.query("posts", "ann", { limit: 7, order, cursor });
            seen.push(...page.items.map((item) => String(item.slug)));
            cursor = page.cursor;
          } while (cursor !== undefined);
          expect(seen).toHaveLength(26);
          expect(new Set(seen).size).toBe(26);
        }
      });

      it("queries a secondary index, which leaves out items without its keys", async () => {
        const even = await tables.query("posts", "even", { index: "byTag", limit: 1000 });
        expect(even.items).toHaveLength(14);
        expect(even.items[0]).toMatchObject({ author: "bob", published: 5 });
        const recent = await tables.query("posts", "odd", {
          index: "byTag",
          sort: { gte: 1020 },
          order: "desc",
        });
        expect(recent.items.map((item) => item.published)).toEqual([1023, 1021]);
        const seen: unknown[] = [];
        let cursor: string | undefined;
        do {
          const page = await tables.query("posts", "even", { index: "byTag", limit: 4, cursor });
          seen.push(...page.items.map((item) => `${String(item.author)}/${String(item.slug)}`));
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(new Set(seen).size).toBe(14);
      });

      it("keeps index entries in step with writes and deletes", async () => {
        await tables.put("users", { id: "ix1", email: "a@x.org" });
        expect((await tables.query("users", "a@x.org", { index: "byEmail" })).items).toHaveLength(1);
        await tables.update("users", { id: "ix1" }, { set: { email: "b@x.org" } });
        expect((await tables.query("users", "a@x.org", { index: "byEmail" })).items).toHaveLength(0);
        expect((await tables.query("users", "b@x.org", { index: "byEmail" })).items[0]?.id).toBe("ix1");
        await tables.delete("users", { id: "ix1" });
        expect((await tables.query("users", "b@x.org", { index: "byEmail" })).items).toHaveLength(0);
      });

      it("scans a table with the cursor", async () => {
        const seen = new Set<string>();
        let cursor: string | undefined;
        do {
          const page = await tables.scan("posts", { limit: 5, cursor });
          for (const item of page.items) seen.add(`${String(item.author)}/${String(item.slug)}`);
          cursor = page.cursor;
        } while (cursor !== undefined);
        expect(seen.size).toBe(27);
      });

      it("refuses a cursor of another query and a garbled one", async () => {
        const page = await tables.query("posts", "ann", { limit: 2 });
        expect(
          (await failure(tables.query("posts", "ann", { limit: 2, order: "desc", cursor: page.cursor })))
            .code,
        ).toBe("invalid_argument");
        expect((await failure(tables.query("posts", "ann", { cursor: "!!garbage" }))).code).toBe(
          "invalid_argument",
        );
        expect((await failure(tables.query("posts", "ann", { limit: 0 }))).code).toBe("invalid_argument");
        expect((await failure(tables.query("posts", "ann", { index: "nope" }))).code).toBe("not_found");
      });
    });

    describe("time to live", () => {
      it("never returns an expired item, even before the purge, and purges it later", async () => {
        const soon = Math.floor(clock.now() / 1000) + 60;
        await tables.put("users", { id: "ttl1", email: "ttl@x.org", expiresAt: soon });
        await tables.put("posts", { author: "ttl", slug: "p", tag: "ttl", published: 1, expiresAt: soon });
        expect(await tables.get("users", { id: "ttl1" })).toBeDefined();
        clock.advance(61_000);
        expect(await tables.get("users", { id: "ttl1" })).toBeUndefined();
        expect((await tables.query("posts", "ttl")).items).toHaveLength(0);
        expect((await tables.query("posts", "ttl", { index: "byTag" })).items).toHaveLength(0);
        expect((await tables.query("users", "ttl@x.org", { index: "byEmail" })).items).toHaveLength(0);
        const scanned = await tables.scan("users", { limit: 1000 });
        expect(scanned.items.some((item) => item.id === "ttl1")).toBe(false);
        // Conditions see it as gone too.
        await tables.put("users", { id: "ttl1", fresh: true }, { ifNotExists: true });
        expect(await purgeExpired(fixture.store, clock.now())).toBeGreaterThanOrEqual(1);
        expect(
          (
            await fixture.store.read.get<{ n: number }>(
              "SELECT COUNT(*) AS n FROM cairn_items WHERE tbl = 'posts' AND data LIKE '%\"ttl\"%'",
            )
          )?.n,
        ).toBe(0);
        expect((await tables.get("users", { id: "ttl1" }))?.fresh).toBe(true);
      });
    });

    describe("transactions", () => {
      const outboxCount = async () =>
        Number(
          (await fixture.store.read.get<{ n: number }>(
            "SELECT COUNT(*) AS n FROM cairn_messages WHERE consumer = 'f:audit'",
          ))!.n,
        );

      it("commits every operation and its events together, results in order", async () => {
        const before = await outboxCount();
        await tables.put("counters", { name: "stock", value: 10 });
        const results = await tables.transact(
          [
            {
              update: {
                table: "counters",
                key: { name: "stock" },
                changes: { increment: { value: -3 } },
                ifExists: true,
              },
            },
            { put: { table: "users", item: { id: "t1", bought: 3 } } },
            { check: { table: "counters", key: { name: "sum" }, ifExists: true } },
            { delete: { table: "users", key: { id: "nobody" } } },
          ],
          { events: [{ topic: "order.placed", key: "t1", payload: { qty: 3 } }] },
        );
        expect(results[0]).toMatchObject({ value: 7 });
        expect(results[1]).toMatchObject({ id: "t1" });
        expect(results[2]).toBeNull();
        expect(results[3]).toBe(false);
        expect(await outboxCount()).toBe(before + 1);
        const event = await fixture.store.read.get<{ topic: string; key: string; payload: string }>(
          "SELECT topic, key, payload FROM cairn_messages WHERE consumer = 'f:audit' ORDER BY id DESC LIMIT 1",
        );
        expect(event).toEqual({ topic: "order.placed", key: "t1", payload: '{"qty":3}' });
      });

      it("is all or nothing: a failed condition undoes earlier operations and their events", async () => {
        const before = await outboxCount();
        await tables.put("counters", { name: "aon", value: 1 });
        const error = await failure(
          tables.transact(
            [
              { update: { table: "counters", key: { name: "aon" }, changes: { set: { value: 2 } } } },
              { put: { table: "users", item: { id: "aon-user" } } },
              { check: { table: "counters", key: { name: "does-not-exist" }, ifExists: true } },
            ],
            { events: [{ topic: "never", payload: 1 }] },
          ),
        );
        expect(error.code).toBe("condition_failed");
        expect(error.details).toMatchObject({ operation: 2 });
        expect((await tables.get("counters", { name: "aon" }))?.value).toBe(1);
        expect(await tables.get("users", { id: "aon-user" })).toBeUndefined();
        expect(await outboxCount()).toBe(before);
      });

      it("refuses more than 100 operations and two operations on one item", async () => {
        const many = Array.from({ length: 101 }, (_, i) => ({
          put: { table: "users", item: { id: `m${i}` } },
        }));
        expect((await failure(tables.transact(many))).code).toBe("invalid_argument");
        const twice = await failure(
          tables.transact([
            { put: { table: "users", item: { id: "dup" } } },
            { delete: { table: "users", key: { id: "dup" } } },
          ]),
        );
        expect(twice.code).toBe("invalid_argument");
        expect(await tables.get("users", { id: "dup" })).toBeUndefined();
        const hundred = Array.from({ length: 100 }, (_, i) => ({
          put: { table: "users", item: { id: `h${i}` } },
        }));
        expect(await tables.transact(hundred)).toHaveLength(100);
      });
    });

    describe("change events", () => {
      it("publishes one event per committed write, in order, and none for a failed one", async () => {
        const count = async () =>
          (
            await fixture.store.read.all<{ payload: string }>(
              "SELECT payload FROM cairn_messages WHERE consumer = 'f:watch' AND key = ? ORDER BY id",
              [JSON.stringify([7, 1])],
            )
          ).map((row) => JSON.parse(row.payload) as { type: string; item?: { n?: number } });
        await tables.put("events", { stream: 7, seq: 1, n: 1 });
        await tables.update("events", { stream: 7, seq: 1 }, { increment: { n: 1 } });
        await failure(tables.put("events", { stream: 7, seq: 1 }, { ifNotExists: true }));
        await tables.delete("events", { stream: 7, seq: 1 });
        const events = await count();
        expect(events.map((event) => event.type)).toEqual(["put", "update", "delete"]);
        expect(events[1]!.item!.n).toBe(2);
      });
    });

    describe("limits", () => {
      it("refuses an item over 400 KB and accepts one just under", async () => {
        const error = await failure(tables.put("users", { id: "big", blob: "x".repeat(400 * 1024) }));
        expect(error.code).toBe("item_too_large");
        expect(error.status).toBe(413);
        await tables.put("users", { id: "big", blob: "x".repeat(400 * 1024 - 100) });
      });

      it("refuses oversized, missing and mistyped keys", async () => {
        expect((await failure(tables.put("users", { id: "k".repeat(2049) }))).code).toBe("invalid_key");
        await tables.put("users", { id: "k".repeat(2048) });
        expect((await failure(tables.put("posts", { author: "a", slug: "s".repeat(1025) }))).code).toBe(
          "invalid_key",
        );
        expect((await failure(tables.put("users", { name: "no id" }))).code).toBe("invalid_key");
        expect((await failure(tables.put("users", { id: { nested: true } }))).code).toBe("invalid_key");
        expect((await failure(tables.get("users", { id: Number.NaN }))).code).toBe("invalid_key");
        expect((await failure(tables.get("nope", { id: "x" }))).code).toBe("not_found");
      });
    });

    describe("schema changes", () => {
      it("backfills a new index and refuses a changed key", async () => {
        await tables.put("counters", { name: "idx-a", group: "g1" });
        await tables.put("counters", { name: "idx-b", group: "g1" });
        const withIndex = compileSchema("counters", {
          partitionKey: "name",
          indexes: { byGroup: { partitionKey: "group" } },
        });
        await syncCatalog(fixture.store, [withIndex]);
        schemas.set("counters", withIndex);
        expect((await tables.query("counters", "g1", { index: "byGroup" })).items).toHaveLength(2);
        const changed = compileSchema("counters", { partitionKey: "label" });
        const error = await failure(syncCatalog(fixture.store, [changed]));
        expect(error.code).toBe("unsafe_schema_change");
        expect(error.message).toContain("counters");
      });
    });
  });
}
