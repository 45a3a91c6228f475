import { randomBytes } from "node:crypto";
import type { Dispatcher } from "../events/dispatcher.js";
import type { Publisher } from "../events/publisher.js";
import { insertMessage } from "../events/publisher.js";
import { functionConsumer } from "../events/subscriptions.js";
import { CairnError, type SerializedError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import { KeyMap } from "../shared/key-map.js";
import type { Activation, JournalRecord } from "../shared/protocol.js";
import type { SqlExecutor, SqlValue, Store } from "../store/types.js";
import type { Tables } from "../tables/tables.js";
import type { OutboxEvent, TransactionOp } from "../tables/types.js";
import {
  workflowLimits,
  type StepRecord,
  type WorkflowRun,
  type WorkflowStatus,
  type WorkflowSummary,
} from "./types.js";

/** How an activation ended, as the instance reports it. */
export type Outcome =
  | { kind: "completed"; output: string }
  | { kind: "failed"; error: SerializedError }
  | { kind: "cancelled"; error: SerializedError }
  | { kind: "suspended"; wakeAt: number | null; signals: string[]; children: string[] };

interface RunRow {
  id: string;
  name: string;
  status: WorkflowStatus;
  input: string;
  output: string | null;
  error: string | null;
  state: string | null;
  waiting_for: string | null;
  parent_id: string | null;
  cancel_requested: number;
  token: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
}

interface StepRow {
  seq: number;
  name: string;
  kind: JournalRecord["kind"];
  status: JournalRecord["status"];
  attempts: number;
  result: string | null;
  error: string | null;
  started_at: number;
  ended_at: number | null;
  data: string | null;
}

const idPattern = /^[A-Za-z0-9_.:@-]+$/;

function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value ?? null);
  if (text === undefined) throw new CairnError("invalid_argument", `${what} must be JSON-serializable`);
  if (text.length > workflowLimits.payloadBytes) {
    throw new CairnError("payload_too_large", `${what} exceeds ${workflowLimits.payloadBytes} bytes as JSON`);
  }
  return text;
}

const parse = (text: string | null): unknown => (text === null ? null : JSON.parse(text));

/** Random bytes drawn in bulk: one system call per 512 run ids instead of one per id. */
let entropy = Buffer.alloc(0);
let entropyAt = 0;

/**
 * A new run id: the start time (fixed-width base 36, so ids sort by it) and 72 random bits. Runs
 * started close together get neighbouring keys, so each commit's new rows (the run, its steps,
 * both keyed by run id) land in the same few B-tree pages instead of one random page each: a
 * fraction of the pages written per commit, on SQLite and PostgreSQL alike.
 */
function newRunId(now: number): string {
  if (entropyAt + 9 > entropy.length) {
    entropy = randomBytes(9 * 512);
    entropyAt = 0;
  }
  const random = entropy.toString("base64url", entropyAt, entropyAt + 9);
  entropyAt += 9;
  return `wf_${Math.max(0, Math.floor(now)).toString(36).padStart(9, "0")}${random}`;
}

export interface WorkflowDefinition {
  /** The workflow's name, as declared. */
  name: string;
  /** The export that runs it: its activations are deliveries to consumer f:<functionName>. */
  functionName: string;
  visibilityMs: number;
}

/**
 * The host side of durable workflows: runs, journals, signals, timers and children in the store,
 * activations delivered through the dispatcher (a run's activations share an ordering key, so
 * they never overlap). A step's table writes commit with its journal record.
 */
export class WorkflowEngine {
  private readonly chains = new KeyMap<Promise<unknown>>();
  private readonly waiters = new KeyMap<Set<(ended?: boolean) => void>>();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly tables: Tables,
    private readonly publisher: Publisher,
    private readonly dispatcher: Dispatcher,
    private readonly definitions: Map<string, WorkflowDefinition>,
    private readonly owner: string,
  ) {}

  names(): string[] {
    return [...this.definitions.keys()];
  }

  has(name: string): boolean {
    return this.definitions.has(name);
  }

  /** Start a run; the id is the idempotency key (an existing id returns that run, unstarted). */
  async start(
    name: string,
    input: unknown,
    options: { id?: string; parentId?: string; trace?: string } = {},
  ): Promise<{ id: string; started: boolean }> {
    const definition = this.definition(name);
    const id = options.id ?? newRunId(this.clock.now());
    if (
      typeof id !== "string" ||
      id.length === 0 ||
      id.length > workflowLimits.idLength ||
      !idPattern.test(id)
    ) {
      throw new CairnError(
        "invalid_argument",
        `a workflow id is 1 to ${workflowLimits.idLength} of A-Z a-z 0-9 _ . : @ -`,
      );
    }
    const inputJson = toJson(input, "the workflow's input");
    const trace = options.trace ?? null;
    const payload = activationPayload(id, trace);
    const now = this.clock.now();
    const leaseUntil = now + definition.visibilityMs;
    // The first activation needs no journal: it runs here at once, without a claim, as soon as the
    // start has committed (on SQLite while the commit's fsync is still under way: whatever the
    // activation commits comes later in the same log, so it cannot be durable before the start).
    // The start is acknowledged only once it is durable.
    let delivered = false;
    const deliver = (messageId: number | undefined): void => {
      if (messageId === undefined || delivered) return;
      this.deliverFirst(definition, id, name, inputJson, now, payload, trace, messageId);
      delivered = true;
    };
    const alone = this.store.autocommit;
    if (alone !== undefined) {
      // PostgreSQL: the run and its first message in one statement that commits on its own, one
      // round trip instead of four (begin, two inserts, commit).
      const message = await alone.get<{ id: number }>(startAloneSql, [
        id,
        definition.name,
        inputJson,
        options.parentId ?? null,
        now,
        now,
        trace,
        functionConsumer(definition.functionName),
        payload,
        now,
        leaseUntil,
        leaseUntil,
        this.owner,
      ]);
      if (message === undefined) return { id, started: false };
      deliver(Number(message.id));
      return { id, started: true };
    }
    const messageId = await this.store.transaction(
      async (tx) => {
        const created = await this.insertRun(
          tx,
          definition,
          id,
          inputJson,
          now,
          options.parentId ?? null,
          trace,
        );
        if (!created) return undefined;
        // The first activation's message, leased to this node already (its first attempt).
        const message = await tx.get<{ id: number }>(
          `INSERT INTO cairn_messages (consumer, topic, key, payload, created_at, available_at, lease_until, lease_owner, attempts)
           VALUES (?, 'workflow', ?, ?, ?, ?, ?, ?, 1) RETURNING id`,
          [functionConsumer(definition.functionName), id, payload, now, leaseUntil, leaseUntil, this.owner],
        );
        return Number(message!.id);
      },
      { committed: deliver },
    );
    if (messageId === undefined) return { id, started: false };
    deliver(messageId);
    return { id, started: true };
  }

  private deliverFirst(
    definition: WorkflowDefinition,
    id: string,
    name: string,
    inputJson: string,
    now: number,
    payload: string,
    trace: string | null,
    messageId: number,
  ): void {
    const activation: Activation = {
      runId: id,
      name,
      token: 1,
      input: inputJson,
      state: null,
      now,
      cancelRequested: false,
      journal: [],
      signals: [],
      children: {},
    };
    this.dispatcher.deliverClaimed(
      functionConsumer(definition.functionName),
      [{ id: messageId, topic: "workflow", key: id, payload, attempts: 1, created_at: now }],
      {
        kind: "workflow",
        runId: id,
        messageId: String(messageId),
        activation,
        ...(trace !== null && { trace }),
      },
    );
  }

  /**
   * Load a run for an activation and take its token; null when the run has ended, and then the
   * activation's message (one queued while the run was still going) is removed with nothing to do.
   */
  async activation(runId: string, messageId?: string): Promise<Activation | null> {
    const now = this.clock.now();
    return this.store.transaction(async (tx) => {
      const run = await tx.get<RunRow>(`SELECT * FROM cairn_workflows WHERE id = ?${forUpdate(tx)}`, [runId]);
      if (run === undefined || run.status !== "running") {
        if (messageId !== undefined)
          await tx.run("DELETE FROM cairn_messages WHERE id = ?", [Number(messageId)]);
        return null;
      }
      const token = Number(run.token) + 1;
      await tx.run("UPDATE cairn_workflows SET token = ? WHERE id = ?", [token, runId]);
      const steps = await tx.all<StepRow>(
        "SELECT * FROM cairn_workflow_steps WHERE run_id = ? ORDER BY seq",
        [runId],
      );
      const signals = await tx.all<{ id: number; name: string; payload: string }>(
        "SELECT id, name, payload FROM cairn_workflow_signals WHERE run_id = ? AND consumed_seq IS NULL ORDER BY id",
        [runId],
      );
      const children = await tx.all<{
        id: string;
        status: string;
        output: string | null;
        error: string | null;
      }>("SELECT id, status, output, error FROM cairn_workflows WHERE parent_id = ?", [runId]);
      return {
        runId,
        name: run.name,
        token,
        input: run.input,
        state: run.state,
        now,
        cancelRequested: Number(run.cancel_requested) === 1,
        journal: steps.map(toRecord),
        signals: signals.map((signal) => ({
          id: String(signal.id),
          name: signal.name,
          payload: signal.payload,
        })),
        children: Object.fromEntries(
          children.map((child) => [
            child.id,
            { status: child.status, output: child.output, error: child.error },
          ]),
        ),
      };
    });
  }

  /** Journal records of a step without table writes (sent as they happen, committed in groups). */
  journal(runId: string, token: number, records: JournalRecord[], state: string | null): Promise<void> {
    return this.chain(runId, () =>
      this.store.transaction(async (tx) => {
        if (!(await this.current(tx, runId, token))) return;
        await this.writeRecords(tx, runId, records);
        if (state !== null)
          await tx.run("UPDATE cairn_workflows SET state = ?, updated_at = ? WHERE id = ?", [
            state,
            this.clock.now(),
            runId,
          ]);
      }),
    );
  }

  /** A step's result with its table writes and events: exactly once, in one transaction. */
  commitStep(
    runId: string,
    token: number,
    record: JournalRecord,
    ops: TransactionOp[],
    events: OutboxEvent[],
    state: string | null,
  ): Promise<void> {
    return this.chain(runId, async () => {
      await this.store.transaction(async (tx) => {
        if (!(await this.current(tx, runId, token))) {
          throw new CairnError(
            "workflow_stale",
            "this activation was superseded; its writes were not applied",
            { retryable: true },
          );
        }
        for (const op of ops) await applyOp(this.tables, tx, op);
        if (events.length > 0) await this.publisher.append(tx, events);
        await this.writeRecords(tx, runId, [record]);
        if (state !== null)
          await tx.run("UPDATE cairn_workflows SET state = ?, updated_at = ? WHERE id = ?", [
            state,
            this.clock.now(),
            runId,
          ]);
      });
      if (events.length > 0 || ops.length > 0) this.publisher.published();
    });
  }

  /** Start a child run durably, with the parent's journal record that names it. */
  startChild(
    runId: string,
    token: number,
    record: JournalRecord,
    name: string,
    input: string,
    childId: string,
  ): Promise<void> {
    const definition = this.definition(name);
    if (input.length > workflowLimits.payloadBytes)
      throw new CairnError("payload_too_large", "the child's input is too large");
    return this.chain(runId, async () => {
      const now = this.clock.now();
      await this.store.transaction(async (tx) => {
        if (!(await this.current(tx, runId, token))) {
          throw new CairnError("workflow_stale", "this activation was superseded", { retryable: true });
        }
        await this.writeRecords(tx, runId, [record]);
        // A child joins its parent's trace.
        const parent = await tx.get<{ trace: string | null }>(
          "SELECT trace FROM cairn_workflows WHERE id = ?",
          [runId],
        );
        const trace = parent?.trace ?? null;
        if (await this.insertRun(tx, definition, childId, input, now, runId, trace)) {
          await insertMessage(
            tx,
            functionConsumer(definition.functionName),
            "workflow",
            childId,
            activationPayload(childId, trace),
            now,
            now,
          );
        }
      });
      this.dispatcher.kick();
    });
  }

  /**
   * Record how an activation ended, with the journal records it had not sent yet, and arrange the
   * next one (a timer, or nothing until an event).
   */
  async finish(
    runId: string,
    token: number,
    messageId: string,
    outcome: Outcome,
    state: string | null,
    records: JournalRecord[] = [],
  ): Promise<void> {
    const message = Number(messageId);
    if (
      outcome.kind !== "suspended" &&
      (await this.finishAlone(runId, token, message, outcome, state, records))
    )
      return;
    // Waiters for the result wake at the commit, so that they read the run while its log is
    // flushed; they report it only once it is durable (see `result`).
    const committed = (ended: { ended: boolean }) => {
      if (ended.ended) this.notify(runId);
    };
    const ended = await this.chain(runId, () =>
      this.store.transaction(
        async (tx) => {
          if (outcome.kind === "suspended")
            return this.suspend(tx, runId, token, message, outcome, state, records);
          const now = this.clock.now();
          // Ends the run only while this activation holds it; the row stays locked until the commit.
          const run = await tx.get<{ parent_id: string | null }>(
            `UPDATE cairn_workflows SET ${endColumns} WHERE id = ? AND token = ? AND status = 'running' RETURNING parent_id`,
            [...endParams(outcome, state, now), runId, token],
          );
          if (run === undefined) return { ended: false, wake: false };
          await this.writeRecords(tx, runId, records);
          await tx.run("DELETE FROM cairn_messages WHERE id = ?", [message]);
          if (run.parent_id !== null) await this.wake(tx, run.parent_id, now);
          return { ended: true, wake: run.parent_id !== null };
        },
        { committed },
      ),
    );
    if (ended.wake) this.dispatcher.kick();
  }

  /**
   * PostgreSQL: end a top-level run in one statement that commits on its own (one round trip
   * instead of five). False when that does not apply, and then nothing was written: a child run
   * (its parent wakes in the same transaction), a stale activation, records that consume a signal
   * or too many records for one statement; the transaction in `finish` handles those.
   */
  private async finishAlone(
    runId: string,
    token: number,
    message: number,
    outcome: Exclude<Outcome, { kind: "suspended" }>,
    state: string | null,
    records: JournalRecord[],
  ): Promise<boolean> {
    const alone = this.store.autocommit;
    if (alone === undefined) return false;
    const unique = latestRecords(records);
    if (unique.length > recordsPerStatement || unique.some(consumesSignal)) return false;
    const params: SqlValue[] = [
      ...endParams(outcome, state, this.clock.now()),
      runId,
      token,
      message,
      ...unique.flatMap((record) => recordParams(runId, record)),
    ];
    const ended = await this.chain(runId, () =>
      alone.get<{ id: string }>(finishAloneSql(unique.length), params),
    );
    if (ended === undefined) return false;
    this.notify(runId);
    return true;
  }

  /** An activation that waits: what it waits for, and when (or whether) it runs next. */
  private async suspend(
    tx: SqlExecutor,
    runId: string,
    token: number,
    message: number,
    outcome: Extract<Outcome, { kind: "suspended" }>,
    state: string | null,
    records: JournalRecord[],
  ): Promise<{ ended: boolean; wake: boolean }> {
    const run = await tx.get<RunRow>(`SELECT * FROM cairn_workflows WHERE id = ?${forUpdate(tx)}`, [runId]);
    if (run === undefined || Number(run.token) !== token || run.status !== "running")
      return { ended: false, wake: false };
    await this.writeRecords(tx, runId, records);
    const now = this.clock.now();
    const waiting = [
      ...(outcome.wakeAt !== null ? ["timer"] : []),
      ...outcome.signals.map((name) => `signal:${name}`),
      ...outcome.children.map((id) => `child:${id}`),
    ].join(",");
    await tx.run(
      "UPDATE cairn_workflows SET waiting_for = ?, state = COALESCE(?, state), updated_at = ? WHERE id = ?",
      [waiting, state, now, runId],
    );
    const ready = await this.readyNow(tx, run, outcome);
    const at = ready ? now : outcome.wakeAt;
    if (at === null) {
      await tx.run("DELETE FROM cairn_messages WHERE id = ?", [message]);
    } else {
      await tx.run(
        "UPDATE cairn_messages SET available_at = ?, lease_until = NULL, lease_owner = NULL, attempts = 0, last_error = NULL WHERE id = ?",
        [at, message],
      );
    }
    return { ended: false, wake: ready };
  }

  /** Deliver a signal; kept for the run if it is not waiting for it yet. */
  async signal(id: string, name: string, payload: unknown): Promise<void> {
    if (typeof name !== "string" || name.length === 0 || name.length > 200) {
      throw new CairnError("invalid_argument", "a signal name is 1 to 200 characters");
    }
    const payloadJson = toJson(payload, "the signal's payload");
    const woke = await this.store.transaction(async (tx) => {
      const run = await tx.get<RunRow>(`SELECT * FROM cairn_workflows WHERE id = ?${forUpdate(tx)}`, [id]);
      if (run === undefined) throw new CairnError("not_found", `no workflow run ${id}`);
      if (run.status !== "running")
        throw new CairnError(
          "workflow_ended",
          `workflow run ${id} has ${run.status}; it takes no more signals`,
        );
      const now = this.clock.now();
      await tx.run(
        "INSERT INTO cairn_workflow_signals (run_id, name, payload, received_at) VALUES (?, ?, ?, ?)",
        [id, name, payloadJson, now],
      );
      if (!(run.waiting_for ?? "").split(",").includes(`signal:${name}`)) return false;
      await this.wake(tx, id, now);
      return true;
    });
    if (woke) this.dispatcher.kick();
  }

  async cancel(id: string): Promise<void> {
    const woke = await this.store.transaction(async (tx) => {
      const run = await tx.get<RunRow>(`SELECT * FROM cairn_workflows WHERE id = ?${forUpdate(tx)}`, [id]);
      if (run === undefined) throw new CairnError("not_found", `no workflow run ${id}`);
      if (run.status !== "running")
        throw new CairnError("workflow_ended", `workflow run ${id} has already ${run.status}`);
      const now = this.clock.now();
      await tx.run("UPDATE cairn_workflows SET cancel_requested = 1, updated_at = ? WHERE id = ?", [now, id]);
      if (run.waiting_for === null) return false; // running now: its finish sees the request
      await this.wake(tx, id, now);
      return true;
    });
    if (woke) this.dispatcher.kick();
  }

  /** Run a failed or cancelled run again from the step that failed (earlier results are kept). */
  async retry(id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      const run = await tx.get<RunRow>(`SELECT * FROM cairn_workflows WHERE id = ?${forUpdate(tx)}`, [id]);
      if (run === undefined) throw new CairnError("not_found", `no workflow run ${id}`);
      if (run.status === "running" || run.status === "completed") {
        throw new CairnError(
          "conflict",
          `workflow run ${id} is ${run.status}; only failed or cancelled runs can be retried`,
        );
      }
      const first = await tx.get<{ seq: number | null }>(
        "SELECT MIN(seq) AS seq FROM cairn_workflow_steps WHERE run_id = ? AND (status = 'failed' OR kind = 'compensation')",
        [id],
      );
      if (first?.seq !== null && first?.seq !== undefined) {
        await tx.run("DELETE FROM cairn_workflow_steps WHERE run_id = ? AND seq >= ?", [
          id,
          Number(first.seq),
        ]);
      }
      const now = this.clock.now();
      await tx.run(
        `UPDATE cairn_workflows SET status = 'running', output = NULL, error = NULL, waiting_for = NULL, cancel_requested = 0,
           completed_at = NULL, updated_at = ? WHERE id = ?`,
        [now, id],
      );
      await this.wake(tx, id, now);
    });
    this.dispatcher.kick();
  }

  async get(id: string): Promise<WorkflowRun | undefined> {
    const loaded = await this.load(id);
    if (loaded === undefined) return undefined;
    const { run, steps } = loaded;
    return {
      id: run.id,
      name: run.name,
      status: run.status,
      input: parse(run.input),
      output: parse(run.output),
      error: run.error === null ? null : (JSON.parse(run.error) as { code: string; message: string }),
      state: parse(run.state),
      steps: steps.map(toStep),
      waitingFor: run.waiting_for,
      createdAt: Number(run.created_at),
      updatedAt: Number(run.updated_at),
      completedAt: run.completed_at === null ? null : Number(run.completed_at),
      parentId: run.parent_id,
    };
  }

  private async load(id: string): Promise<{ run: RunRow; steps: StepRow[] } | undefined> {
    if (this.store.dialect === "postgres") {
      // One round trip: the steps come along as a JSON array.
      const row = await this.store.read.get<RunRow & { steps: StepRow[] | null }>(runWithStepsSql, [id]);
      if (row === undefined) return undefined;
      const { steps, ...run } = row;
      return { run, steps: steps ?? [] };
    }
    const run = await this.store.read.get<RunRow>("SELECT * FROM cairn_workflows WHERE id = ?", [id]);
    if (run === undefined) return undefined;
    const steps = await this.store.read.all<StepRow>(
      "SELECT * FROM cairn_workflow_steps WHERE run_id = ? ORDER BY seq",
      [id],
    );
    return { run, steps };
  }

  async list(
    filter: {
      name?: string;
      status?: WorkflowStatus;
      limit?: number;
      cursor?: string;
      since?: number;
      until?: number;
    } = {},
  ): Promise<{
    items: WorkflowSummary[];
    cursor?: string;
  }> {
    const limit = Math.min(Math.max(Number(filter.limit ?? 50), 1), 500);
    const where: string[] = [];
    const params: Array<string | number> = [];
    if (filter.name !== undefined) {
      where.push("name = ?");
      params.push(filter.name);
    }
    if (filter.status !== undefined) {
      where.push("status = ?");
      params.push(filter.status);
    }
    if (filter.since !== undefined) {
      where.push("created_at >= ?");
      params.push(Number(filter.since));
    }
    if (filter.until !== undefined) {
      where.push("created_at < ?");
      params.push(Number(filter.until));
    }
    if (filter.cursor !== undefined) {
      const [at, id] = Buffer.from(filter.cursor, "base64url").toString("utf8").split("\n");
      if (at === undefined || id === undefined || !Number.isFinite(Number(at)))
        throw new CairnError("invalid_argument", "the cursor is not valid");
      where.push("(created_at < ? OR (created_at = ? AND id < ?))");
      params.push(Number(at), Number(at), id);
    }
    params.push(limit + 1);
    const rows = await this.store.read.all<RunRow>(
      `SELECT id, name, status, waiting_for, created_at, updated_at FROM cairn_workflows ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY created_at DESC, id DESC LIMIT ?`,
      params,
    );
    const items = rows.slice(0, limit).map((row) => ({
      id: row.id,
      name: row.name,
      status: row.status,
      waitingFor: row.waiting_for,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    }));
    if (rows.length <= limit) return { items };
    const last = items[items.length - 1]!;
    return { items, cursor: Buffer.from(`${last.createdAt}\n${last.id}`).toString("base64url") };
  }

  /** Resolve once the run has ended (or after `timeoutMs`, with the run as it is then). */
  async result(id: string, timeoutMs: number): Promise<WorkflowRun> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Listen before looking, so a run that ends between the two is never missed. Woken at once
      // when the run ends on this node; polled for runs other nodes finish.
      const wake = this.listen(id, Math.min(250, Math.max(0, deadline - Date.now())));
      try {
        // Only the status while waiting; the whole run (with its steps) once it is returned.
        const row = await this.store.read.get<{ status: WorkflowStatus }>(
          "SELECT status FROM cairn_workflows WHERE id = ?",
          [id],
        );
        if (row === undefined) throw new CairnError("not_found", `no workflow run ${id}`);
        if (row.status !== "running" || Date.now() >= deadline) {
          wake.cancel();
          const run = await this.read(id, row.status !== "running");
          if (run === undefined) throw new CairnError("not_found", `no workflow run ${id}`);
          return run;
        }
      } catch (error) {
        wake.cancel();
        throw error;
      }
      if (await wake.woken) {
        // Ended on this node, perhaps only committed so far: no need to look at the status first.
        const run = await this.read(id, true);
        if (run !== undefined && run.status !== "running") return run;
      }
    }
  }

  /**
   * The run for `result`. An end is reported once it is durable, not merely committed: the run is
   * read while the log is flushed.
   */
  private async read(id: string, ended: boolean): Promise<WorkflowRun | undefined> {
    const [run] = await Promise.all([this.get(id), ended ? this.store.synced?.() : undefined]);
    return run;
  }

  /** Resolves with true when the run ends on this node, with false after `ms`. */
  private listen(runId: string, ms: number): { woken: Promise<boolean>; cancel(): void } {
    let set = this.waiters.get(runId);
    if (set === undefined) this.waiters.set(runId, (set = new Set()));
    const waiters = set;
    let resolve!: (ended: boolean) => void;
    const woken = new Promise<boolean>((done) => (resolve = done));
    const done = (ended = false) => {
      clearTimeout(timer);
      waiters.delete(done);
      if (waiters.size === 0 && this.waiters.get(runId) === waiters) this.waiters.delete(runId);
      resolve(ended);
    };
    const timer = setTimeout(done, ms);
    waiters.add(done);
    return { woken, cancel: done };
  }

  private notify(runId: string): void {
    for (const waiter of [...(this.waiters.get(runId) ?? [])]) waiter(true);
  }

  private definition(name: string): WorkflowDefinition {
    const definition = this.definitions.get(name);
    if (definition === undefined) {
      throw new CairnError(
        "not_found",
        `no workflow "${String(name)}"${this.definitions.size ? `; there are: ${this.names().join(", ")}` : ""}`,
      );
    }
    return definition;
  }

  private async insertRun(
    tx: SqlExecutor,
    definition: WorkflowDefinition,
    id: string,
    input: string,
    now: number,
    parentId: string | null,
    trace: string | null,
  ): Promise<boolean> {
    const inserted = await tx.run(insertRunSql, [id, definition.name, input, parentId, now, now, trace]);
    return inserted.changes > 0;
  }

  /** Is the token still the run's own (no newer activation took over)? */
  private async current(tx: SqlExecutor, runId: string, token: number): Promise<boolean> {
    const row = await tx.get<{ token: number; status: string }>(
      "SELECT token, status FROM cairn_workflows WHERE id = ?",
      [runId],
    );
    return row !== undefined && Number(row.token) === token && row.status === "running";
  }

  /**
   * Journal records, upserted by position: one statement for up to `recordsPerStatement` of them
   * (a finish usually carries every quick step of its activation).
   */
  private async writeRecords(tx: SqlExecutor, runId: string, records: JournalRecord[]): Promise<void> {
    if (records.length === 0) return;
    const unique = latestRecords(records);
    for (let from = 0; from < unique.length; from += recordsPerStatement) {
      const chunk = unique.slice(from, from + recordsPerStatement);
      await tx.run(
        `INSERT INTO cairn_workflow_steps (${recordColumns}) VALUES ${recordRows(chunk.length)} ${recordUpsert}`,
        chunk.flatMap((record) => recordParams(runId, record)),
      );
    }
    for (const record of unique) {
      if (!consumesSignal(record)) continue;
      await tx.run("UPDATE cairn_workflow_signals SET consumed_seq = ? WHERE id = ? AND run_id = ?", [
        record.seq,
        Number(record.data!.signalId),
        runId,
      ]);
    }
  }

  /** Something a suspending run waits for may already have happened (during this activation). */
  private async readyNow(
    tx: SqlExecutor,
    run: RunRow,
    outcome: Extract<Outcome, { kind: "suspended" }>,
  ): Promise<boolean> {
    if (Number(run.cancel_requested) === 1) return true;
    for (const name of outcome.signals) {
      const found = await tx.get(
        "SELECT 1 AS x FROM cairn_workflow_signals WHERE run_id = ? AND name = ? AND consumed_seq IS NULL LIMIT 1",
        [run.id, name],
      );
      if (found !== undefined) return true;
    }
    for (const child of outcome.children) {
      const row = await tx.get<{ status: string }>("SELECT status FROM cairn_workflows WHERE id = ?", [
        child,
      ]);
      if (row !== undefined && row.status !== "running") return true;
    }
    return false;
  }

  /** Queue an activation of a run (its activations share the run id as ordering key). */
  private async wake(tx: SqlExecutor, runId: string, now: number): Promise<void> {
    const run = await tx.get<{ name: string; trace: string | null }>(
      "SELECT name, trace FROM cairn_workflows WHERE id = ?",
      [runId],
    );
    if (run === undefined) return;
    const definition = this.definitions.get(run.name);
    if (definition === undefined) return; // its code is gone from this deployment: it stays as it is
    const pending = await tx.get<{ id: number }>(
      "SELECT id FROM cairn_messages WHERE consumer = ? AND key = ? AND lease_owner IS NULL ORDER BY id LIMIT 1",
      [functionConsumer(definition.functionName), runId],
    );
    if (pending !== undefined) {
      await tx.run("UPDATE cairn_messages SET available_at = ? WHERE id = ? AND available_at > ?", [
        now,
        pending.id,
        now,
      ]);
      return;
    }
    await insertMessage(
      tx,
      functionConsumer(definition.functionName),
      "workflow",
      runId,
      activationPayload(runId, run.trace),
      now,
      now,
    );
  }

  /** Writes for one run happen in the order they were asked for (journal, then finish). */
  private chain<T>(runId: string, work: () => Promise<T>): Promise<T> {
    const previous = this.chains.get(runId) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.then(
      () => undefined,
      () => undefined,
    );
    this.chains.set(runId, tail);
    void tail.then(() => {
      if (this.chains.get(runId) === tail) this.chains.delete(runId);
    });
    return next;
  }
}

/** Journal records per INSERT: 11 parameters each, well under either database's limit. */
const recordsPerStatement = 500;

const recordColumns = "run_id, seq, name, kind, status, attempts, result, error, started_at, ended_at, data";
const recordUpsert = `ON CONFLICT (run_id, seq) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
  result = excluded.result, error = excluded.error, ended_at = excluded.ended_at, data = excluded.data`;

function recordParams(runId: string, record: JournalRecord): SqlValue[] {
  return [
    runId,
    record.seq,
    record.name,
    record.kind,
    record.status,
    record.attempts,
    record.result ?? null,
    record.error ?? null,
    record.startedAt,
    record.endedAt ?? null,
    record.data ? JSON.stringify(record.data) : null,
  ];
}

/** A position written twice in one batch keeps its last record (a statement upserts a row once). */
function latestRecords(records: JournalRecord[]): JournalRecord[] {
  if (records.length <= 1) return records;
  const latest = new Map<number, JournalRecord>();
  for (const record of records) latest.set(record.seq, record);
  return latest.size === records.length ? records : [...latest.values()];
}

/** A received signal's record also marks the signal consumed (a second statement). */
function consumesSignal(record: JournalRecord): boolean {
  return record.kind === "signal" && record.status === "completed" && record.data?.signalId !== undefined;
}

const rowsCache: string[] = [];

/** `(?, ..., ?), ...` for `count` journal records. */
function recordRows(count: number): string {
  return (rowsCache[count] ??= Array.from({ length: count }, () => "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)").join(
    ", ",
  ));
}

/** How an ended run's row changes; `endParams` fills the placeholders. */
const endColumns = `status = ?, output = ?, error = ?, state = COALESCE(?, state), waiting_for = NULL,
  updated_at = ?, completed_at = ?`;

function endParams(
  outcome: Exclude<Outcome, { kind: "suspended" }>,
  state: string | null,
  now: number,
): SqlValue[] {
  return [
    outcome.kind,
    outcome.kind === "completed" ? outcome.output : null,
    outcome.kind === "completed" ? null : JSON.stringify(stripStack(outcome.error)),
    state,
    now,
    now,
  ];
}

/** PostgreSQL: a run with its journal, in order, as one row. */
const runWithStepsSql = `SELECT w.*,
    (SELECT json_agg(s ORDER BY s.seq) FROM cairn_workflow_steps s WHERE s.run_id = w.id) AS steps
  FROM cairn_workflows w WHERE w.id = ?`;

const finishAloneCache: string[] = [];

/**
 * PostgreSQL: a top-level run ended, its last journal records written and its message removed, in
 * one statement (data-modifying CTEs all see the run's RETURNING). No row when the activation no
 * longer holds the run or the run has a parent, and then nothing changed.
 */
function finishAloneSql(records: number): string {
  const cached = finishAloneCache[records];
  if (cached !== undefined) return cached;
  const typed =
    "(?::text, ?::int, ?::text, ?::text, ?::text, ?::int, ?::text, ?::text, ?::bigint, ?::bigint, ?::text)";
  const steps =
    records === 0
      ? ""
      : `, steps AS (
    INSERT INTO cairn_workflow_steps (${recordColumns})
    SELECT v.* FROM run, (VALUES ${Array.from({ length: records }, () => typed).join(", ")}) AS v(${recordColumns})
    ${recordUpsert}
  )`;
  const sql = `WITH run AS (
    UPDATE cairn_workflows SET ${endColumns}
    WHERE id = ? AND token = ? AND status = 'running' AND parent_id IS NULL RETURNING id
  ), gone AS (
    DELETE FROM cairn_messages WHERE id = ? AND EXISTS (SELECT 1 FROM run)
  )${steps}
  SELECT id FROM run`;
  finishAloneCache[records] = sql;
  return sql;
}

function forUpdate(tx: SqlExecutor): string {
  return tx.dialect === "postgres" ? " FOR UPDATE" : "";
}

function stripStack(error: SerializedError): SerializedError {
  const { stack: _stack, ...rest } = error;
  return rest;
}

function toRecord(row: StepRow): JournalRecord {
  return {
    seq: Number(row.seq),
    name: row.name,
    kind: row.kind,
    status: row.status,
    attempts: Number(row.attempts),
    result: row.result,
    error: row.error,
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
  };
}

function toStep(row: StepRow): StepRecord {
  const error = row.error === null ? null : (JSON.parse(row.error) as { code: string; message: string });
  return {
    seq: Number(row.seq),
    name: row.name,
    kind: row.kind,
    status: row.status,
    attempts: Number(row.attempts),
    startedAt: Number(row.started_at),
    endedAt: row.ended_at === null ? null : Number(row.ended_at),
    ...(row.result !== null && { result: parse(row.result) }),
    ...(error !== null && { error: { code: error.code, message: error.message } }),
  };
}

async function applyOp(tables: Tables, tx: SqlExecutor, op: TransactionOp): Promise<void> {
  if ("put" in op) {
    const { table, item, ...conditions } = op.put;
    await tables.writer.put(tx, userTable(table), item, conditions);
  } else if ("update" in op) {
    const { table, key, changes, ...conditions } = op.update;
    await tables.writer.update(tx, userTable(table), key, changes, conditions);
  } else if ("delete" in op) {
    const { table, key, ...conditions } = op.delete;
    await tables.writer.delete(tx, userTable(table), key, conditions);
  } else if ("check" in op) {
    const { table, key, ...conditions } = op.check;
    await tables.writer.check(tx, userTable(table), key, conditions);
  } else {
    throw new CairnError("invalid_argument", "a step's writes are put, update, delete or check");
  }
}

/** Steps write the app's own tables, never the platform's. */
function userTable(name: unknown): string {
  return typeof name === "string" && !name.startsWith("_") ? name : `\u0000${String(name)}`;
}

/** A new run (id, name, input, parent, created and updated at, trace); nothing if the id exists. */
const insertRunSql = `INSERT INTO cairn_workflows (id, name, status, input, parent_id, token, created_at, updated_at, trace)
  VALUES (?, ?, 'running', ?, ?, 1, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;

/**
 * A run and its first activation's message (leased to this node already: its first
 * attempt) in one statement, for PostgreSQL. No row when a run with that id exists.
 */
const startAloneSql = `WITH run AS (${insertRunSql} RETURNING id)
  INSERT INTO cairn_messages (consumer, topic, key, payload, created_at, available_at, lease_until, lease_owner, attempts)
  SELECT ?::text, 'workflow', run.id, ?::text, ?::bigint, ?::bigint, ?::bigint, ?::text, 1 FROM run
  RETURNING id`;

/** The payload of a run's activation message: its id, and the trace its activations join. */
function activationPayload(runId: string, trace: string | null): string {
  return JSON.stringify(trace === null ? { runId } : { runId, trace });
}
