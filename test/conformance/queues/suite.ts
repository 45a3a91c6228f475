import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pino } from "pino";
import { DeadLetters } from "../../../src/events/dead-letters.js";
import {
  Dispatcher,
  type Consumer,
  type TriggerInvoker,
  type TriggerOutcome,
} from "../../../src/events/dispatcher.js";
import { NodeRegistry, nodeTimeoutMs } from "../../../src/events/nodes.js";
import { Publisher } from "../../../src/events/publisher.js";
import { queueSettings, Queues } from "../../../src/events/queues.js";
import { Scheduler } from "../../../src/events/scheduler.js";
import { Subscriptions } from "../../../src/events/subscriptions.js";
import { ManualClock } from "../../../src/shared/clock.js";
import type { TriggerInput } from "../../../src/shared/protocol.js";
import type { Store } from "../../../src/store/types.js";
import { syncCatalog } from "../../../src/tables/catalog.js";
import { compileSchema } from "../../../src/tables/schema.js";
import { Tables } from "../../../src/tables/tables.js";

export interface StoreFixture {
  store: Store;
  close(): Promise<void>;
}

const quiet = pino({ level: "silent" });

/** A consumer the test scripts: it records every delivery and answers as told. */
class ScriptedConsumers implements TriggerInvoker {
  readonly deliveries: Array<{ fn: string; input: TriggerInput }> = [];
  answer: (fn: string, input: TriggerInput) => TriggerOutcome | Promise<TriggerOutcome> = () => ({
    ok: true,
    result: {},
  });

  invoke(fn: string, _requestId: string, input: TriggerInput): Promise<TriggerOutcome> {
    this.deliveries.push({ fn, input });
    return Promise.resolve(this.answer(fn, input));
  }

  bodies(fn: string): unknown[] {
    return this.deliveries
      .filter((d) => d.fn === fn)
      .flatMap((d) =>
        d.input.kind === "queue"
          ? d.input.messages.map((m) => JSON.parse(m.body) as unknown)
          : d.input.kind === "event"
            ? [JSON.parse(d.input.event.payload) as unknown]
            : d.input.kind === "schedule"
              ? [d.input.tick]
              : [],
      );
  }
}

const consumer = (
  overrides: Partial<Consumer> & Pick<Consumer, "id" | "functionName" | "kind">,
): Consumer => ({
  batchSize: 1,
  capacity: 4,
  maxAttempts: 3,
  backoffMs: 1000,
  maxBackoffMs: 60_000,
  visibilityMs: 30_000,
  ...overrides,
});

/** Run the dispatcher until nothing more happens at the current (manual) time. */
async function settle(dispatcher: Dispatcher): Promise<void> {
  for (let i = 0; i < 20; i++) {
    await dispatcher.pump();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** The queue and outbox conformance suite: every durable-store driver runs it unchanged. */
export function queuesConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`queues and events conformance: ${name}`, () => {
    let fixture: StoreFixture;
    const clock = new ManualClock();
    let consumers: ScriptedConsumers;
    let queues: Queues;
    let dispatcher: Dispatcher;
    let tables: Tables;
    let deadLetters: DeadLetters;
    const queueDefs = new Map([
      ["jobs", queueSettings("jobs", { maxAttempts: 3, backoff: "1s", batchSize: 3, dedupWindow: "1m" })],
      ["ordered", queueSettings("ordered", { batchSize: 1 })],
    ]);
    const allConsumers: Consumer[] = [
      consumer({
        id: "q:jobs",
        functionName: "worker",
        kind: "queue",
        queue: "jobs",
        batchSize: 3,
        maxAttempts: 3,
      }),
      consumer({
        id: "q:ordered",
        functionName: "orderedWorker",
        kind: "queue",
        queue: "ordered",
        capacity: 8,
      }),
      consumer({ id: "f:images", functionName: "images", kind: "event" }),
      consumer({ id: "f:everything", functionName: "everything", kind: "event" }),
      consumer({ id: "f:tick", functionName: "tick", kind: "schedule" }),
    ];
    const subscriptions = new Subscriptions([
      { consumer: "f:images", topic: "blob.created", filter: { prefix: "images/", suffix: ".png" } },
      { consumer: "f:everything", topic: "blob.created", filter: {} },
    ]);

    beforeAll(async () => {
      fixture = await open();
      const schema = compileSchema("things", { partitionKey: "id" });
      await syncCatalog(fixture.store, [schema]);
      tables = new Tables(
        fixture.store,
        new Map([["things", schema]]),
        clock,
        new Publisher(subscriptions, clock),
      );
    });
    afterAll(async () => fixture.close());
    /** Every dispatcher a test made: stopped after it, so none keeps claiming in the next test. */
    const made: Dispatcher[] = [];
    const node = (id: string, invoker: TriggerInvoker) => {
      const dispatcher = new Dispatcher(fixture.store, clock, allConsumers, invoker, id, quiet);
      made.push(dispatcher);
      return dispatcher;
    };
    afterEach(async () => {
      await Promise.all(made.splice(0).map((dispatcher) => dispatcher.stop(0)));
    });

    beforeEach(async () => {
      await fixture.store.transaction(async (tx) => {
        await tx.run("DELETE FROM cairn_messages");
        await tx.run("DELETE FROM cairn_dead_letters");
        await tx.run("DELETE FROM cairn_dedup");
        await tx.run("DELETE FROM cairn_schedules");
      });
      consumers = new ScriptedConsumers();
      dispatcher = node("node-a", consumers);
      queues = new Queues(fixture.store, clock, queueDefs, () => {});
      deadLetters = new DeadLetters(fixture.store, clock, () => {});
    });

    it("delivers every message once and removes it when acknowledged", async () => {
      for (let n = 0; n < 7; n++) await queues.send("jobs", { n });
      await settle(dispatcher);
      expect(consumers.bodies("worker")).toEqual([0, 1, 2, 3, 4, 5, 6].map((n) => ({ n })));
      expect(
        consumers.deliveries.every((d) => d.input.kind !== "queue" || d.input.messages.length <= 3),
      ).toBe(true);
      const left = await fixture.store.read.get<{ n: number }>("SELECT COUNT(*) AS n FROM cairn_messages");
      expect(Number(left!.n)).toBe(0);
    });

    it("holds a delayed message until its time", async () => {
      await queues.send("jobs", { late: true }, { delay: "10s" });
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(0);
      clock.advance(10_000);
      await settle(dispatcher);
      expect(consumers.bodies("worker")).toEqual([{ late: true }]);
    });

    it("retries a failure after a backoff, then dead-letters it when attempts run out; redrive sends it back", async () => {
      consumers.answer = () => ({ ok: false, error: { code: "function_error", message: "boom" } });
      await queues.send("jobs", { doomed: true });
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(1);
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(1); // backing off
      clock.advance(1000);
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(2);
      clock.advance(2000);
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(3);
      clock.advance(60_000);
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(3);
      const dead = await deadLetters.list();
      expect(dead.items).toHaveLength(1);
      expect(dead.items[0]).toMatchObject({ consumer: "q:jobs", attempts: 3, payload: { doomed: true } });
      expect(dead.items[0]!.lastError).toContain("boom");
      const attempts = consumers.deliveries.map((d) =>
        d.input.kind === "queue" ? d.input.messages[0]!.attempt : 0,
      );
      expect(attempts).toEqual([1, 2, 3]);

      consumers.answer = () => ({ ok: true, result: {} });
      expect(await deadLetters.redrive({ id: dead.items[0]!.id })).toBe(1);
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(4);
      expect((await deadLetters.list()).items).toHaveLength(0);
    });

    it("applies per-message acks and retries of a batch, also when the handler then fails", async () => {
      await queues.sendBatch("jobs", [{ body: 1 }, { body: 2 }, { body: 3 }]);
      consumers.answer = (_fn, input) => {
        const ids = input.kind === "queue" ? input.messages.map((m) => m.id) : [];
        return {
          ok: false,
          error: { code: "function_error", message: "late failure" },
          result: { acked: [ids[0]!], retried: [{ id: ids[1]!, delayMs: 5000 }] },
        };
      };
      await settle(dispatcher);
      const rows = await fixture.store.read.all<{ payload: string; available_at: number }>(
        "SELECT payload, available_at FROM cairn_messages ORDER BY id",
      );
      expect(rows.map((row) => JSON.parse(row.payload) as unknown)).toEqual([2, 3]);
      expect(Number(rows[0]!.available_at)).toBe(clock.now() + 5000);
      expect(Number(rows[1]!.available_at)).toBeGreaterThan(clock.now());
    });

    it("suppresses a duplicate idempotency key within the window, and accepts it after", async () => {
      const first = await queues.send("jobs", { a: 1 }, { idempotencyKey: "k1" });
      const again = await queues.send("jobs", { a: 2 }, { idempotencyKey: "k1" });
      expect(again).toEqual({ id: first.id, sent: false });
      clock.advance(61_000);
      const later = await queues.send("jobs", { a: 3 }, { idempotencyKey: "k1" });
      expect(later.sent).toBe(true);
      await settle(dispatcher);
      expect(consumers.bodies("worker")).toEqual([{ a: 1 }, { a: 3 }]);
    });

    it("delivers messages with one ordering key one at a time, in order, even with retries", async () => {
      let failedOnce = false;
      const running = new Set<string>();
      let overlap = false;
      consumers.answer = async (_fn, input) => {
        const body =
          input.kind === "queue"
            ? (JSON.parse(input.messages[0]!.body) as { n: number; key: string })
            : undefined;
        if (body && running.has(body.key)) overlap = true;
        if (body) running.add(body.key);
        await new Promise((resolve) => setTimeout(resolve, 2));
        if (body) running.delete(body.key);
        if (body?.n === 2 && body.key === "a" && !failedOnce) {
          failedOnce = true;
          return { ok: false, error: { code: "function_error", message: "once" } };
        }
        return { ok: true, result: {} };
      };
      for (const key of ["a", "b"]) {
        await queues.sendBatch(
          "ordered",
          [1, 2, 3, 4].map((n) => ({ body: { n, key }, orderingKey: key })),
        );
      }
      const order = (key: string) =>
        (consumers.bodies("orderedWorker") as Array<{ n: number; key: string }>)
          .filter((b) => b.key === key)
          .map((b) => b.n);
      // Rounds of delivery until all nine deliveries are in (a loaded machine needs more of them),
      // and a few more, in which nothing else may arrive.
      const deadline = Date.now() + 30_000;
      for (let extra = 0; extra < 3 && Date.now() < deadline;) {
        await settle(dispatcher);
        clock.advance(2000);
        if (order("a").length + order("b").length >= 9) extra++;
      }
      expect(order("a")).toEqual([1, 2, 2, 3, 4]);
      expect(order("b")).toEqual([1, 2, 3, 4]);
      expect(overlap).toBe(false);
    });

    it("fans an event out to every matching subscriber, with prefix and suffix filters", async () => {
      await tables.transact([{ put: { table: "things", item: { id: "x" } } }], {
        events: [
          { topic: "blob.created", key: "images/cat.png", payload: { key: "images/cat.png" } },
          { topic: "blob.created", key: "images/cat.jpg", payload: { key: "images/cat.jpg" } },
          { topic: "blob.created", key: "docs/a.png", payload: { key: "docs/a.png" } },
          { topic: "nobody.listens", payload: 1 },
        ],
      });
      await settle(dispatcher);
      expect(consumers.bodies("images")).toEqual([{ key: "images/cat.png" }]);
      expect(consumers.bodies("everything")).toHaveLength(3);
    });

    it("makes a message due again when its lease expires (a crashed node), for another node to take", async () => {
      consumers.answer = () => new Promise<TriggerOutcome>(() => {}); // node A never finishes
      await queues.send("jobs", { stuck: true });
      await settle(dispatcher);
      expect(consumers.deliveries).toHaveLength(1);
      const other = new ScriptedConsumers();
      const nodeB = node("node-b", other);
      await settle(nodeB);
      expect(other.deliveries).toHaveLength(0);
      clock.advance(30_001);
      await settle(nodeB);
      expect(other.bodies("worker")).toEqual([{ stuck: true }]);
      const left = await fixture.store.read.get<{ n: number }>("SELECT COUNT(*) AS n FROM cairn_messages");
      expect(Number(left!.n)).toBe(0);
    });

    it("takes back a silent node's leases after the node timeout, long before they expire", async () => {
      await fixture.store.transaction((tx) => tx.run("DELETE FROM cairn_nodes"));
      const long = new Dispatcher(
        fixture.store,
        clock,
        allConsumers.map((c) => (c.id === "q:jobs" ? { ...c, visibilityMs: 10 * 60_000 } : c)),
        { invoke: () => new Promise<TriggerOutcome>(() => {}) }, // node A is killed mid-delivery
        "node-a",
        quiet,
      );
      made.push(long);
      const registryA = new NodeRegistry(fixture.store, clock, "node-a", quiet, () => {});
      await registryA.join();
      registryA.stop(); // killed: no more heartbeats, no leases handed back
      await queues.send("jobs", { orphaned: true });
      await settle(long);
      const other = new ScriptedConsumers();
      const nodeB = node("node-b", other);
      const registryB = new NodeRegistry(fixture.store, clock, "node-b", quiet, () => nodeB.kick());
      await registryB.join();
      registryB.stop();
      // Heard from within the timeout: alive, its lease stands.
      clock.advance(nodeTimeoutMs - 1);
      expect(await registryB.sweep()).toBe(0);
      await settle(nodeB);
      expect(other.deliveries).toHaveLength(0);
      // Silent for longer: B releases A's lease (once: a second sweep finds nothing) and delivers it.
      clock.advance(2);
      await fixture.store.transaction((tx) =>
        tx.run("UPDATE cairn_nodes SET seen_at = ? WHERE id = ?", [clock.now(), "node-b"]),
      );
      expect(await registryB.sweep()).toBe(1);
      expect(await registryB.sweep()).toBe(0);
      await settle(nodeB);
      expect(other.bodies("worker")).toEqual([{ orphaned: true }]);
      const nodes = await fixture.store.read.all<{ id: string }>("SELECT id FROM cairn_nodes ORDER BY id");
      expect(nodes.map((row) => row.id)).toEqual(["node-b"]);
      await registryB.leave();
      expect(await fixture.store.read.all("SELECT id FROM cairn_nodes")).toEqual([]);
    });

    it("shares work between two nodes without delivering a message twice", async () => {
      const b = new ScriptedConsumers();
      const nodeB = node("node-b", b);
      for (let i = 0; i < 60; i++) await queues.send("jobs", { i });
      // Both nodes keep pumping until every message is gone (a loaded machine may need many passes).
      for (let pass = 0; pass < 50; pass++) {
        await Promise.all([settle(dispatcher), settle(nodeB)]);
        const left = await fixture.store.read.get<{ n: number }>("SELECT COUNT(*) AS n FROM cairn_messages");
        if (Number(left!.n) === 0) break;
      }
      const all = [...consumers.bodies("worker"), ...b.bodies("worker")] as Array<{ i: number }>;
      expect(all).toHaveLength(60);
      expect(new Set(all.map((body) => body.i)).size).toBe(60);
    });

    it("hands its leases back when a node stops", async () => {
      consumers.answer = () => new Promise<TriggerOutcome>(() => {});
      await queues.send("jobs", { handback: true });
      await settle(dispatcher);
      const leased = await fixture.store.read.get<{ lease_owner: string | null }>(
        "SELECT lease_owner FROM cairn_messages",
      );
      expect(leased?.lease_owner).toBe("node-a");
      await dispatcher.stop(50); // the delivery never ends: stop gives up waiting after the grace period
      const row = await fixture.store.read.get<{ lease_owner: string | null; available_at: number }>(
        "SELECT lease_owner, available_at FROM cairn_messages",
      );
      expect(row?.lease_owner).toBeNull();
      expect(Number(row?.available_at)).toBeLessThanOrEqual(clock.now());
      const other = new ScriptedConsumers();
      await settle(node("node-b", other));
      expect(other.bodies("worker")).toEqual([{ handback: true }]);
    });

    it("fires each cron tick once across two nodes, collapses missed ticks, and can skip them", async () => {
      clock.set(Date.UTC(2031, 5, 1, 12, 0, 30));
      const fired: number[] = [];
      const nodes = ["a", "b"].map(
        () =>
          new Scheduler(
            fixture.store,
            clock,
            [{ functionName: "tick", cron: "* * * * *", timezone: "UTC", catchUp: true }],
            () => fired.push(1),
            quiet,
          ),
      );
      for (const node of nodes) await node.start();
      clock.set(Date.UTC(2031, 5, 1, 12, 1, 0));
      await Promise.all(nodes.map((node) => node.poll()));
      await Promise.all(nodes.map((node) => node.poll()));
      await settle(dispatcher);
      expect(consumers.bodies("tick")).toEqual([
        { id: expect.any(String), scheduledAt: Date.UTC(2031, 5, 1, 12, 1, 0), cron: "* * * * *" },
      ]);

      // Down for five minutes: one catch-up tick on recovery, for the first missed minute.
      clock.set(Date.UTC(2031, 5, 1, 12, 6, 30));
      await Promise.all(nodes.map((node) => node.poll()));
      await settle(dispatcher);
      expect(consumers.bodies("tick")).toHaveLength(2);
      expect((consumers.bodies("tick")[1] as { scheduledAt: number }).scheduledAt).toBe(
        Date.UTC(2031, 5, 1, 12, 2, 0),
      );
      for (const node of nodes) node.stop();

      const skipping = new Scheduler(
        fixture.store,
        clock,
        [{ functionName: "tick", cron: "* * * * *", timezone: "UTC", catchUp: false }],
        () => {},
        quiet,
      );
      await skipping.start();
      clock.set(Date.UTC(2031, 5, 1, 12, 20, 30));
      await skipping.poll();
      await settle(dispatcher);
      expect(consumers.bodies("tick")).toHaveLength(2);
      skipping.stop();
    });
  });
}
