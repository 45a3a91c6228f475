/**
 * A simulated payment provider, served by the app itself so the example needs nothing else. It
 * behaves like a real one where it matters to the workflow: it is slow (PAYMENT_LATENCY_MS), it
 * declines some charges (PAYMENT_FAILURE_RATE), every call takes an Idempotency-Key whose first
 * outcome is kept (a retried charge is never charged twice), and it confirms each successful charge
 * later by itself (PAYMENT_CONFIRM_DELAY), as a webhook would.
 *
 * Test tokens, as real providers have: "tok_decline" is always declined; "tok_unconfirmed" is
 * charged but never confirmed.
 */
import { http, isCairnError, on, type Context } from "cairn";
import { randomBytes } from "node:crypto";
import type { Charge, Confirmation, Refund } from "../cairn.config.js";
import { problem, readJson, scanAll } from "./_lib/http.js";
import { settings } from "./_lib/settings.js";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const id = (prefix: string) => `${prefix}_${randomBytes(9).toString("base64url")}`;

function idempotencyKey(request: Request): string | undefined {
  const key = request.headers.get("idempotency-key") ?? "";
  return key.length > 0 && key.length <= 255 ? key : undefined;
}

/** Put an item unless one exists under its key; answer whichever is stored. */
async function putOnce<T>(put: () => Promise<T>, existing: () => Promise<T | undefined>): Promise<T> {
  try {
    return await put();
  } catch (error) {
    if (!(isCairnError(error) && error.code === "condition_failed")) throw error;
    return (await existing())!;
  }
}

/** The "payment confirmed" webhook, sent (again) for every successful charge it answers with. */
async function scheduleConfirmation(ctx: Context, charge: Charge): Promise<void> {
  if (charge.status !== "succeeded" || !charge.confirm) return;
  await ctx.queues.confirmations.send(
    { orderId: charge.orderId, chargeId: charge.chargeId, amount: charge.amount },
    { delay: settings(ctx.env).confirmDelayMs, idempotencyKey: `confirm:${charge.chargeId}` },
  );
}

function chargeResponse(charge: Charge): Response {
  if (charge.status === "declined") return problem(402, "card_declined", "the card was declined");
  if (charge.status === "voided")
    return problem(409, "payment_voided", "this payment was cancelled before it was charged");
  const { chargeId, orderId, amount, status, createdAt } = charge;
  return Response.json({ chargeId, orderId, amount, status, createdAt }, { status: 201 });
}

/** POST /payments/charge, Idempotency-Key: k, { orderId, amount, token } → 201 { chargeId, ... } or 402. */
export const charge = http("POST /payments/charge", async (request, ctx) => {
  const key = idempotencyKey(request);
  if (key === undefined) return problem(400, "idempotency_key_required", "send an Idempotency-Key header");
  const body = await readJson(request);
  const orderId = typeof body?.orderId === "string" ? body.orderId : "";
  const amount = body?.amount;
  const token = typeof body?.token === "string" ? body.token : "";
  if (
    orderId === "" ||
    token === "" ||
    typeof amount !== "number" ||
    !Number.isInteger(amount) ||
    amount <= 0
  )
    return problem(400, "invalid_charge", "send { orderId, amount (cents, > 0), token }");
  const { latencyMs, failureRate } = settings(ctx.env);
  await sleep(latencyMs);

  let recorded: Charge | undefined = await ctx.tables.charges.get({ key });
  if (recorded === undefined) {
    const declined = token === "tok_decline" || Math.random() < failureRate;
    recorded = await putOnce(
      () =>
        ctx.tables.charges.put(
          {
            key,
            chargeId: id("ch"),
            orderId,
            amount,
            status: declined ? "declined" : "succeeded",
            confirm: token !== "tok_unconfirmed",
            createdAt: Date.now(),
          },
          { ifNotExists: true },
        ),
      () => ctx.tables.charges.get({ key }),
    );
  }
  if (recorded.status !== "voided" && (recorded.orderId !== orderId || recorded.amount !== amount))
    return problem(422, "idempotency_key_reused", "this Idempotency-Key was used for another charge");
  await scheduleConfirmation(ctx, recorded);
  return chargeResponse(recorded);
});

/**
 * POST /payments/refund, Idempotency-Key: k, { paymentKey } (the charge's own key) → 200
 * { refunded, ... }. Refunds the whole charge once; a key that was never charged is voided, so a
 * charge that arrives late with it is refused.
 */
export const refund = http("POST /payments/refund", async (request, ctx) => {
  const key = idempotencyKey(request);
  if (key === undefined) return problem(400, "idempotency_key_required", "send an Idempotency-Key header");
  const body = await readJson(request);
  const paymentKey = typeof body?.paymentKey === "string" ? body.paymentKey : "";
  if (paymentKey === "") return problem(400, "invalid_refund", "send { paymentKey }");
  await sleep(settings(ctx.env).latencyMs);

  const charge =
    (await ctx.tables.charges.get({ key: paymentKey })) ??
    (await putOnce(
      () =>
        ctx.tables.charges.put(
          {
            key: paymentKey,
            chargeId: id("ch"),
            orderId: typeof body?.orderId === "string" ? body.orderId : "",
            amount: 0,
            status: "voided",
            confirm: false,
            createdAt: Date.now(),
          },
          { ifNotExists: true },
        ),
      () => ctx.tables.charges.get({ key: paymentKey }),
    ));
  if (charge.status !== "succeeded") return Response.json({ refunded: false, status: charge.status });
  const refund: Refund = await putOnce(
    () =>
      ctx.tables.refunds.put(
        {
          paymentKey,
          refundId: id("re"),
          chargeId: charge.chargeId,
          orderId: charge.orderId,
          amount: charge.amount,
          key,
          createdAt: Date.now(),
        },
        { ifNotExists: true },
      ),
    () => ctx.tables.refunds.get({ paymentKey }),
  );
  return Response.json({ refunded: true, refundId: refund.refundId, amount: refund.amount });
});

/** The provider's webhook, delivered by the queue: signal the order's workflow (its id is the order id). */
export const paymentWebhooks = on.queue<Confirmation>(
  "confirmations",
  async (batch, ctx) => {
    for (const message of batch.messages) {
      const { orderId } = message.body;
      try {
        await ctx.workflows.signal(orderId, "payment-confirmed", message.body);
      } catch (error) {
        // An order that already ended (say, its confirmation timed out) takes no more signals.
        if (!(isCairnError(error) && (error.code === "workflow_ended" || error.code === "not_found")))
          throw error;
        ctx.log.info("confirmation for an order that has ended", { orderId, code: error.code });
      }
      message.ack();
    }
  },
  { timeout: "5s" },
);

/** GET /ledger: every charge and refund, and the totals (cents). */
export const ledger = http("GET /ledger", async (_request, ctx) => {
  const all = await scanAll((options) => ctx.tables.charges.scan(options));
  const refunds = (await scanAll((options) => ctx.tables.refunds.scan(options))).map(
    ({ refundId, chargeId, orderId, amount, createdAt }) => ({
      refundId,
      chargeId,
      orderId,
      amount,
      createdAt,
    }),
  );
  const charges = all
    .filter((charge) => charge.status === "succeeded")
    .map(({ chargeId, orderId, amount, createdAt }) => ({ chargeId, orderId, amount, createdAt }));
  const charged = charges.reduce((sum, charge) => sum + charge.amount, 0);
  const refunded = refunds.reduce((sum, refund) => sum + refund.amount, 0);
  return Response.json({
    charges: charges.sort((a, b) => a.createdAt - b.createdAt),
    refunds: refunds.sort((a, b) => a.createdAt - b.createdAt),
    declined: all.filter((charge) => charge.status === "declined").length,
    totals: { charged, refunded, net: charged - refunded },
  });
});
