import type { Context } from "../sdk/context.js";
import type { TriggerDeclaration } from "../sdk/triggers.js";
import type { WorkflowDeclaration } from "../sdk/workflow.js";
import { parseDuration } from "../shared/duration.js";
import type { Activation, DiscoveredTrigger, TriggerInput, TriggerResult } from "../shared/protocol.js";
import { callHost } from "./services.js";
import { Replay, type WorkflowHost } from "./workflow/replay.js";
import type { QueueMessage } from "../events/types.js";

/** What discovery reports of a trigger declaration (the host builds subscriptions from it). */
export function describeTrigger(declaration: TriggerDeclaration | WorkflowDeclaration): DiscoveredTrigger {
  switch (declaration.kind) {
    case "workflow":
      return { kind: "workflow", workflow: declaration.workflow };
    case "event":
      return {
        kind: "event",
        topic: declaration.topic,
        filter: { ...declaration.filter },
        retry: { ...declaration.retry },
      };
    case "queue":
      return { kind: "queue", queue: declaration.queue };
    case "schedule":
      return {
        kind: "schedule",
        cron: declaration.cron,
        timezone: declaration.timezone,
        catchUp: declaration.catchUp,
        retry: { ...declaration.retry },
      };
  }
}

/**
 * Run a trigger's handler for one delivery. Queue batches record each message's ack or retry;
 * when the handler throws, the outcome still carries the messages it acknowledged before.
 */
export function runTrigger(
  declaration: TriggerDeclaration | WorkflowDeclaration,
  input: TriggerInput,
  ctx: Context,
): { result: unknown; outcome: () => TriggerResult } {
  if (input.kind === "queue" && declaration.kind === "queue") {
    const acked = new Set<string>();
    const retried = new Map<string, number>();
    const messages: QueueMessage[] = input.messages.map((message) => ({
      id: message.id,
      body: JSON.parse(message.body) as unknown,
      attempt: message.attempt,
      sentAt: message.sentAt,
      ack() {
        retried.delete(message.id);
        acked.add(message.id);
      },
      retry(options = {}) {
        acked.delete(message.id);
        retried.set(
          message.id,
          options.delay === undefined ? -1 : parseDuration(options.delay, "retry delay"),
        );
      },
    }));
    const batch = {
      queue: input.queue,
      messages,
      ackAll() {
        for (const message of messages) if (!retried.has(message.id)) message.ack();
      },
      retryAll(options?: { delay?: number | string }) {
        for (const message of messages)
          if (!acked.has(message.id)) message.retry(options as { delay?: number });
      },
    };
    return {
      result: declaration.handler(batch, ctx),
      outcome: () => ({ acked: [...acked], retried: [...retried].map(([id, delayMs]) => ({ id, delayMs })) }),
    };
  }
  if (input.kind === "event" && declaration.kind === "event") {
    const event = { ...input.event, payload: JSON.parse(input.event.payload) as unknown };
    if (event.key === undefined) delete event.key;
    return { result: declaration.handler(event, ctx), outcome: () => ({}) };
  }
  if (input.kind === "workflow" && declaration.kind === "workflow") {
    return { result: activate(declaration, input, ctx), outcome: () => ({}) };
  }
  if (input.kind === "schedule" && declaration.kind === "schedule") {
    return { result: declaration.handler(input.tick, ctx), outcome: () => ({}) };
  }
  throw new Error(`a ${input.kind} delivery reached a ${declaration.kind} function`);
}

/**
 * One activation of a workflow run: load its journal (unless the host sent it along), replay the
 * code, and report how it ended. Journal records travel to the host as the code produces them.
 */
async function activate(
  declaration: WorkflowDeclaration,
  input: Extract<TriggerInput, { kind: "workflow" }>,
  ctx: Context,
): Promise<void> {
  const activation =
    input.activation ??
    ((await callHost("workflows.activation", [input.runId, input.messageId])) as Activation | null);
  if (activation === null) return; // the run ended or is gone: nothing to do
  const { runId, token } = activation;
  const host: WorkflowHost = {
    journal: (records, state) => {
      callHost("workflows.journal", [runId, token, records, state]).catch(() => {
        // a stale activation's records are refused; its finish is refused too
      });
    },
    commitStep: async (record, ops, events, state) => {
      await callHost("workflows.commitStep", [runId, token, record, ops, events, state]);
    },
    startChild: async (record, name, childInput, childId) => {
      await callHost("workflows.startChild", [runId, token, record, name, childInput, childId]);
    },
  };
  const replay = new Replay(activation, host);
  const outcome = await replay.run(declaration.handler, ctx);
  await callHost("workflows.finish", [
    runId,
    token,
    input.messageId,
    outcome,
    replay.stateJson(),
    replay.takePending(),
  ]);
}
