import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A throw-away copy of examples/checkout, so a test's settings never touch the example's own build cache. */
export function copyCheckout(): { dir: string; data: string; root: string } {
  const root = mkdtempSync(join(tmpdir(), "cairn-checkout-"));
  const source = join(import.meta.dirname, "..", "..", "examples", "checkout");
  const dir = join(root, "checkout");
  cpSync(join(source, "cairn.config.ts"), join(dir, "cairn.config.ts"));
  cpSync(join(source, "functions"), join(dir, "functions"), { recursive: true });
  return { dir, data: join(root, "data"), root };
}

export interface OrderView {
  orderId: string;
  status: string;
  state: { step: string; steps: Record<string, { ok: boolean; [key: string]: unknown }> };
  items: Array<{ sku: string; qty: number; price: number }>;
  total: number;
  reason?: string;
  workflow: { status: string };
}

export interface InventoryView {
  items: Array<{ sku: string; stock: number; available: number; reserved: number; shipped: number }>;
  totals: { stock: number; available: number; reserved: number; shipped: number };
}

export interface LedgerView {
  charges: Array<{ chargeId: string; orderId: string; amount: number }>;
  refunds: Array<{ refundId: string; chargeId: string; orderId: string; amount: number }>;
  totals: { charged: number; refunded: number; net: number };
}

async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

export const getOrder = async (url: string, id: string) =>
  json<OrderView>(await fetch(`${url}/orders/${id}`));
export const getInventory = async (url: string) => json<InventoryView>(await fetch(`${url}/inventory`));
export const getLedger = async (url: string) => json<LedgerView>(await fetch(`${url}/ledger`));

export async function placeOrder(
  url: string,
  items: Array<{ sku: string; qty: number }>,
  paymentToken = "tok_visa",
  idempotencyKey?: string,
): Promise<Response> {
  return fetch(`${url}/orders`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(idempotencyKey !== undefined && { "idempotency-key": idempotencyKey }),
    },
    body: JSON.stringify({ items, paymentToken }),
  });
}

export const ended = (order: OrderView) => order.status === "completed" || order.status === "compensated";

/**
 * The checkout invariants, checked from outside: stock adds up per SKU and nothing stays reserved
 * once every order ended; shipped units are exactly the completed orders' units; no order is
 * charged twice; each order's net payment (charges minus refunds) is its total if it completed and
 * zero if it was compensated. Returns the problems found (none: an empty list).
 */
export function checkInvariants(
  orders: OrderView[],
  inventory: InventoryView,
  ledger: LedgerView,
  initialStock: Record<string, number>,
): string[] {
  const problems: string[] = [];
  const shippedBySku = new Map<string, number>();
  for (const order of orders) {
    if (!ended(order)) problems.push(`order ${order.orderId} is ${order.status}`);
    if (order.status !== "completed") continue;
    for (const { sku, qty } of order.items) shippedBySku.set(sku, (shippedBySku.get(sku) ?? 0) + qty);
  }
  for (const item of inventory.items) {
    const sum = item.available + item.reserved + item.shipped;
    if (sum !== initialStock[item.sku])
      problems.push(`${item.sku}: available + reserved + shipped = ${sum}, stock ${initialStock[item.sku]}`);
    if (item.reserved !== 0) problems.push(`${item.sku}: ${item.reserved} units still reserved`);
    if (item.available < 0) problems.push(`${item.sku}: oversold (${item.available} available)`);
    if (item.shipped !== (shippedBySku.get(item.sku) ?? 0))
      problems.push(
        `${item.sku}: ${item.shipped} shipped, completed orders hold ${shippedBySku.get(item.sku) ?? 0}`,
      );
  }
  const charges = new Map<string, number>();
  const net = new Map<string, number>();
  for (const charge of ledger.charges) {
    charges.set(charge.orderId, (charges.get(charge.orderId) ?? 0) + 1);
    net.set(charge.orderId, (net.get(charge.orderId) ?? 0) + charge.amount);
  }
  for (const refund of ledger.refunds)
    net.set(refund.orderId, (net.get(refund.orderId) ?? 0) - refund.amount);
  for (const [orderId, count] of charges)
    if (count > 1) problems.push(`order ${orderId} charged ${count} times`);
  const known = new Map(orders.map((order) => [order.orderId, order]));
  for (const orderId of net.keys())
    if (!known.has(orderId)) problems.push(`the ledger has payments for an unknown order ${orderId}`);
  let completedTotal = 0;
  for (const order of orders) {
    const expected = order.status === "completed" ? order.total : 0;
    completedTotal += expected;
    const paid = net.get(order.orderId) ?? 0;
    if (paid !== expected)
      problems.push(`order ${order.orderId} (${order.status}) paid ${paid}, expected ${expected}`);
  }
  if (ledger.totals.net !== completedTotal)
    problems.push(
      `the ledger's net ${ledger.totals.net} differs from the completed orders' ${completedTotal}`,
    );
  return problems;
}
