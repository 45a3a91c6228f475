import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { sleep } from "../helpers/app.js";
import { startCli, type CliProcess } from "../helpers/cli.js";
import {
  checkInvariants,
  copyCheckout,
  ended,
  getInventory,
  getLedger,
  getOrder,
  placeOrder,
  type OrderView,
} from "../examples/checkout-client.js";

/**
 * examples/checkout under SIGKILL: 300 checkouts against limited stock while the node is killed at
 * random moments and restarted on the same data folder. Afterwards every order has completed or
 * been compensated, no order was charged twice, available + reserved + shipped units add up to the
 * initial stock exactly, and the ledger (charges minus refunds) matches the completed orders.
 * Everything is checked from outside, over HTTP.
 */
const orderCount = 300;
const clients = 12;
const kills = 5;
const token = "crash-admin-token";

const log = (message: string) => process.stderr.write(`[checkout crash] ${message}\n`);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A small seeded generator, so a failing run can be repeated with CHECKOUT_CRASH_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("crash safety of the checkout saga", () => {
  const app = copyCheckout();
  let node: CliProcess | undefined;
  afterAll(async () => {
    if (node !== undefined && node.child.exitCode === null) {
      node.child.kill("SIGKILL");
      await node.exited;
    }
    rmSync(app.root, { recursive: true, force: true });
  });

  it("ends every order as completed or compensated, with stock and payments that add up", async () => {
    const seed = Number(process.env.CHECKOUT_CRASH_SEED ?? Date.now() % 1_000_000);
    const rand = random(seed);
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    log(`seed ${seed}, ${orderCount} orders, ${kills} kills, node on ${url}`);
    const env = {
      CAIRN_DATABASE_URL: "",
      CAIRN_ADMIN_TOKEN: token,
      // The node's port stays the same across restarts, so the provider's URL does too.
      PAYMENTS_URL: url,
      PAYMENT_LATENCY_MS: "10",
      PAYMENT_FAILURE_RATE: "0.1",
      PAYMENT_CONFIRM_DELAY: "300ms",
      CONFIRMATION_TIMEOUT: "4s",
    };
    const boot = async () => {
      node = await startCli(["start", app.dir, "--data", app.data, "--port", String(port)], env);
    };
    await boot();
    const stock: Record<string, number> = {};
    for (const item of (await getInventory(url)).items) stock[item.sku] = item.stock;
    const skus = Object.keys(stock);

    // Orders: one or two lines of one or two units; a few with cards that are declined or never confirmed.
    const orders = Array.from({ length: orderCount }, (_, i) => {
      const lines = new Map<string, number>();
      for (let n = rand() < 0.6 ? 1 : 2; n > 0; n--)
        lines.set(skus[Math.floor(rand() * skus.length)]!, rand() < 0.7 ? 1 : 2);
      const roll = rand();
      return {
        key: `crash-order-${seed}-${i}`,
        items: [...lines].map(([sku, qty]) => ({ sku, qty })),
        token: roll < 0.05 ? "tok_unconfirmed" : roll < 0.1 ? "tok_decline" : "tok_visa",
      };
    });

    // Clients place orders and retry each (same Idempotency-Key) until it is acknowledged.
    const acknowledged = new Map<number, string>();
    let next = 0;
    let retries = 0;
    const client = async () => {
      for (let i = next++; i < orderCount; i = next++) {
        const { key, items, token: card } = orders[i]!;
        for (;;) {
          try {
            const response = await placeOrder(url, items, card, key);
            if (response.status === 202) {
              acknowledged.set(i, ((await response.json()) as { orderId: string }).orderId);
              break;
            }
            await response.text();
          } catch {
            // the node is down: try again once it is back
          }
          retries++;
          await sleep(50);
        }
        await sleep(10 + rand() * 30);
      }
    };
    const placing = Promise.all(Array.from({ length: clients }, client));

    for (let k = 1; k <= kills; k++) {
      await sleep(400 + rand() * 1200);
      node!.child.kill("SIGKILL");
      await node!.exited;
      log(`kill ${k}/${kills}: ${acknowledged.size} orders acknowledged; restarting`);
      await boot();
    }
    await placing;
    log(
      `all ${acknowledged.size} orders acknowledged (${retries} retried requests); waiting for them to end`,
    );

    // A restarted node takes back the killed process's leases at once, and their runs resume.
    const views = new Map<string, OrderView>();
    const deadline = Date.now() + 80_000;
    for (;;) {
      const open = [...acknowledged.values()].filter(
        (id) => !ended(views.get(id) ?? ({ status: "" } as OrderView)),
      );
      for (const id of open) views.set(id, await getOrder(url, id));
      const left = [...acknowledged.values()].filter((id) => !ended(views.get(id)!)).length;
      if (left === 0) break;
      if (Date.now() > deadline) throw new Error(`${left} orders never ended`);
      log(`${left} orders still running`);
      await sleep(2000);
    }

    const all = [...views.values()];
    const completed = all.filter((order) => order.status === "completed").length;
    log(`${completed} completed, ${all.length - completed} compensated; checking the invariants`);
    const running = await fetch(`${url}/_cairn/workflows?status=running&limit=500`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(((await running.json()) as { items: unknown[] }).items).toEqual([]);
    const failed = await fetch(`${url}/_cairn/workflows?status=failed&limit=500`, {
      headers: { authorization: `Bearer ${token}` },
    });
    // Every failed run is a compensated order (the saga undid it), never a half-undone one.
    for (const item of ((await failed.json()) as { items: Array<{ id: string }> }).items)
      expect(views.get(item.id)?.status).toBe("compensated");
    const inventory = await getInventory(url);
    expect(checkInvariants(all, inventory, await getLedger(url), stock)).toEqual([]);
    expect(completed).toBeGreaterThan(10);
    expect(inventory.totals.shipped).toBeGreaterThan(0);
    log(`stock ${JSON.stringify(inventory.totals)}`);
  }, 150_000);
});
