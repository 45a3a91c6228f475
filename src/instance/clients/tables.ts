import type { Item, Page, Stored, Table, TablesApi } from "../../tables/types.js";
import { registerClient, type HostCall } from "./index.js";

/** Items travel from the host as their stored JSON and version; they are parsed here. */
interface Row {
  version: number;
  data: string;
}

function toItem(row: Row): Stored<Item> {
  const item = JSON.parse(row.data) as Item;
  item._version = row.version;
  return item as Stored<Item>;
}

function toPage(rows: { items: Row[]; cursor?: string }): Page<Item> {
  const items = rows.items.map(toItem);
  return rows.cursor === undefined ? { items } : { items, cursor: rows.cursor };
}

/** ctx.tables: one handle per declared table, each method one host call. */
registerClient("tables", (spec, call: HostCall) => {
  const { names } = spec as { names: string[] };
  const tables: Record<string, Table> & TablesApi = {
    transact: (ops, options) => call("tables.transact", [ops, options]) as ReturnType<TablesApi["transact"]>,
  } as Record<string, Table> & TablesApi;
  for (const name of names) {
    const handle: Table<Item> = {
      get: async (key) => {
        const row = (await call("tables.get", [name, key])) as Row | undefined;
        return row === undefined ? undefined : toItem(row);
      },
      put: async (item, conditions) => {
        const version = (await call("tables.put", [name, item, conditions])) as number;
        const { _version: _ignored, ...rest } = item;
        return { ...rest, _version: version };
      },
      update: (key, changes, conditions) =>
        call("tables.update", [name, key, changes, conditions]) as ReturnType<Table["update"]>,
      delete: (key, conditions) =>
        call("tables.delete", [name, key, conditions]) as ReturnType<Table["delete"]>,
      query: async (partition, options) =>
        toPage((await call("tables.query", [name, partition, options])) as { items: Row[]; cursor?: string }),
      scan: async (options) =>
        toPage((await call("tables.scan", [name, options])) as { items: Row[]; cursor?: string }),
    };
    tables[name] = handle;
  }
  return Object.freeze(tables);
});
