import { api } from "../api.js";
import { badge, fill, h, link, ms, rate, sparkline, table } from "../dom.js";
import { invocationPanel } from "./invocations.js";
import type { View } from "./view.js";

export interface FunctionInfo {
  name: string;
  kind: string;
  route?: string;
  trigger?: string;
  site: string;
  settings: {
    timeoutMs: number;
    memoryMb: number;
    concurrency: number;
    minInstances: number;
    maxInstances: number;
  };
  instances: {
    warm: number;
    busy: number;
    inFlight: number;
    list: Array<{
      id: number;
      ready: boolean;
      retiring: boolean;
      busy: number;
      served: number;
      idleMs: number;
    }>;
  };
  stats: {
    total: number;
    errors: number;
    rate: number;
    errorRate: number;
    p50: number | null;
    p99: number | null;
    perSecond: number[];
    errorsPerSecond: number[];
  };
}

interface FunctionsResponse {
  apps: Array<{ name: string; functions: FunctionInfo[] }>;
}

const fnLink = (app: string, fn: string) =>
  `#/functions/${encodeURIComponent(app)}/${encodeURIComponent(fn)}`;

/** Every function of every app: how it is reached, its instances, and its last minute. */
export const functionsView: View = async (root, context) => {
  const body = h("div");
  fill(
    root,
    h("h1", null, "Functions"),
    h(
      "p",
      { class: "lead" },
      "Rates and errors over the last 10 s; p50/p99 over each function's last 1,024 invocations on this node.",
    ),
    body,
  );
  const draw = async () => {
    const data = await api.get<FunctionsResponse>("/functions");
    const rows = data.apps.flatMap((app) =>
      app.functions.map((fn) => ({
        attrs: { "data-function": `${app.name}/${fn.name}` },
        cells: [
          link(fnLink(app.name, fn.name), context.apps.length > 1 ? `${app.name} / ${fn.name}` : fn.name),
          h("span", { class: "kind" }, fn.kind),
          h("code", null, fn.route ?? fn.trigger ?? ""),
          h("span", { "data-testid": "instances" }, `${fn.instances.warm} warm · ${fn.instances.busy} busy`),
          rate(fn.stats.rate),
          h("span", { class: fn.stats.errors > 0 ? "errors" : "" }, `${fn.stats.errors}`),
          ms(fn.stats.p50),
          ms(fn.stats.p99),
          sparkline(fn.stats.perSecond, fn.stats.errorsPerSecond),
        ],
      })),
    );
    fill(
      body,
      table(
        ["Function", "Kind", "Route / trigger", "Instances", "Inv/s", "Errors", "p50", "p99", "Last 60 s"],
        rows,
        { class: "functions", "data-testid": "functions" },
      ),
    );
  };
  await draw();
  context.refresh(draw);
};

/** One function: its numbers, its instances, and its recent invocations with their logs. */
export const functionView: View = async (root, context) => {
  const [app = "", name = ""] = context.params;
  const header = h("div");
  const instances = h("div");
  const invocations = h("div");
  fill(
    root,
    h("p", { class: "crumbs" }, link("#/functions", "Functions"), " / ", `${app} / ${name}`),
    header,
    h("h2", null, "Instances"),
    instances,
    h("h2", null, "Recent invocations"),
    invocations,
  );
  const draw = async () => {
    const data = await api.get<FunctionsResponse>("/functions");
    const fn = data.apps.find((candidate) => candidate.name === app)?.functions.find((f) => f.name === name);
    if (fn === undefined) {
      fill(
        header,
        h(
          "div",
          { class: "error-box" },
          `No function ${name} in ${app} (it may have been removed by a reload).`,
        ),
      );
      return;
    }
    fill(
      header,
      h("h1", null, name, " ", h("span", { class: "kind" }, fn.kind)),
      h(
        "p",
        null,
        h("code", null, fn.route ?? fn.trigger ?? ""),
        " · ",
        h("span", { class: "muted" }, fn.site),
      ),
      h(
        "div",
        { class: "cards" },
        card("Invocations", String(fn.stats.total)),
        card("Per second", rate(fn.stats.rate)),
        card("Errors", String(fn.stats.errors), fn.stats.errors > 0 ? "bad" : ""),
        card("p50", ms(fn.stats.p50)),
        card("p99", ms(fn.stats.p99)),
        card("In flight", String(fn.instances.inFlight)),
        h(
          "div",
          { class: "card wide" },
          h("div", { class: "label" }, "Last 60 s"),
          sparkline(fn.stats.perSecond, fn.stats.errorsPerSecond),
        ),
      ),
      h(
        "p",
        { class: "muted" },
        `timeout ${ms(fn.settings.timeoutMs)} · memory ${fn.settings.memoryMb} MB · concurrency ${fn.settings.concurrency} · instances ${fn.settings.minInstances}–${fn.settings.maxInstances}`,
      ),
    );
    fill(
      instances,
      table(
        ["Instance", "State", "Running", "Served", "Idle for"],
        fn.instances.list.map((instance) => [
          `#${instance.id}`,
          badge(
            instance.retiring
              ? "retiring"
              : instance.ready
                ? instance.busy > 0
                  ? "busy"
                  : "warm"
                : "starting",
          ),
          String(instance.busy),
          String(instance.served),
          instance.busy > 0 ? "–" : ms(instance.idleMs),
        ]),
      ),
    );
  };
  await draw();
  context.refresh(draw);
  await invocationPanel(invocations, context, { app, function: name });
};

function card(label: string, value: string, kind = ""): HTMLElement {
  return h(
    "div",
    { class: `card ${kind}` },
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, value),
  );
}
