/**
 * The Cairn console: a single page over the platform API under /_cairn/. Routes live in the hash
 * (#/workflows/<id>), views poll what they show every couple of seconds while the tab is visible,
 * and the login turns the admin token into a session cookie. Nothing is loaded from anywhere else.
 */
import { api, describe, whenUnauthorized } from "./api.js";
import { fill, h } from "./dom.js";
import { loginView } from "./views/login.js";
import { functionsView, functionView } from "./views/functions.js";
import { invocationsView } from "./views/invocations.js";
import { workflowsView } from "./views/workflows.js";
import { runView } from "./views/run.js";
import { queuesView } from "./views/queues.js";
import { tablesView } from "./views/tables.js";
import { blobsView } from "./views/blobs.js";
import { cacheView } from "./views/cache.js";
import type { View, ViewContext } from "./views/view.js";

interface Session {
  authenticated: boolean;
  login: "token" | "open" | "disabled";
  dev: boolean;
}

const routes: Array<{ name: string; label: string; view: View; detail?: View }> = [
  { name: "functions", label: "Functions", view: functionsView, detail: functionView },
  { name: "invocations", label: "Invocations", view: invocationsView },
  { name: "workflows", label: "Workflows", view: workflowsView, detail: runView },
  { name: "queues", label: "Queues & events", view: queuesView },
  { name: "tables", label: "Tables", view: tablesView },
  { name: "blobs", label: "Blobs", view: blobsView },
  { name: "cache", label: "Cache", view: cacheView },
];

const root = document.getElementById("app")!;
let session: Session | undefined;
let apps: string[] = [];
let timers: number[] = [];
let generation = 0;

whenUnauthorized(() => void start());
window.addEventListener("hashchange", () => void route());

async function start(): Promise<void> {
  stopTimers();
  try {
    session = await api.get<Session>("/console/session");
  } catch (error) {
    fill(
      root,
      h("div", { class: "fatal" }, `The console could not reach this node: ${(error as Error).message}`),
    );
    return;
  }
  if (!session.authenticated) {
    fill(
      root,
      loginView(session.login, () => void start()),
    );
    return;
  }
  const node = await api.get<{
    node: { version: string; dev: boolean; tracing: boolean };
    apps: Array<{ name: string }>;
  }>("/functions");
  apps = node.apps.map((app) => app.name);
  shell(node.node);
  await route();
}

function shell(node: { version: string; dev: boolean; tracing: boolean }): void {
  const logout =
    session?.login === "token"
      ? h(
          "button",
          {
            class: "link",
            "data-testid": "logout",
            onclick: () => void api.post("/console/logout").then(() => start()),
          },
          "Log out",
        )
      : null;
  fill(
    root,
    h(
      "div",
      { class: "layout" },
      h(
        "nav",
        { class: "sidebar" },
        h("div", { class: "brand" }, h("img", { src: "/_cairn/console/favicon.svg", alt: "" }), "Cairn"),
        h(
          "ul",
          null,
          routes.map((entry) =>
            h("li", null, h("a", { href: `#/${entry.name}`, "data-nav": entry.name }, entry.label)),
          ),
        ),
        h(
          "div",
          { class: "node-info" },
          h("div", null, `v${node.version}${node.dev ? " · dev" : ""}`),
          h("div", null, node.tracing ? "traces: OTLP" : "traces: off"),
          h("a", { href: "/_cairn/metrics", target: "_blank" }, "metrics"),
          logout,
        ),
      ),
      h(
        "main",
        null,
        h(
          "div",
          { class: "status-bar" },
          h("span", { id: "live", class: "live" }, "live"),
          h("span", { id: "notice" }),
        ),
        h("div", { id: "view" }),
      ),
    ),
  );
}

async function route(): Promise<void> {
  if (session?.authenticated !== true) return;
  const view = document.getElementById("view");
  if (view === null) return;
  stopTimers();
  const current = ++generation;
  const hash = location.hash.slice(1) || "/functions";
  const [path = "", search = ""] = hash.split("?");
  const segments = path.split("/").filter(Boolean).map(decodeURIComponent);
  const entry = routes.find((candidate) => candidate.name === segments[0]) ?? routes[0]!;
  for (const anchor of document.querySelectorAll<HTMLAnchorElement>("[data-nav]")) {
    anchor.classList.toggle("active", anchor.dataset.nav === entry.name);
  }
  const detail = segments.length > 1 && entry.detail !== undefined;
  const context: ViewContext = {
    params: segments.slice(1),
    query: new URLSearchParams(search),
    apps,
    refresh: (work, intervalMs = 2000) => {
      if (current !== generation) return;
      let busy = false;
      const tick = async () => {
        if (busy || document.hidden || current !== generation) return;
        busy = true;
        try {
          await work();
          live(true);
        } catch (error) {
          live(false, error);
        } finally {
          busy = false;
        }
      };
      timers.push(window.setInterval(() => void tick(), intervalMs));
    },
    notice,
  };
  fill(view);
  document.title = `${entry.label} · Cairn`;
  try {
    await (detail ? entry.detail! : entry.view)(view, context);
    live(true);
  } catch (error) {
    if (current !== generation) return;
    fill(view, h("div", { class: "error-box" }, describe(error)));
  }
}

function stopTimers(): void {
  for (const timer of timers) window.clearInterval(timer);
  timers = [];
}

function live(ok: boolean, error?: unknown): void {
  const dot = document.getElementById("live");
  if (dot === null) return;
  dot.classList.toggle("stale", !ok);
  dot.textContent = ok ? `live · ${new Date().toLocaleTimeString()}` : `not updating: ${describe(error)}`;
}

function notice(message: string, kind: "ok" | "error" = "ok"): void {
  const element = document.getElementById("notice");
  if (element === null) return;
  element.className = `notice ${kind}`;
  element.textContent = message;
  window.setTimeout(() => {
    if (element.textContent === message) element.textContent = "";
  }, 6000);
}

void start();
