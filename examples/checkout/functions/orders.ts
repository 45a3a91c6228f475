import { http } from "cairn";
import { createHash, randomBytes } from "node:crypto";
import type { OrderLine } from "../cairn.config.js";
import { ensureSeeded } from "./_lib/catalog.js";
import { problem, readJson, scanAll } from "./_lib/http.js";
import type { CheckoutInput, CheckoutState } from "./checkout.js";

/**
 * POST /orders { items: [{ sku, qty }], paymentToken } → 202 { orderId }, once the checkout workflow
 * is durably started. With an Idempotency-Key header the order id derives from the key, so a client
 * that retries (say, after a lost response) gets the same order instead of a second one.
 */
export const placeOrder = http("POST /orders", async (request, ctx) => {
  await ensureSeeded(ctx);
  const body = await readJson(request);
  const items = body?.items;
  const paymentToken = body?.paymentToken;
  if (!Array.isArray(items) || items.length === 0 || items.length > 20)
    return problem(400, "invalid_order", "items: 1 to 20 of { sku, qty }");
  if (typeof paymentToken !== "string" || paymentToken.length === 0 || paymentToken.length > 200)
    return problem(400, "invalid_order", "paymentToken: a non-empty string");
  const lines: OrderLine[] = [];
  for (const item of items as Array<{ sku?: unknown; qty?: unknown }>) {
    const { sku, qty } = item ?? {};
    if (typeof sku !== "string" || typeof qty !== "number" || !Number.isInteger(qty) || qty < 1 || qty > 100)
      return problem(400, "invalid_order", "each item is { sku: string, qty: 1 to 100 }");
    const stocked = await ctx.tables.inventory.get({ sku });
    if (stocked === undefined) return problem(400, "unknown_sku", `no product with SKU ${sku}`);
    lines.push({ sku, qty, price: stocked.price });
  }
  const key = request.headers.get("idempotency-key");
  const orderId = key
    ? `ord_${createHash("sha256").update(key).digest("base64url").slice(0, 22)}`
    : `ord_${randomBytes(16).toString("base64url")}`;
  const input: CheckoutInput = {
    orderId,
    items: lines,
    total: lines.reduce((sum, line) => sum + line.qty * line.price, 0),
    paymentToken,
    origin: new URL(request.url).origin,
  };
  await ctx.workflows.start("checkout", input, { id: orderId });
  return Response.json({ orderId }, { status: 202, headers: { location: `/orders/${orderId}` } });
});

/**
 * GET /orders/:orderId → { orderId, status, state, ... }. The status is "processing" while the
 * workflow runs ("compensating" while it undoes its steps) and ends as "completed" or "compensated"
 * (the order row, written by the compensation that runs last); "failed" only if a compensation
 * itself failed for good.
 */
export const getOrder = http("GET /orders/:orderId", async (_request, ctx) => {
  const { orderId } = ctx.params;
  const run = await ctx.workflows.get(orderId);
  if (run === undefined || run.name !== "checkout") return problem(404, "not_found", `no order ${orderId}`);
  const order = await ctx.tables.orders.get({ orderId });
  const state = (run.state ?? { step: "open", steps: {} }) as CheckoutState;
  const status =
    run.status === "running"
      ? state.step === "compensating" || state.step.startsWith("compensate:")
        ? "compensating"
        : "processing"
      : run.status === "completed"
        ? "completed"
        : order?.status === "compensated"
          ? "compensated"
          : "failed";
  const input = run.input as CheckoutInput;
  return Response.json({
    orderId,
    status,
    state,
    items: input.items,
    total: input.total,
    ...(order?.chargeId !== undefined && { chargeId: order.chargeId }),
    ...(order?.shipmentId !== undefined && { shipmentId: order.shipmentId }),
    ...(order?.reason !== undefined && { reason: order.reason }),
    workflow: { status: run.status, error: run.error, waitingFor: run.waitingFor },
  });
});

/** GET /inventory: available, reserved and shipped units per SKU; each adds up to the seeded stock. */
export const inventory = http("GET /inventory", async (_request, ctx) => {
  await ensureSeeded(ctx);
  const items = (await scanAll((options) => ctx.tables.inventory.scan(options)))
    .map(({ sku, name, price, stock, available, reserved, shipped }) => ({
      sku,
      name,
      price,
      stock,
      available,
      reserved,
      shipped,
    }))
    .sort((a, b) => a.sku.localeCompare(b.sku));
  const sum = (field: "stock" | "available" | "reserved" | "shipped") =>
    items.reduce((total, item) => total + item[field], 0);
  return Response.json({
    items,
    totals: {
      stock: sum("stock"),
      available: sum("available"),
      reserved: sum("reserved"),
      shipped: sum("shipped"),
    },
  });
});
