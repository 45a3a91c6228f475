/**
 * The checkout saga. Each order is one run of this workflow, whose id is the order id:
 *
 *   open → reserve stock → payment intent → charge → wait for "payment-confirmed" → ship → complete
 *
 * Steps that write tables (open, reserve, ship, complete and the compensations that undo them)
 * commit their writes exactly once, with their checkpoint. Steps that call the payment provider
 * send an idempotency key that stays the same across retries and replays, so the provider charges
 * or refunds once however often the call is made. When a step fails for good, the confirmation does
 * not arrive in time or the run is cancelled, the completed steps are undone in reverse order:
 * refund the payment, release the stock, mark the order compensated.
 */
import { NonRetryableError, workflow, type StepContext, type StepOptions } from "cairn";
import type { Confirmation, OrderLine } from "../cairn.config.js";
import { settings } from "./_lib/settings.js";

export interface CheckoutInput {
  orderId: string;
  items: OrderLine[];
  /** In cents. */
  total: number;
  paymentToken: string;
  /** Where the order was placed: the payment provider's base URL unless PAYMENTS_URL is set. */
  origin: string;
}

export interface CheckoutResult {
  orderId: string;
  chargeId: string;
  shipmentId: string;
  total: number;
}

/** The run's shared state object, readable while it is in flight (GET /orders/{orderId}). */
export interface CheckoutState {
  /** The step running now; "completed" or "compensated" at the end. */
  step: string;
  /** Each finished step's outcome, compensations included ("compensate:<step>"). */
  steps: Record<string, { ok: boolean; [detail: string]: unknown }>;
  /** Why the order is being compensated. */
  failure?: { step: string; code: string; message: string };
}

/** A failure as the state shows it (the same live and when a later activation replays it). */
function describe(error: unknown): { code: string; message: string } {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return {
    code: typeof code === "string" && code !== "function_error" ? code : "step_failed",
    message: typeof message === "string" ? message : String(error),
  };
}

/** Units per SKU (an order may list a SKU twice), in a stable order. */
function unitsBySku(items: OrderLine[]): Array<[string, number]> {
  const units = new Map<string, number>();
  for (const { sku, qty } of items) units.set(sku, (units.get(sku) ?? 0) + qty);
  return [...units].sort(([a], [b]) => a.localeCompare(b));
}

/** A call to the payment provider; transient failures are retried here a few times, then by the step. */
async function provider(url: string, key: string, body: unknown, signal: AbortSignal): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(body),
        signal,
      });
      if (response.status < 500 || attempt === 4) return response;
      await response.body?.cancel();
    } catch (error) {
      if (attempt === 4 || signal.aborted) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

export const checkout = workflow<CheckoutInput, CheckoutResult>(
  "checkout",
  async (order, wf, ctx) => {
    const config = settings(ctx.env);
    const payments = config.paymentsUrl || order.origin;
    const { orderId } = order;
    const units = unitsBySku(order.items);
    // The state survives activations: a replay updates it in place as it passes each step again.
    const state = wf.state as unknown as CheckoutState;
    state.step ??= "open";
    state.steps ??= {};

    /** A step that keeps the state object up to date with its outcome. */
    async function step<T>(
      name: string,
      fn: (step: StepContext) => T | Promise<T>,
      options: StepOptions<Awaited<T>> = {},
      detail: (result: Awaited<T>) => Record<string, unknown> = () => ({}),
    ): Promise<Awaited<T>> {
      state.step = name;
      try {
        const result = await wf.step(name, fn, options);
        state.steps[name] = { ok: true, ...detail(result) };
        return result;
      } catch (error) {
        state.steps[name] = { ok: false, ...describe(error) };
        throw error;
      }
    }

    /** A compensation: recorded in the state as "compensate:<name>". */
    const undo =
      <R>(name: string, fn: (result: R, step: StepContext) => unknown) =>
      async (result: R, s: StepContext) => {
        state.step = `compensate:${name}`;
        const detail = await fn(result, s);
        state.steps[`compensate:${name}`] = { ok: true, ...(detail as Record<string, unknown>) };
      };

    try {
      await step(
        "open",
        (s) => {
          const now = Date.now();
          s.tables.orders.put({
            orderId,
            status: "processing",
            items: order.items,
            total: order.total,
            createdAt: now,
            updatedAt: now,
          });
          return { openedAt: now };
        },
        {
          // The last compensation to run: the order's final word.
          compensate: undo("open", (_opened, s) => {
            s.tables.orders.update(
              { orderId },
              {
                set: {
                  status: "compensated",
                  reason: state.failure?.message ?? "cancelled",
                  updatedAt: Date.now(),
                },
              },
            );
            state.step = "compensated";
            return {};
          }),
        },
      );

      // Optimistic concurrency: read each item's version, write only if it is unchanged at commit
      // (all items together, with the checkpoint). A lost race is retried; too little stock is final.
      await step(
        "reserve",
        async (s) => {
          for (const [sku, qty] of units) {
            const item = await ctx.tables.inventory.get({ sku });
            if (item === undefined) throw new NonRetryableError(`unknown SKU ${sku}`);
            if (item.available < qty)
              throw new NonRetryableError(
                `out of stock: ${sku} has ${item.available}, the order needs ${qty}`,
              );
            s.tables.inventory.update(
              { sku },
              { increment: { available: -qty, reserved: qty } },
              { ifVersion: item._version },
            );
          }
          return { units: units.reduce((sum, [, qty]) => sum + qty, 0) };
        },
        {
          retry: { attempts: 30, backoff: "20ms", maxDelay: "1s" },
          compensate: undo("reserve", (_reserved, s) => {
            for (const [sku, qty] of units)
              s.tables.inventory.update({ sku }, { increment: { available: qty, reserved: -qty } });
            return { released: units.reduce((sum, [, qty]) => sum + qty, 0) };
          }),
        },
        (reserved) => reserved,
      );

      // The refund is registered before the charge, so a charge whose answer never arrived is
      // refunded too (refunding a key that was never charged voids it at the provider).
      const intent = await step(
        "payment-intent",
        (s) => ({ paymentKey: s.idempotencyKey, amount: order.total }),
        {
          compensate: undo("payment-intent", async ({ paymentKey }, s) => {
            const response = await provider(
              `${payments}/payments/refund`,
              s.idempotencyKey,
              { paymentKey, orderId },
              s.signal,
            );
            if (!response.ok) throw new Error(`the payment provider refused the refund: ${response.status}`);
            return (await response.json()) as Record<string, unknown>;
          }),
        },
        (intent) => intent,
      );

      const charge = await step(
        "charge",
        async (s) => {
          const response = await provider(
            `${payments}/payments/charge`,
            intent.paymentKey,
            { orderId, amount: order.total, token: order.paymentToken },
            s.signal,
          );
          const body = (await response.json().catch(() => ({}))) as {
            chargeId?: string;
            error?: { code?: string; message?: string };
          };
          if (response.status === 402 || response.status === 409 || response.status === 422)
            throw new NonRetryableError(
              `${body.error?.code ?? "payment_failed"}: ${body.error?.message ?? ""}`,
            );
          if (response.status !== 201 || body.chargeId === undefined)
            throw new Error(`the payment provider answered ${response.status}`);
          return { chargeId: body.chargeId, amount: order.total };
        },
        { retry: { attempts: 8, backoff: "250ms", maxDelay: "5s" }, timeout: "5s" },
        (charged) => charged,
      );

      state.step = "payment-confirmed";
      try {
        const confirmed = await wf.waitForSignal<Confirmation>("payment-confirmed", {
          timeout: config.confirmationTimeoutMs,
        });
        state.steps["payment-confirmed"] = { ok: true, chargeId: confirmed.chargeId };
      } catch (error) {
        state.steps["payment-confirmed"] = { ok: false, ...describe(error) };
        throw error;
      }

      const shipment = await step(
        "ship",
        (s) => {
          for (const [sku, qty] of units)
            s.tables.inventory.update(
              { sku },
              { increment: { reserved: -qty, shipped: qty } },
              { ifExists: true },
            );
          const shipmentId = `shp_${orderId}`;
          s.tables.shipments.put({ orderId, shipmentId, items: order.items, createdAt: Date.now() });
          return { shipmentId };
        },
        {},
        (shipped) => shipped,
      );

      await step("complete", (s) => {
        s.tables.orders.update(
          { orderId },
          {
            set: {
              status: "completed",
              chargeId: charge.chargeId,
              shipmentId: shipment.shipmentId,
              updatedAt: Date.now(),
            },
          },
        );
      });
      state.step = "completed";
      return { orderId, chargeId: charge.chargeId, shipmentId: shipment.shipmentId, total: order.total };
    } catch (error) {
      // Compensations run next, in reverse order of the steps they undo.
      state.failure = { step: state.step, ...describe(error) };
      state.step = "compensating";
      throw error;
    }
  },
  { timeout: "10s" },
);
