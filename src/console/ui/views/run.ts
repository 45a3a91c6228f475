import { api, describe } from "../api.js";
import { ago, badge, fill, h, json, link, ms, time } from "../dom.js";
import type { View } from "./view.js";

interface Step {
  seq: number;
  name: string;
  kind: string;
  status: string;
  attempts: number;
  startedAt: number;
  endedAt: number | null;
  result?: unknown;
  error?: { code: string; message: string } | null;
}

interface Run {
  id: string;
  name: string;
  status: string;
  input: unknown;
  output: unknown;
  error: { code: string; message: string } | null;
  state: unknown;
  steps: Step[];
  waitingFor: string | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  parentId: string | null;
}

interface Pending {
  timers: Array<{ seq: number; name: string; kind: string; at: number }>;
  signals: Array<{ id: string; name: string; payload: unknown; receivedAt: number }>;
  waitingForSignals: string[];
  nextActivationAt: number | null;
}

/** One run: its status and controls, the step timeline, its state, and what it waits for. */
export const runView: View = async (root, context) => {
  const id = context.params[0] ?? "";
  const path = `/workflows/${encodeURIComponent(id)}`;
  const header = h("div");
  const timeline = h("div");
  const steps = h("div");
  const pending = h("div");
  const data = h("div", { class: "columns" });
  const signalName = h("input", { placeholder: "signal name", "data-testid": "signal-name" });
  const signalPayload = h("textarea", {
    placeholder: '{"payload": "JSON"}',
    rows: 2,
    "data-testid": "signal-payload",
  });
  const openResults = new Set<number>();
  let run: Run | undefined;

  const act = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
      context.notice(what);
      await draw();
    } catch (error) {
      context.notice(describe(error), "error");
    }
  };
  const controls = h(
    "div",
    { class: "controls" },
    h(
      "form",
      {
        class: "signal",
        onsubmit: (event: Event) => {
          event.preventDefault();
          let payload: unknown = null;
          try {
            payload = signalPayload.value.trim() === "" ? null : JSON.parse(signalPayload.value);
          } catch {
            context.notice("the payload is not valid JSON", "error");
            return;
          }
          void act(`signal ${signalName.value} sent`, () =>
            api.post(`${path}/signals/${encodeURIComponent(signalName.value)}`, payload),
          );
        },
      },
      signalName,
      signalPayload,
      h("button", { type: "submit", "data-testid": "signal" }, "Signal"),
    ),
    h(
      "button",
      {
        class: "danger",
        "data-testid": "cancel",
        onclick: () => {
          if (confirm(`Cancel run ${id}? Its compensations run first.`))
            void act("cancel requested", () => api.post(`${path}/cancel`));
        },
      },
      "Cancel run",
    ),
    h(
      "button",
      { "data-testid": "retry", onclick: () => void act("retry started", () => api.post(`${path}/retry`)) },
      "Retry from the failed step",
    ),
  );

  const draw = async () => {
    run = await api.get<Run>(path);
    const waits = run.status === "running" ? await api.get<Pending>(`${path}/pending`) : undefined;
    const current = run;
    fill(
      header,
      h("p", { class: "crumbs" }, link("#/workflows", "Workflows"), " / ", current.name),
      h(
        "h1",
        null,
        h("code", null, current.id),
        " ",
        h("span", { "data-testid": "run-status" }, badge(current.status)),
      ),
      h(
        "p",
        { class: "muted" },
        `${current.name} · started ${time(current.createdAt)} (${ago(current.createdAt)})`,
        current.completedAt !== null ? ` · ended after ${ms(current.completedAt - current.createdAt)}` : "",
        current.waitingFor !== null ? ` · waiting for ${current.waitingFor}` : "",
        current.parentId !== null ? " · child of " : "",
        current.parentId !== null
          ? link(`#/workflows/${encodeURIComponent(current.parentId)}`, current.parentId)
          : null,
      ),
      current.error !== null
        ? h(
            "div",
            { class: "error-box", "data-testid": "run-error" },
            `${current.error.code}: ${current.error.message}`,
          )
        : null,
    );
    for (const button of controls.querySelectorAll<HTMLButtonElement>("button")) {
      const action = button.dataset.testid;
      button.disabled =
        action === "retry"
          ? !(current.status === "failed" || current.status === "cancelled")
          : current.status !== "running";
    }
    fill(timeline, timelineChart(current));
    fill(
      steps,
      stepTable(current, openResults, () => void draw()),
    );
    fill(
      pending,
      waits === undefined ? h("p", { class: "muted" }, "Nothing: the run has ended.") : pendingView(waits),
    );
    fill(
      data,
      h("section", null, h("h3", null, "State"), json(current.state, { "data-testid": "run-state" })),
      h("section", null, h("h3", null, "Input"), json(current.input)),
      h("section", null, h("h3", null, "Output"), json(current.output)),
    );
  };
  fill(
    root,
    header,
    controls,
    h("h2", null, "Timeline"),
    timeline,
    h("h2", null, "Steps"),
    steps,
    h("h2", null, "Pending timers and signals"),
    pending,
    data,
  );
  await draw();
  context.refresh(() => (run?.status === "running" ? draw() : Promise.resolve()), 1000);
  context.refresh(() => (run?.status !== "running" ? draw() : Promise.resolve()), 5000);
};

/** Each journaled operation as a bar on the run's time axis. */
function timelineChart(run: Run): HTMLElement {
  const start = run.createdAt;
  const end = Math.max(
    run.completedAt ?? Date.now(),
    ...run.steps.map((step) => step.endedAt ?? step.startedAt),
    start + 1,
  );
  const span = end - start;
  const rows = run.steps.map((step) => {
    const left = ((step.startedAt - start) / span) * 100;
    const stepEnd = step.endedAt ?? (run.status === "running" ? Date.now() : end);
    const width = Math.max(0.5, ((stepEnd - step.startedAt) / span) * 100);
    // Set through the CSSOM: the page's CSP refuses inline style attributes.
    const bar = h("div", {
      class: `tl-bar ${step.status} ${step.kind}`,
      title: `${step.kind} ${step.name}: ${step.status}, ${step.attempts} attempt(s), ${ms(stepEnd - step.startedAt)}`,
    });
    bar.style.left = `${left.toFixed(2)}%`;
    bar.style.width = `${Math.min(width, 100 - left).toFixed(2)}%`;
    return h(
      "div",
      { class: "tl-row", "data-step": step.name, "data-status": step.status },
      h("div", { class: "tl-label", title: step.name }, `${step.seq}. ${step.name}`),
      h("div", { class: "tl-track" }, bar),
      h("div", { class: "tl-time" }, ms(stepEnd - step.startedAt)),
    );
  });
  return h(
    "div",
    { class: "timeline", "data-testid": "timeline" },
    rows.length === 0 ? h("p", { class: "muted" }, "No steps journaled yet.") : rows,
    h(
      "div",
      { class: "tl-axis" },
      h("span", null, time(start)),
      h("span", null, ms(span)),
      h("span", null, time(end)),
    ),
  );
}

function stepTable(run: Run, open: Set<number>, redraw: () => void): HTMLElement {
  return h(
    "table",
    { class: "steps", "data-testid": "steps" },
    h(
      "thead",
      null,
      h(
        "tr",
        null,
        ["#", "Operation", "Kind", "Status", "Attempts", "Started", "Ended", "Took", "Result / error"].map(
          (label) => h("th", null, label),
        ),
      ),
    ),
    h(
      "tbody",
      null,
      run.steps.length === 0
        ? h("tr", null, h("td", { colspan: 9, class: "empty" }, "No steps journaled yet."))
        : run.steps.map((step) => {
            const hasResult = step.result !== undefined;
            const shown = open.has(step.seq);
            return h(
              "tr",
              { "data-step": step.name, "data-status": step.status },
              h("td", null, String(step.seq)),
              h("td", null, step.name),
              h("td", null, h("span", { class: "kind" }, step.kind)),
              h("td", null, badge(step.status)),
              h("td", null, String(step.attempts)),
              h("td", null, time(step.startedAt)),
              h("td", null, time(step.endedAt)),
              h("td", null, step.endedAt === null ? "–" : ms(step.endedAt - step.startedAt)),
              h(
                "td",
                { class: "result" },
                step.error
                  ? h("span", { class: "errors" }, `${step.error.code}: ${step.error.message}`)
                  : null,
                hasResult
                  ? shown
                    ? h(
                        "div",
                        null,
                        json(step.result),
                        h(
                          "button",
                          { class: "link", onclick: () => (open.delete(step.seq), redraw()) },
                          "hide",
                        ),
                      )
                    : h(
                        "button",
                        { class: "link", onclick: () => (open.add(step.seq), redraw()) },
                        preview(step.result),
                      )
                  : null,
              ),
            );
          }),
    ),
  );
}

function pendingView(waits: Pending): HTMLElement {
  return h(
    "div",
    { class: "pending", "data-testid": "pending" },
    h(
      "p",
      null,
      waits.nextActivationAt === null
        ? "No activation queued: the run waits for a signal or a child."
        : `Next activation ${ago(waits.nextActivationAt)} (${time(waits.nextActivationAt)}).`,
    ),
    waits.waitingForSignals.length > 0
      ? h("p", null, `Waiting for signal: ${waits.waitingForSignals.join(", ")}`)
      : null,
    waits.timers.length === 0
      ? h("p", { class: "muted" }, "No timers.")
      : h(
          "ul",
          null,
          waits.timers.map((timer) =>
            h(
              "li",
              null,
              `${timer.kind.replace("_", " ")} "${timer.name}" fires ${ago(timer.at)} (${time(timer.at)})`,
            ),
          ),
        ),
    waits.signals.length === 0
      ? h("p", { class: "muted" }, "No signals received and not consumed.")
      : h(
          "ul",
          null,
          waits.signals.map((signal) =>
            h(
              "li",
              null,
              `signal "${signal.name}" received ${ago(signal.receivedAt)}: `,
              h("code", null, JSON.stringify(signal.payload)),
            ),
          ),
        ),
  );
}

function preview(value: unknown): string {
  const text = JSON.stringify(value) ?? "";
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}
