import { api, query } from "../api.js";
import { fill, h, link, ms, routeParams, setRouteParams, time } from "../dom.js";
import type { View, ViewContext } from "./view.js";

interface LogLine {
  level: string;
  msg: string;
  time: number;
  fields?: Record<string, unknown>;
}

interface Invocation {
  requestId: string;
  app: string;
  function: string;
  kind: string;
  method: string;
  target: string;
  status: number;
  code: string | null;
  ms: number;
  at: number;
  logs: LogLine[];
}

/** The node's recent invocations (every function), filterable by request id. */
export const invocationsView: View = async (root, context) => {
  const panel = h("div");
  fill(
    root,
    h("h1", null, "Invocations"),
    h(
      "p",
      { class: "lead" },
      "The latest 1,000 invocations on this node, newest first, with the lines each one logged (kept in memory only).",
    ),
    panel,
  );
  await invocationPanel(panel, context, {});
};

/** A filterable list of recent invocations; a row opens to show its structured log lines. */
export async function invocationPanel(
  root: HTMLElement,
  context: ViewContext,
  scope: { app?: string; function?: string },
): Promise<void> {
  const initial = routeParams();
  const search = h("input", {
    type: "search",
    placeholder: "request id",
    value: initial.get("request") ?? "",
    "data-testid": "request-filter",
  });
  const errorsOnly = h("input", { type: "checkbox", checked: initial.get("errors") === "1" });
  const list = h("div");
  const open = new Set<string>();
  let drawing = 0;
  const draw = async () => {
    const mine = ++drawing;
    const { items } = await api.get<{ items: Invocation[] }>(
      `/invocations${query({ ...scope, request: search.value.trim(), errors: errorsOnly.checked, limit: 100 })}`,
    );
    if (mine !== drawing) return; // a later draw has started
    fill(
      list,
      items.length === 0
        ? h("p", { class: "empty" }, "No invocations match.")
        : h(
            "table",
            { class: "invocations", "data-testid": "invocations" },
            h(
              "thead",
              null,
              h(
                "tr",
                null,
                ["Time", "Request id", "Function", "What", "Result", "Duration", "Logs"].map((label) =>
                  h("th", null, label),
                ),
              ),
            ),
            h(
              "tbody",
              null,
              items.map((item) => {
                const key = `${item.app}/${item.requestId}`;
                const failed = item.code !== null;
                const row = h(
                  "tr",
                  {
                    class: `clickable ${failed ? "failed" : ""}`,
                    "data-request": item.requestId,
                    onclick: () => {
                      if (open.has(key)) open.delete(key);
                      else open.add(key);
                      void draw();
                    },
                  },
                  h("td", null, time(item.at)),
                  h("td", null, h("code", null, item.requestId)),
                  h(
                    "td",
                    null,
                    link(
                      `#/functions/${encodeURIComponent(item.app)}/${encodeURIComponent(item.function)}`,
                      item.function,
                    ),
                  ),
                  h("td", null, h("code", null, `${item.method} ${item.target}`)),
                  h(
                    "td",
                    null,
                    h(
                      "span",
                      { class: failed ? "errors" : "ok" },
                      item.status > 0 ? String(item.status) : failed ? "failed" : "ok",
                      failed ? ` ${item.code}` : "",
                    ),
                  ),
                  h("td", null, ms(item.ms)),
                  h("td", null, item.logs.length > 0 ? `${item.logs.length} ▾` : "–"),
                );
                if (!open.has(key)) return row;
                return [row, h("tr", { class: "logs" }, h("td", { colspan: 7 }, logLines(item.logs)))];
              }),
            ),
          ),
    );
  };
  const changed = () => {
    setRouteParams({
      request: search.value.trim() || undefined,
      errors: errorsOnly.checked ? "1" : undefined,
    });
    void draw();
  };
  search.addEventListener("input", changed);
  errorsOnly.addEventListener("change", changed);
  fill(root, h("div", { class: "filters" }, search, h("label", null, errorsOnly, " failed only")), list);
  await draw();
  context.refresh(draw);
}

function logLines(lines: LogLine[]): HTMLElement {
  if (lines.length === 0)
    return h(
      "p",
      { class: "muted" },
      "This invocation logged nothing (or its lines left the in-memory buffer).",
    );
  return h(
    "div",
    { class: "log-lines", "data-testid": "log-lines" },
    lines.map((line) =>
      h(
        "div",
        { class: `log ${line.level}` },
        h("span", { class: "log-time" }, new Date(line.time).toLocaleTimeString()),
        h("span", { class: "log-level" }, line.level),
        h("span", { class: "log-msg" }, line.msg),
        line.fields === undefined ? null : h("code", { class: "log-fields" }, JSON.stringify(line.fields)),
      ),
    ),
  );
}
