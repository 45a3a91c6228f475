import type { EventsHost } from "../events/service.js";
import type { ServiceProvider } from "../host/services.js";
import { CairnError } from "../sdk/errors.js";
import { parseDuration } from "../shared/duration.js";
import type { JournalRecord } from "../shared/protocol.js";
import type { Store } from "../store/types.js";
import type { TablesHost } from "../tables/service.js";
import type { OutboxEvent, TransactionOp } from "../tables/types.js";
import "./migrations.js";
import { WorkflowEngine, type Outcome, type WorkflowDefinition } from "./runs.js";
import type { WorkflowStatus } from "./types.js";

/** Longest `ctx.workflows.result()` / `?wait=` waits for a run to end. */
export const maxResultWaitMs = 5 * 60_000;

export const workflowsProvider: ServiceProvider = {
  name: "workflows",
  open({ app, use, clock, telemetry }) {
    const store = use<Store>("store");
    const { tables, publisher } = use<TablesHost>("tables");
    const { dispatcher } = use<EventsHost>("queues");
    const definitions = new Map<string, WorkflowDefinition>();
    for (const spec of app.functions) {
      if (spec.trigger?.kind !== "workflow") continue;
      const other = definitions.get(spec.trigger.workflow);
      if (other !== undefined) {
        throw new CairnError(
          "load_failed",
          `${spec.site}: workflow "${spec.trigger.workflow}" is already declared by ${other.functionName}`,
        );
      }
      definitions.set(spec.trigger.workflow, {
        name: spec.trigger.workflow,
        functionName: spec.name,
        visibilityMs: spec.settings.timeoutMs + 10_000,
      });
    }
    const engine = new WorkflowEngine(
      store,
      clock,
      tables,
      publisher,
      dispatcher,
      definitions,
      dispatcher.owner,
    );
    const wait = (timeout: unknown) =>
      Math.min(
        maxResultWaitMs,
        timeout === undefined || timeout === null
          ? 30_000
          : parseDuration(timeout as string | number, "timeout"),
      );
    return Promise.resolve({
      spec: { names: engine.names() },
      api: engine,
      operations: {
        // The instance side of activations.
        activation: ([runId, messageId]) =>
          engine.activation(String(runId), typeof messageId === "string" ? messageId : undefined),
        journal: ([runId, token, records, state]) =>
          engine.journal(
            String(runId),
            Number(token),
            records as JournalRecord[],
            (state as string | null) ?? null,
          ),
        commitStep: ([runId, token, record, ops, events, state]) =>
          engine.commitStep(
            String(runId),
            Number(token),
            record as JournalRecord,
            ops as TransactionOp[],
            events as OutboxEvent[],
            (state as string | null) ?? null,
          ),
        startChild: ([runId, token, record, name, input, childId]) =>
          engine.startChild(
            String(runId),
            Number(token),
            record as JournalRecord,
            String(name),
            String(input),
            String(childId),
          ),
        finish: ([runId, token, messageId, outcome, state, records]) =>
          engine.finish(
            String(runId),
            Number(token),
            String(messageId),
            outcome as Outcome,
            (state as string | null) ?? null,
            (records as JournalRecord[] | undefined) ?? [],
          ),
        // ctx.workflows
        start: ([name, input, options]) => {
          // Called under the span of this service call when tracing: the run's activations join it.
          const trace = telemetry?.activeSpan.getStore()?.traceparent();
          const { id } = (options ?? {}) as { id?: string };
          return engine.start(String(name), input, {
            ...(id !== undefined && { id }),
            ...(trace && { trace }),
          });
        },
        get: ([id]) => engine.get(String(id)),
        list: ([filter]) =>
          engine.list(
            (filter ?? {}) as { name?: string; status?: WorkflowStatus; limit?: number; cursor?: string },
          ),
        signal: ([id, name, payload]) => engine.signal(String(id), String(name), payload),
        cancel: ([id]) => engine.cancel(String(id)),
        result: ([id, options]) =>
          engine.result(String(id), wait((options as { timeout?: unknown } | undefined)?.timeout)),
      },
    });
  },
};
