import type { Store } from "../store/types.js";
import type { WorkflowStatus } from "./types.js";

/** What a run waits for, as the console shows it: its timers and the signals it has not consumed. */
export interface RunPending {
  /** Durable timers: sleeps, signal timeouts and step retries, with when they fire (ms since the epoch). */
  timers: Array<{ seq: number; name: string; kind: "sleep" | "signal_timeout" | "step_retry"; at: number }>;
  /** Signals received and not consumed yet, oldest first. */
  signals: Array<{ id: string; name: string; payload: unknown; receivedAt: number }>;
  /** Signal names the run waits for now. */
  waitingForSignals: string[];
  /** When the run's next activation is due, if one is queued. */
  nextActivationAt: number | null;
}

/** Timers and unconsumed signals of one run, read from the store. */
export async function pendingOf(store: Store, runId: string): Promise<RunPending> {
  const steps = await store.read.all<{
    seq: number;
    name: string;
    kind: string;
    status: string;
    data: string | null;
  }>(
    "SELECT seq, name, kind, status, data FROM cairn_workflow_steps WHERE run_id = ? AND status IN ('waiting', 'retrying') ORDER BY seq",
    [runId],
  );
  const timers: RunPending["timers"] = [];
  const waitingForSignals: string[] = [];
  for (const step of steps) {
    const data = step.data === null ? {} : (JSON.parse(step.data) as Record<string, unknown>);
    if (step.kind === "sleep" && typeof data.wakeAt === "number")
      timers.push({ seq: Number(step.seq), name: step.name, kind: "sleep", at: data.wakeAt });
    else if (step.kind === "signal") {
      waitingForSignals.push(step.name);
      if (typeof data.deadline === "number")
        timers.push({ seq: Number(step.seq), name: step.name, kind: "signal_timeout", at: data.deadline });
    } else if (step.status === "retrying" && typeof data.retryAt === "number")
      timers.push({ seq: Number(step.seq), name: step.name, kind: "step_retry", at: data.retryAt });
  }
  const signals = await store.read.all<{ id: number; name: string; payload: string; received_at: number }>(
    "SELECT id, name, payload, received_at FROM cairn_workflow_signals WHERE run_id = ? AND consumed_seq IS NULL ORDER BY id LIMIT 100",
    [runId],
  );
  const next = await store.read.get<{ at: number | null }>(
    "SELECT MIN(available_at) AS at FROM cairn_messages WHERE topic = 'workflow' AND key = ?",
    [runId],
  );
  return {
    timers,
    signals: signals.map((signal) => ({
      id: String(signal.id),
      name: signal.name,
      payload: JSON.parse(signal.payload) as unknown,
      receivedAt: Number(signal.received_at),
    })),
    waitingForSignals,
    nextActivationAt: next?.at === null || next?.at === undefined ? null : Number(next.at),
  };
}

/** Runs per workflow name and status (for cairn_workflow_runs, read at scrape time). */
export async function runCounts(
  store: Store,
): Promise<Array<{ name: string; status: WorkflowStatus; count: number }>> {
  const rows = await store.read.all<{ name: string; status: WorkflowStatus; n: number }>(
    "SELECT name, status, COUNT(*) AS n FROM cairn_workflows GROUP BY name, status",
  );
  return rows.map((row) => ({ name: row.name, status: row.status, count: Number(row.n) }));
}
