import { api } from "../api.js";
import { bytes, fill, h, table } from "../dom.js";
import type { View } from "./view.js";

interface CacheStats {
  app: string;
  driver: string | null;
  hits: number;
  misses: number;
  hitRate: number | null;
  entries?: number;
  locks?: number;
  bytes?: number;
  maxBytes?: number;
  /** "server": the numbers are the whole Redis database's, shared by every app on it. */
  scope?: "server";
  sizeError?: string;
}

/** Each app's cache: hit rate since this node started, and the embedded cache's size. */
export const cacheView: View = async (root, context) => {
  const body = h("div");
  fill(
    root,
    h("h1", null, "Cache"),
    h(
      "p",
      { class: "lead" },
      "Hits and misses of ctx.cache reads on this node since it started. Size: the embedded cache's own; on Redis, the whole Redis database's (shared by every app and node using it).",
    ),
    body,
  );
  const draw = async () => {
    const { apps } = await api.get<{ apps: CacheStats[] }>("/cache");
    fill(
      body,
      table(
        ["App", "Driver", "Hit rate", "Hits", "Misses", "Entries", "Locks", "Size", "Bound"],
        apps.map((entry) => ({
          attrs: { "data-app": entry.app },
          cells: [
            entry.app,
            entry.driver ?? "–",
            h(
              "strong",
              { "data-testid": "hit-rate" },
              entry.hitRate === null ? "–" : `${(entry.hitRate * 100).toFixed(1)} %`,
            ),
            String(entry.hits),
            String(entry.misses),
            entry.entries === undefined
              ? "–"
              : `${entry.entries}${entry.scope === "server" ? " (server)" : ""}`,
            entry.locks === undefined ? "–" : String(entry.locks),
            entry.sizeError !== undefined
              ? `unavailable: ${entry.sizeError}`
              : entry.bytes === undefined
                ? "–"
                : `${bytes(entry.bytes)}${entry.scope === "server" ? " (server)" : ""}`,
            entry.maxBytes === undefined ? "–" : bytes(entry.maxBytes),
          ],
        })),
        { "data-testid": "cache" },
      ),
    );
  };
  await draw();
  context.refresh(draw);
};
