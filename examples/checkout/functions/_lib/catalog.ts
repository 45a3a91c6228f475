import { isCairnError, type Context } from "cairn";

/** The seed inventory: what the shop starts with (prices in cents). */
export const catalog = [
  { sku: "tea-sencha", name: "Sencha green tea, 100 g", price: 1250, stock: 40 },
  { sku: "tea-assam", name: "Assam black tea, 250 g", price: 1490, stock: 30 },
  { sku: "mug", name: "Stoneware mug", price: 1800, stock: 25 },
  { sku: "kettle", name: "Gooseneck kettle", price: 6400, stock: 10 },
  { sku: "scale", name: "Brewing scale", price: 3900, stock: 15 },
] as const;

/** Marks the seed as done; it is written in the same transaction as the seeded items. */
const seedMarker = "seed:v1";

/** Instances remember that the seed exists (a cache only: the store is what decides). */
let seeded = false;

/**
 * Seed the inventory once, durably: the items and a marker commit together, each put only if the
 * item is new, so concurrent first requests (on any node) seed exactly once and a restart never
 * re-seeds sold stock.
 */
export async function ensureSeeded(ctx: Context): Promise<void> {
  if (seeded) return;
  if ((await ctx.tables.meta.get({ id: seedMarker })) === undefined) {
    try {
      await ctx.tables.transact([
        { put: { table: "meta", item: { id: seedMarker, at: Date.now() }, ifNotExists: true } },
        ...catalog.map(({ sku, name, price, stock }) => ({
          put: {
            table: "inventory",
            item: { sku, name, price, stock, available: stock, reserved: 0, shipped: 0 },
            ifNotExists: true,
          },
        })),
      ]);
      ctx.log.info("seeded the inventory", { skus: catalog.length });
    } catch (error) {
      // Another request seeded it first.
      if (!(isCairnError(error) && error.code === "condition_failed")) throw error;
    }
  }
  seeded = true;
}
