import type { ServiceProvider } from "../host/services.js";
import type { Store } from "../store/types.js";
import { Publisher } from "../events/publisher.js";
import { subscriptionsOf } from "../events/from-functions.js";
import { syncCatalog } from "./catalog.js";
import "./migrations.js";
import { purgeExpired } from "./purge.js";
import { compileSchema, type TableSchema } from "./schema.js";
import { Tables } from "./tables.js";
import type {
  Conditions,
  Item,
  QueryOptions,
  ScanOptions,
  TableDefinition,
  TransactionOp,
  TransactionOptions,
  UpdateChanges,
} from "./types.js";

/** How often expired items are purged (reads hide them from the moment they expire). */
const purgeIntervalMs = 60_000;

/** The host side of tables: what other services use to keep their own state in system tables. */
export interface TablesHost {
  tables: Tables;
  /** The app's outbox: events appended in table transactions reach their subscribers through it. */
  publisher: Publisher;
  /** Declare a table of the platform's own (its name starts with "_"); safe changes apply. */
  defineSystemTable(name: string, definition: TableDefinition): Promise<void>;
  purgeExpired(): Promise<number>;
}

export const tablesProvider: ServiceProvider = {
  name: "tables",
  async open({ app, use, clock, logger }) {
    const store = use<Store>("store");
    const schemas = new Map<string, TableSchema>();
    for (const [name, definition] of Object.entries(app.config.config.tables ?? {})) {
      schemas.set(name, compileSchema(name, definition));
    }
    for (const change of await syncCatalog(store, [...schemas.values()])) logger.info(change);
    const publisher = new Publisher(subscriptionsOf(app.functions), clock);
    const tables = new Tables(store, schemas, clock, publisher);
    const purge = () => purgeExpired(store, clock.now());
    const timer = setInterval(() => {
      purge().catch((error: unknown) =>
        logger.warn({ err: error }, "purging expired items failed; will retry"),
      );
    }, purgeIntervalMs);
    timer.unref();

    const host: TablesHost = {
      tables,
      publisher,
      async defineSystemTable(name, definition) {
        const schema = compileSchema(name, definition);
        for (const change of await syncCatalog(store, [schema])) logger.debug(change);
        schemas.set(name, schema);
      },
      purgeExpired: purge,
    };
    const userTables = [...schemas.keys()];
    return {
      spec: { names: userTables },
      api: host,
      close: () => clearInterval(timer),
      operations: {
        // Reads answer with stored JSON: the instance parses it, off the host's main thread.
        get: ([table, key]) => tables.getRow(userTable(table), key as Item),
        put: async ([table, item, conditions]) =>
          (await tables.put(userTable(table), item as Item, conditions as Conditions))._version,
        update: ([table, key, changes, conditions]) =>
          tables.update(userTable(table), key as Item, changes as UpdateChanges, conditions as Conditions),
        delete: ([table, key, conditions]) =>
          tables.delete(userTable(table), key as Item, conditions as Conditions),
        query: ([table, partition, options]) =>
          tables.queryRows(userTable(table), partition, options as QueryOptions),
        scan: ([table, options]) => tables.scanRows(userTable(table), options as ScanOptions),
        transact: ([ops, options]) => {
          for (const op of Array.isArray(ops) ? (ops as TransactionOp[]) : []) {
            const body = Object.values(op as Record<string, { table?: unknown }>)[0];
            userTable(body?.table);
          }
          return tables.transact(ops as TransactionOp[], options as TransactionOptions);
        },
      },
    };
  },
};

/** Functions reach only the app's own tables, never the platform's system tables. */
function userTable(name: unknown): string {
  return typeof name === "string" && !name.startsWith("_") ? name : `\u0000${String(name)}`;
}
