import { api, describe, query } from "../api.js";
import { fill, h, json, routeParams, setRouteParams } from "../dom.js";
import type { View } from "./view.js";
import { appSelect } from "./workflows.js";

interface TableInfo {
  name: string;
  partitionKey: string;
  sortKey: string | null;
  indexes: Record<string, { partitionKey: string; sortKey: string | null }>;
  ttl: string | null;
}

type Item = Record<string, unknown> & { _version: number };

/** Browse a table by partition (or scan it), a page at a time with the cursor, and open an item. */
export const tablesView: View = async (root, context) => {
  const initial = routeParams();
  const app = appSelect(context.apps, initial.get("app") ?? "", false);
  const tableSelect = h("select", { "data-testid": "table" });
  const partition = h("input", {
    type: "search",
    placeholder: "partition key (empty: scan)",
    value: initial.get("partition") ?? "",
    "data-testid": "partition",
  });
  const numeric = h("input", { type: "checkbox", checked: initial.get("type") === "number" });
  const order = h(
    "select",
    null,
    h("option", { value: "asc" }, "ascending"),
    h("option", { value: "desc" }, "descending"),
  );
  const schema = h("p", { class: "muted" });
  const items = h("div");
  const pager = h("div", { class: "pager" });
  const detail = h("div");
  let tables: TableInfo[] = [];
  let cursors: string[] = [];
  let cursor: string | undefined;

  const current = () => tables.find((table) => table.name === tableSelect.value);

  let loading = 0;
  /** The app's tables into the picker; false when another app was picked meanwhile. */
  const loadTables = async (): Promise<boolean> => {
    const mine = ++loading;
    const data = await api.get<{ tables: TableInfo[] }>(`/tables${query({ app: app.value })}`);
    if (mine !== loading) return false;
    tables = data.tables;
    fill(
      tableSelect,
      tables.map((table) => h("option", { value: table.name }, table.name)),
    );
    const wanted = initial.get("table");
    if (wanted !== null && tables.some((table) => table.name === wanted)) tableSelect.value = wanted;
    return true;
  };

  let browsing = 0;
  const browse = async () => {
    // Only the latest page is shown, whatever order the answers arrive in.
    const mine = ++browsing;
    const table = current();
    if (table === undefined) {
      fill(items, h("p", { class: "empty" }, "This app declares no tables."));
      fill(schema);
      return;
    }
    fill(
      schema,
      `partition key ${table.partitionKey}`,
      table.sortKey ? ` · sort key ${table.sortKey}` : "",
      Object.keys(table.indexes).length > 0 ? ` · indexes ${Object.keys(table.indexes).join(", ")}` : "",
      table.ttl ? ` · ttl ${table.ttl}` : "",
    );
    setRouteParams({
      app: app.value,
      table: table.name,
      partition: partition.value || undefined,
      type: numeric.checked ? "number" : undefined,
    });
    const page = await api.get<{ items: Item[]; cursor?: string }>(
      `/tables/${encodeURIComponent(table.name)}/items${query({
        app: app.value,
        partition: partition.value,
        partitionType: numeric.checked ? "number" : undefined,
        order: order.value,
        limit: 10,
        cursor,
      })}`,
    );
    if (mine !== browsing) return;
    const keys = [table.partitionKey, ...(table.sortKey ? [table.sortKey] : [])];
    fill(
      items,
      h(
        "table",
        { class: "items", "data-testid": "items" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            [...keys, "_version", "item"].map((label) => h("th", null, label)),
          ),
        ),
        h(
          "tbody",
          null,
          page.items.length === 0
            ? h("tr", null, h("td", { colspan: keys.length + 2, class: "empty" }, "No items."))
            : page.items.map((item) =>
                h(
                  "tr",
                  {
                    class: "clickable",
                    "data-item": keys.map((key) => String(item[key])).join("/"),
                    onclick: () => void open(table, item),
                  },
                  keys.map((key) => h("td", null, h("code", null, String(item[key])))),
                  h("td", null, String(item._version)),
                  h("td", { class: "preview" }, preview(item, keys)),
                ),
              ),
        ),
      ),
    );
    fill(
      pager,
      cursors.length > 0
        ? h("button", { onclick: () => ((cursor = cursors.pop() || undefined), void browse()) }, "← Previous")
        : null,
      page.cursor !== undefined
        ? h(
            "button",
            {
              "data-testid": "next-page",
              onclick: () => {
                cursors.push(cursor ?? "");
                cursor = page.cursor;
                void browse();
              },
            },
            "Next page →",
          )
        : null,
    );
  };

  const open = async (table: TableInfo, item: Item) => {
    // Key attributes are strings or numbers.
    const key = (attribute: string) => item[attribute] as string | number;
    const pk = key(table.partitionKey);
    const sk = table.sortKey ? key(table.sortKey) : undefined;
    try {
      const found = await api.get<{ version: number; item: Item }>(
        `/tables/${encodeURIComponent(table.name)}/item${query({
          app: app.value,
          pk: String(pk),
          pkType: typeof pk === "number" ? "number" : undefined,
          sk: sk === undefined ? undefined : String(sk),
          skType: typeof sk === "number" ? "number" : undefined,
        })}`,
      );
      fill(
        detail,
        h(
          "div",
          { class: "inspect", "data-testid": "item" },
          h("h3", null, `${String(pk)}${sk === undefined ? "" : ` / ${String(sk)}`}`),
          h("p", null, "version ", h("strong", { "data-testid": "item-version" }, String(found.version))),
          json(found.item),
        ),
      );
    } catch (error) {
      context.notice(describe(error), "error");
    }
  };

  const restart = () => {
    cursors = [];
    cursor = undefined;
    fill(detail);
    void browse().catch((error: unknown) => {
      fill(items, h("div", { class: "error-box" }, describe(error)));
      fill(pager);
    });
  };
  app.addEventListener("change", () => {
    loadTables().then(
      (current) => current && restart(),
      (error: unknown) => context.notice(describe(error), "error"),
    );
  });
  tableSelect.addEventListener("change", restart);
  order.addEventListener("change", restart);
  numeric.addEventListener("change", restart);
  const form = h(
    "form",
    {
      class: "filters",
      onsubmit: (event: Event) => {
        event.preventDefault();
        restart();
      },
    },
    context.apps.length > 1 ? app : null,
    tableSelect,
    partition,
    h("label", null, numeric, " number"),
    order,
    h("button", { type: "submit", "data-testid": "browse" }, "Browse"),
  );
  fill(root, h("h1", null, "Tables"), form, schema, items, pager, detail);
  if (await loadTables()) restart();
};

function preview(item: Item, keys: string[]): string {
  const rest = Object.fromEntries(
    Object.entries(item).filter(([key]) => !keys.includes(key) && key !== "_version"),
  );
  const text = JSON.stringify(rest);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}
