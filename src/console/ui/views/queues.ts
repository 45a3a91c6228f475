import { api, describe, query } from "../api.js";
import { ago, fill, h, json, time } from "../dom.js";
import type { View } from "./view.js";

interface ConsumerStats {
  consumer: string;
  function: string | undefined;
  kind: string | undefined;
  ready: number;
  delayed: number;
  inflight: number;
  retrying: number;
  dead: number;
}

interface DeadLetter {
  id: string;
  consumer: string;
  topic: string;
  key: string | null;
  payload: unknown;
  createdAt: number;
  failedAt: number;
  attempts: number;
  lastError: string | null;
}

/** Depth, in-flight and retries per consumer, and the dead-letter queue with inspect and redrive. */
export const queuesView: View = async (root, context) => {
  const overview = h("div");
  const dead = h("div");
  let selected: { app: string; consumer: string } | undefined;
  let inspected: DeadLetter | undefined;

  const act = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
      context.notice(what);
      inspected = undefined;
      await draw();
    } catch (error) {
      context.notice(describe(error), "error");
    }
  };

  const draw = async () => {
    const { apps } = await api.get<{ apps: Array<{ app: string; consumers: ConsumerStats[] }> }>("/queues");
    fill(
      overview,
      h(
        "table",
        { class: "queues", "data-testid": "queues" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Consumer", "Function", "Kind", "Ready", "Delayed", "In flight", "Retrying", "Dead", ""].map(
              (label) => h("th", null, label),
            ),
          ),
        ),
        h(
          "tbody",
          null,
          apps.flatMap(({ app, consumers }) =>
            consumers.map((stats) =>
              h(
                "tr",
                {
                  "data-consumer": stats.consumer,
                  class: selected?.consumer === stats.consumer && selected.app === app ? "selected" : "",
                },
                h(
                  "td",
                  null,
                  h("code", null, apps.length > 1 ? `${app} / ${stats.consumer}` : stats.consumer),
                ),
                h("td", null, stats.function ?? "–"),
                h("td", null, h("span", { class: "kind" }, stats.kind ?? "–")),
                h("td", null, String(stats.ready)),
                h("td", null, String(stats.delayed)),
                h("td", null, String(stats.inflight)),
                h("td", null, String(stats.retrying)),
                h(
                  "td",
                  { class: stats.dead > 0 ? "errors" : "", "data-testid": "dead-count" },
                  String(stats.dead),
                ),
                h(
                  "td",
                  null,
                  h(
                    "button",
                    {
                      class: "link",
                      "data-testid": "show-dead",
                      onclick: () => {
                        selected = { app, consumer: stats.consumer };
                        inspected = undefined;
                        void draw();
                      },
                    },
                    "dead letters",
                  ),
                ),
              ),
            ),
          ),
        ),
      ),
    );
    if (selected === undefined) {
      fill(dead, h("p", { class: "muted" }, "Pick a consumer to see its dead letters."));
      return;
    }
    const { app, consumer } = selected;
    const page = await api.get<{ items: DeadLetter[]; next?: string }>(
      `/queues/dead${query({ app, consumer, limit: 100 })}`,
    );
    fill(
      dead,
      h(
        "div",
        { class: "toolbar" },
        h("h2", null, `Dead letters of ${consumer}`),
        page.items.length > 0
          ? h(
              "button",
              {
                "data-testid": "redrive-all",
                onclick: () =>
                  void act(`redrove the dead letters of ${consumer}`, () =>
                    api.post(`/queues/dead/redrive${query({ app, consumer })}`),
                  ),
              },
              "Redrive all",
            )
          : null,
      ),
      h(
        "table",
        { class: "dead", "data-testid": "dead-letters" },
        h(
          "thead",
          null,
          h(
            "tr",
            null,
            ["Id", "Topic / key", "Attempts", "Failed", "Last error", ""].map((label) =>
              h("th", null, label),
            ),
          ),
        ),
        h(
          "tbody",
          null,
          page.items.length === 0
            ? h("tr", null, h("td", { colspan: 6, class: "empty" }, "The dead-letter queue is empty."))
            : page.items.map((letter) =>
                h(
                  "tr",
                  { "data-dead": letter.id },
                  h("td", null, letter.id),
                  h(
                    "td",
                    null,
                    h("code", null, letter.key === null ? letter.topic : `${letter.topic} / ${letter.key}`),
                  ),
                  h("td", null, String(letter.attempts)),
                  h("td", { title: time(letter.failedAt) }, ago(letter.failedAt)),
                  h("td", { class: "errors" }, letter.lastError ?? "–"),
                  h(
                    "td",
                    { class: "actions" },
                    h(
                      "button",
                      {
                        class: "link",
                        "data-testid": "inspect",
                        onclick: () => ((inspected = letter), void draw()),
                      },
                      "inspect",
                    ),
                    h(
                      "button",
                      {
                        "data-testid": "redrive",
                        onclick: () =>
                          void act(`dead letter ${letter.id} sent back to ${consumer}`, () =>
                            api.post(`/queues/dead/${letter.id}/redrive${query({ app })}`),
                          ),
                      },
                      "redrive",
                    ),
                    h(
                      "button",
                      {
                        class: "danger",
                        onclick: () => {
                          if (confirm(`Drop dead letter ${letter.id} for good?`))
                            void act(`dead letter ${letter.id} dropped`, () =>
                              api.delete(`/queues/dead/${letter.id}${query({ app })}`),
                            );
                        },
                      },
                      "drop",
                    ),
                  ),
                ),
              ),
        ),
      ),
      inspected === undefined
        ? null
        : h(
            "div",
            { class: "inspect", "data-testid": "dead-letter" },
            h("h3", null, `Dead letter ${inspected.id}`),
            h(
              "p",
              null,
              `created ${time(inspected.createdAt)}, failed ${time(inspected.failedAt)} after ${inspected.attempts} attempt(s)`,
            ),
            h("p", { class: "errors" }, inspected.lastError ?? ""),
            json(inspected.payload),
          ),
    );
  };
  fill(
    root,
    h("h1", null, "Queues and events"),
    h(
      "p",
      { class: "lead" },
      "Every consumer: queue consumers, event subscribers, schedules and workflow activations.",
    ),
    overview,
    dead,
  );
  await draw();
  context.refresh(draw);
};
