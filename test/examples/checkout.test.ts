import { rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson } from "../helpers/app.js";
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
} from "./checkout-client.js";

/** examples/checkout end to end over HTTP, on the real CLI, with short settings from the environment. */
describe("examples/checkout", () => {
  let app: ReturnType<typeof copyCheckout>;
  let cli: CliProcess;
  let url: string;
  const placed: string[] = [];
  const stock: Record<string, number> = {};

  beforeAll(async () => {
    app = copyCheckout();
    cli = await startCli(["start", app.dir, "--data", app.data], {
      CAIRN_DATABASE_URL: "",
      PAYMENTS_URL: "",
      PAYMENT_LATENCY_MS: "5",
      PAYMENT_FAILURE_RATE: "0",
      PAYMENT_CONFIRM_DELAY: "100ms",
      CONFIRMATION_TIMEOUT: "3s",
    });
    url = cli.url;
    for (const item of (await getInventory(url)).items) stock[item.sku] = item.stock;
  });
  afterAll(async () => {
    cli?.child.kill("SIGTERM");
    await cli?.exited;
    rmSync(app.root, { recursive: true, force: true });
  });

  async function order(items: Array<{ sku: string; qty: number }>, token?: string): Promise<OrderView> {
    const response = await placeOrder(url, items, token);
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };
    placed.push(orderId);
    return eventually(async () => {
      const view = await getOrder(url, orderId);
      return ended(view) ? view : undefined;
    }, 15_000);
  }

  const available = async (sku: string) =>
    (await getInventory(url)).items.find((item) => item.sku === sku)!.available;

  it("completes an order: reserves, charges once, waits for the confirmation, ships", async () => {
    const before = await available("mug");
    const done = await order([
      { sku: "mug", qty: 2 },
      { sku: "tea-sencha", qty: 1 },
    ]);
    expect(done.status).toBe("completed");
    expect(done.total).toBe(2 * 1800 + 1250);
    expect(done.state.step).toBe("completed");
    expect(Object.keys(done.state.steps)).toEqual([
      "open",
      "reserve",
      "payment-intent",
      "charge",
      "payment-confirmed",
      "ship",
      "complete",
    ]);
    expect(Object.values(done.state.steps).every((step) => step.ok)).toBe(true);
    const mug = (await getInventory(url)).items.find((item) => item.sku === "mug")!;
    expect(mug.available).toBe(before - 2);
    expect(mug.reserved).toBe(0);
    const ledger = await getLedger(url);
    expect(ledger.charges.filter((charge) => charge.orderId === done.orderId)).toEqual([
      expect.objectContaining({ amount: done.total, chargeId: done.state.steps.charge!.chargeId }),
    ]);
  });

  it("shows the shared state while the order waits for the payment confirmation", async () => {
    const response = await placeOrder(url, [{ sku: "scale", qty: 1 }]);
    const { orderId } = (await response.json()) as { orderId: string };
    placed.push(orderId);
    const waiting = await eventually(async () => {
      const view = await getOrder(url, orderId);
      return view.state.steps.charge?.ok ? view : undefined;
    });
    expect(["processing", "completed"]).toContain(waiting.status);
    await eventually(async () => ((await getOrder(url, orderId)).status === "completed" ? true : undefined));
  });

  it("takes an Idempotency-Key: a retried POST is the same order, charged once", async () => {
    const first = await placeOrder(url, [{ sku: "tea-assam", qty: 1 }], "tok_visa", "client-order-1");
    const again = await placeOrder(url, [{ sku: "tea-assam", qty: 1 }], "tok_visa", "client-order-1");
    const { orderId } = (await first.json()) as { orderId: string };
    expect(((await again.json()) as { orderId: string }).orderId).toBe(orderId);
    placed.push(orderId);
    await eventually(async () => ((await getOrder(url, orderId)).status === "completed" ? true : undefined));
    expect((await getLedger(url)).charges.filter((charge) => charge.orderId === orderId)).toHaveLength(1);
  });

  it("compensates an out-of-stock order without charging it", async () => {
    const before = await available("kettle");
    const done = await order([{ sku: "kettle", qty: before + 1 }]);
    expect(done.status).toBe("compensated");
    expect(done.reason).toContain("out of stock");
    expect(done.state.steps.reserve).toMatchObject({ ok: false, message: expect.stringContaining("kettle") });
    expect(done.state.steps["compensate:open"]).toMatchObject({ ok: true });
    expect(done.state.steps.charge).toBeUndefined();
    expect(await available("kettle")).toBe(before);
    expect((await getLedger(url)).charges.some((charge) => charge.orderId === done.orderId)).toBe(false);
  });

  it("compensates a declined payment: releases the stock and charges nothing", async () => {
    const before = await available("kettle");
    const done = await order([{ sku: "kettle", qty: 1 }], "tok_decline");
    expect(done.status).toBe("compensated");
    expect(done.state.steps.charge).toMatchObject({
      ok: false,
      message: expect.stringContaining("card_declined"),
    });
    expect(done.state.steps["compensate:payment-intent"]).toMatchObject({ ok: true, refunded: false });
    expect(done.state.steps["compensate:reserve"]).toMatchObject({ ok: true, released: 1 });
    expect(await available("kettle")).toBe(before);
    const ledger = await getLedger(url);
    expect(ledger.charges.some((charge) => charge.orderId === done.orderId)).toBe(false);
    expect(ledger.refunds.some((refund) => refund.orderId === done.orderId)).toBe(false);
  });

  it("compensates when the confirmation never arrives: refunds the charge and releases the stock", async () => {
    const before = await available("mug");
    const done = await order([{ sku: "mug", qty: 3 }], "tok_unconfirmed");
    expect(done.status).toBe("compensated");
    expect(done.state.steps["payment-confirmed"]).toMatchObject({ ok: false, code: "signal_timeout" });
    expect(done.state.steps["compensate:payment-intent"]).toMatchObject({ ok: true, refunded: true });
    expect(await available("mug")).toBe(before);
    const ledger = await getLedger(url);
    const charge = ledger.charges.find((c) => c.orderId === done.orderId);
    expect(charge?.amount).toBe(3 * 1800);
    expect(ledger.refunds.filter((refund) => refund.orderId === done.orderId)).toEqual([
      expect.objectContaining({ chargeId: charge!.chargeId, amount: charge!.amount }),
    ]);
  });

  it("runs a payment provider that charges and refunds each idempotency key once", async () => {
    const call = (path: string, key: string | undefined, body: unknown) =>
      getJson(`${url}/payments/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(key !== undefined && { "idempotency-key": key }) },
        body: JSON.stringify(body),
      });
    const charge = { orderId: "direct-1", amount: 500, token: "tok_unconfirmed" };
    const first = await call("charge", "direct-key-1", charge);
    expect(first.status).toBe(201);
    expect((await call("charge", "direct-key-1", charge)).body.chargeId).toBe(first.body.chargeId);
    expect((await call("charge", "direct-key-1", { ...charge, amount: 600 })).status).toBe(422);
    expect((await call("charge", undefined, charge)).status).toBe(400);
    const refund = await call("refund", "refund-1", { paymentKey: "direct-key-1" });
    expect(refund.body).toMatchObject({ refunded: true, amount: 500 });
    expect((await call("refund", "refund-2", { paymentKey: "direct-key-1" })).body.refundId).toBe(
      refund.body.refundId,
    );
    // Refunding a key that was never charged voids it: a late charge with it is refused.
    expect((await call("refund", "refund-3", { paymentKey: "never-charged" })).body).toMatchObject({
      refunded: false,
      status: "voided",
    });
    expect((await call("charge", "never-charged", { ...charge, orderId: "direct-2" })).status).toBe(409);
    const ledger = await getLedger(url);
    expect(ledger.charges.filter((c) => c.orderId === "direct-1")).toHaveLength(1);
    expect(ledger.refunds.filter((r) => r.orderId === "direct-1")).toHaveLength(1);
  });

  it("refuses malformed orders and unknown ones", async () => {
    expect((await placeOrder(url, [])).status).toBe(400);
    expect((await placeOrder(url, [{ sku: "mug", qty: 0 }])).status).toBe(400);
    const unknown = await placeOrder(url, [{ sku: "teapot", qty: 1 }]);
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe("unknown_sku");
    expect((await placeOrder(url, [{ sku: "mug", qty: 1 }], "")).status).toBe(400);
    expect((await fetch(`${url}/orders/ord_nope`)).status).toBe(404);
  });

  it("keeps the invariants: stock adds up, payments match the completed orders", async () => {
    const orders = await Promise.all(placed.map((id) => getOrder(url, id)));
    const ledger = await getLedger(url);
    // The direct provider calls above are not orders.
    ledger.charges = ledger.charges.filter((charge) => !charge.orderId.startsWith("direct-"));
    ledger.refunds = ledger.refunds.filter((refund) => !refund.orderId.startsWith("direct-"));
    ledger.totals.net =
      ledger.charges.reduce((sum, c) => sum + c.amount, 0) -
      ledger.refunds.reduce((sum, r) => sum + r.amount, 0);
    expect(checkInvariants(orders, await getInventory(url), ledger, stock)).toEqual([]);
  });
});
