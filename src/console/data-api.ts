import type { BlobStore } from "../blobs/blob-store.js";
import type { AdminApi, AdminRequest } from "../gateway/admin.js";
import { CairnError } from "../sdk/errors.js";
import type { TablesHost } from "../tables/service.js";
import { intParam, pickApp, type ConsoleSource } from "./source.js";

/** A cache's size: the embedded cache's own, or (scope "server") the whole Redis database's. */
export interface CacheSize {
  scope?: "server";
  entries: number;
  locks?: number;
  bytes: number;
  maxBytes?: number;
}

/** What the cache service tells the platform about itself. */
export interface CacheApi {
  driver: string;
  stats?: () => CacheSize | Promise<CacheSize>;
}

/**
 * Browsing state for operators: table items by partition with the cursor, one item with its
 * version, blobs by prefix with their metadata and a presigned download URL, and cache statistics.
 * Read-only; every route takes `?app=` when the node serves several apps.
 */
export function registerDataRoutes(admin: AdminApi, source: ConsoleSource): void {
  const tablesOf = (request: AdminRequest) => {
    const { app, services } = pickApp(source, request);
    const host = services.api<TablesHost>("tables");
    if (host === undefined) throw new CairnError("not_found", `app ${app} has no tables service`);
    return { app, tables: host.tables };
  };
  /** Only the app's own tables: the platform's system tables (names starting with "_") stay hidden. */
  const userSchema = (tables: TablesHost["tables"], name: string) => {
    if (name.startsWith("_")) throw new CairnError("not_found", `no table "${name}"`);
    return tables.schema(name);
  };

  admin.route("GET", "/tables", (request) => {
    const { app, tables } = tablesOf(request);
    const items = tables
      .names()
      .filter((name) => !name.startsWith("_"))
      .map((name) => {
        const schema = tables.schema(name);
        return {
          name,
          partitionKey: schema.partitionKey,
          sortKey: schema.sortKey ?? null,
          indexes: Object.fromEntries(
            [...schema.indexes].map(([index, spec]) => [
              index,
              { partitionKey: spec.partitionKey, sortKey: spec.sortKey ?? null },
            ]),
          ),
          ttl: schema.ttl ?? null,
          changeEvents: schema.changeEvents,
        };
      });
    return { body: { app, tables: items } };
  });

  // A partition's items in sort-key order (or, without ?partition=, the whole table), a page at a time.
  admin.route("GET", "/tables/:table/items", async (request) => {
    const { app, tables } = tablesOf(request);
    const name = request.params.table!;
    userSchema(tables, name);
    const limit = Math.min(intParam(request, "limit") ?? 25, 1000);
    const cursor = request.query.get("cursor") || undefined;
    const partition = request.query.get("partition");
    const page =
      partition === null || partition === ""
        ? await tables.scan(name, { limit, ...(cursor && { cursor }) })
        : await tables.query(name, keyValue(partition, request.query.get("partitionType")), {
            limit,
            ...(cursor && { cursor }),
            ...(request.query.get("order") === "desc" && { order: "desc" as const }),
          });
    return { body: { app, table: name, ...page } };
  });

  admin.route("GET", "/tables/:table/item", async (request) => {
    const { app, tables } = tablesOf(request);
    const name = request.params.table!;
    const schema = userSchema(tables, name);
    const key: Record<string, string | number> = {
      [schema.partitionKey]: keyValue(request.query.get("pk") ?? "", request.query.get("pkType")),
    };
    if (schema.sortKey !== undefined)
      key[schema.sortKey] = keyValue(request.query.get("sk") ?? "", request.query.get("skType"));
    const item = await tables.get(name, key);
    if (item === undefined) throw new CairnError("not_found", `no item with that key in ${name}`);
    return { body: { app, table: name, key, version: item._version, item } };
  });

  // Objects and common prefixes under a prefix; with ?key=, one object's info and a download URL.
  admin.route("GET", "/blobs", async (request) => {
    const { app, services } = pickApp(source, request);
    const blobs = services.api<BlobStore>("blobs");
    if (blobs === undefined) throw new CairnError("not_found", `app ${app} has no blobs service`);
    const key = request.query.get("key");
    if (key !== null) {
      const info = await blobs.head(key);
      if (info === undefined) throw new CairnError("not_found", `no blob "${key}"`);
      const url = await blobs.presign(key, { method: "GET", expiresIn: "5m" }, originOf(request));
      return { body: { app, ...info, url } };
    }
    const cursor = request.query.get("cursor") || undefined;
    const delimiter = request.query.get("delimiter");
    const page = await blobs.list({
      prefix: request.query.get("prefix") ?? "",
      ...(delimiter !== "" && { delimiter: delimiter ?? "/" }),
      limit: Math.min(intParam(request, "limit") ?? 100, 1000),
      ...(cursor && { cursor }),
    });
    return { body: { app, ...page } };
  });

  admin.route("GET", "/cache", async () => {
    const telemetry = source.telemetry;
    const apps = await Promise.all(
      (source.deployment()?.apps ?? []).map(async ({ app, services }) => {
        const cache = services.api<CacheApi>("cache");
        const hits = telemetry.cache.series({ app: app.name, result: "hit" }).value;
        const misses = telemetry.cache.series({ app: app.name, result: "miss" }).value;
        let size: CacheSize | { sizeError: string } | undefined;
        try {
          size = await cache?.stats?.();
        } catch (error) {
          // Redis unreachable: the hit rate is still worth showing.
          size = { sizeError: error instanceof Error ? error.message : String(error) };
        }
        return {
          app: app.name,
          driver: cache?.driver ?? null,
          hits,
          misses,
          hitRate: hits + misses === 0 ? null : hits / (hits + misses),
          ...size,
        };
      }),
    );
    return { body: { apps } };
  });
}

/** A key attribute from a query parameter: a string, or a number when `type=number`. */
function keyValue(value: string, type: string | null): string | number {
  if (type !== "number") return value;
  const number = Number(value);
  if (value.trim() === "" || !Number.isFinite(number))
    throw new CairnError("invalid_argument", `"${value}" is not a number`);
  return number;
}

/** The origin the browser used, for presigned URLs when CAIRN_PUBLIC_URL is not set. */
function originOf(request: AdminRequest): string {
  const forwarded = String(request.req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]
    ?.trim();
  return `${forwarded === "https" ? "https" : "http"}://${request.req.headers.host ?? "localhost"}`;
}
