import { api, query } from "../api.js";
import { ago, badge, fill, h, link, routeParams, setRouteParams, time } from "../dom.js";
import type { View } from "./view.js";

interface RunSummary {
  id: string;
  app?: string;
  name: string;
  status: string;
  waitingFor: string | null;
  createdAt: number;
  updatedAt: number;
}

const statuses = ["", "running", "completed", "failed", "cancelled"];

/** Workflow runs, newest first, filtered by name, status and creation time. */
export const workflowsView: View = async (root, context) => {
  const initial = routeParams();
  const names = await workflowNames();
  const name = h(
    "select",
    { "data-testid": "filter-name" },
    h("option", { value: "" }, "every workflow"),
    names.map((entry) => h("option", { value: entry }, entry)),
  );
  name.value = initial.get("name") ?? "";
  const status = h(
    "select",
    { "data-testid": "filter-status" },
    statuses.map((entry) => h("option", { value: entry }, entry === "" ? "any status" : entry)),
  );
  status.value = initial.get("status") ?? "";
  const since = h("input", {
    type: "datetime-local",
    value: initial.get("since") ?? "",
    title: "created from",
  });
  const until = h("input", {
    type: "datetime-local",
    value: initial.get("until") ?? "",
    title: "created before",
  });
  const app = context.apps.length > 1 ? appSelect(context.apps, initial.get("app") ?? "") : undefined;
  const list = h("div");
  const pager = h("div", { class: "pager" });
  let cursors: string[] = [];
  let cursor: string | undefined;

  let drawing = 0;
  const draw = async () => {
    const mine = ++drawing;
    const epoch = (input: HTMLInputElement) => (input.value ? new Date(input.value).getTime() : undefined);
    const page = await api.get<{ items: RunSummary[]; cursor?: string }>(
      `/workflows${query({
        app: app?.value,
        name: name.value,
        status: status.value,
        since: epoch(since),
        until: epoch(until),
        limit: 25,
        cursor,
      })}`,
    );
    if (mine !== drawing) return; // a later draw has started
    fill(
      list,
      h(
        "table",
        { class: "runs", "data-testid": "runs" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Run", "Workflow", "Status", "Waiting for", "Started", "Updated"].map((label) =>
              h("th", null, label),
            ),
          ),
        ),
        h(
          "tbody",
          null,
          page.items.length === 0
            ? h("tr", null, h("td", { colspan: 6, class: "empty" }, "No runs match."))
            : page.items.map((run) =>
                h(
                  "tr",
                  { "data-run": run.id },
                  h("td", null, link(`#/workflows/${encodeURIComponent(run.id)}`, h("code", null, run.id))),
                  h(
                    "td",
                    null,
                    run.app !== undefined && context.apps.length > 1 ? `${run.app} / ${run.name}` : run.name,
                  ),
                  h("td", null, badge(run.status)),
                  h("td", null, run.waitingFor ?? "–"),
                  h(
                    "td",
                    { title: new Date(run.createdAt).toISOString() },
                    `${time(run.createdAt)} (${ago(run.createdAt)})`,
                  ),
                  h("td", null, ago(run.updatedAt)),
                ),
              ),
        ),
      ),
    );
    fill(
      pager,
      cursors.length > 0
        ? h("button", { onclick: () => ((cursor = cursors.pop() || undefined), void draw()) }, "← Newer")
        : null,
      page.cursor !== undefined
        ? h(
            "button",
            {
              "data-testid": "next-page",
              onclick: () => {
                cursors.push(cursor ?? "");
                cursor = page.cursor;
                void draw();
              },
            },
            "Older →",
          )
        : null,
    );
  };
  const changed = () => {
    cursors = [];
    cursor = undefined;
    setRouteParams({
      app: app?.value,
      name: name.value,
      status: status.value,
      since: since.value,
      until: until.value,
    });
    void draw();
  };
  for (const input of [name, status, since, until, app]) input?.addEventListener("change", changed);
  fill(
    root,
    h("h1", null, "Workflows"),
    h(
      "div",
      { class: "filters" },
      app,
      name,
      status,
      h("label", null, "from ", since),
      h("label", null, "before ", until),
    ),
    list,
    pager,
  );
  await draw();
  context.refresh(draw, 2000);
};

async function workflowNames(): Promise<string[]> {
  const data = await api.get<{ apps: Array<{ functions: Array<{ trigger?: string }> }> }>("/functions");
  const names = data.apps.flatMap((app) =>
    app.functions.flatMap((fn) => (fn.trigger?.startsWith("workflow ") ? [fn.trigger.slice(9)] : [])),
  );
  return [...new Set(names)].sort();
}

export function appSelect(apps: string[], selected: string, any = true): HTMLSelectElement {
  const select = h(
    "select",
    { "data-testid": "filter-app" },
    any ? h("option", { value: "" }, "every app") : null,
    apps.map((entry) => h("option", { value: entry }, entry)),
  );
  select.value = selected || (any ? "" : (apps[0] ?? ""));
  return select;
}
