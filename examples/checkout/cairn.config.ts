import { defineConfig, queue, table } from "cairn";

/** A stock-keeping unit: `stock` is what was seeded; available + reserved + shipped always equals it. */
export type InventoryItem = {
  sku: string;
  name: string;
  /** Price per unit, in cents. */
  price: number;
  stock: number;
  available: number;
  reserved: number;
  shipped: number;
};

export type OrderLine = { sku: string; qty: number; price: number };

/** Written by the checkout workflow's steps: "processing", then "completed" or "compensated". */
export type Order = {
  orderId: string;
  status: "processing" | "completed" | "compensated";
  items: OrderLine[];
  total: number;
  createdAt: number;
  updatedAt: number;
  chargeId?: string;
  shipmentId?: string;
  reason?: string;
};

export type Shipment = { orderId: string; shipmentId: string; items: OrderLine[]; createdAt: number };

/**
 * The simulated payment provider's own records, keyed by the caller's Idempotency-Key: a retried
 * charge finds its first outcome here instead of charging again. "voided" marks a key refunded
 * before any charge arrived, so a late charge with it is refused.
 */
export type Charge = {
  key: string;
  chargeId: string;
  orderId: string;
  amount: number;
  status: "succeeded" | "declined" | "voided";
  /** Whether the provider sends the payment-confirmed webhook for it. */
  confirm: boolean;
  createdAt: number;
};

/** At most one refund per charge: keyed by the charge's idempotency key. */
export type Refund = {
  paymentKey: string;
  refundId: string;
  chargeId: string;
  orderId: string;
  amount: number;
  key: string;
  createdAt: number;
};

export type Confirmation = { orderId: string; chargeId: string; amount: number };

/** Settings come from the environment when set there, else these defaults. */
const setting = (name: string, fallback: string) => process.env[name] || fallback;

const config = defineConfig({
  vars: {
    /** Base URL of the payment provider; empty: the origin the order was placed on (this node). */
    PAYMENTS_URL: setting("PAYMENTS_URL", ""),
    /** How long the simulated provider takes to answer a charge or a refund. */
    PAYMENT_LATENCY_MS: setting("PAYMENT_LATENCY_MS", "40"),
    /** Share of charges the simulated provider declines (0 to 1). */
    PAYMENT_FAILURE_RATE: setting("PAYMENT_FAILURE_RATE", "0.1"),
    /** How long after a successful charge the provider confirms it (the payment-confirmed webhook). */
    PAYMENT_CONFIRM_DELAY: setting("PAYMENT_CONFIRM_DELAY", "2s"),
    /** How long an order waits for that confirmation before it is compensated. */
    CONFIRMATION_TIMEOUT: setting("CONFIRMATION_TIMEOUT", "30s"),
  },
  tables: {
    inventory: table<InventoryItem>({ partitionKey: "sku" }),
    orders: table<Order>({ partitionKey: "orderId" }),
    shipments: table<Shipment>({ partitionKey: "orderId" }),
    charges: table<Charge>({ partitionKey: "key" }),
    refunds: table<Refund>({ partitionKey: "paymentKey" }),
    meta: table<{ id: string; at: number }>({ partitionKey: "id" }),
  },
  queues: {
    /** The provider's delayed "payment confirmed" webhooks. */
    confirmations: queue<Confirmation>({ maxAttempts: 20, backoff: "500ms", visibilityTimeout: "15s" }),
  },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
