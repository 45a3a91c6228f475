import { CairnError, deserializeError, serializeError, type SerializedError } from "../../sdk/errors.js";
import { isNonRetryable, type WorkflowHandler } from "../../sdk/workflow.js";
import type { Context } from "../../sdk/context.js";
import { parseDuration, type Duration } from "../../shared/duration.js";
import type { Activation, JournalRecord } from "../../shared/protocol.js";
import type { OutboxEvent, TransactionOp } from "../../tables/types.js";
import {
  workflowLimits,
  type StepContext,
  type StepOptions,
  type StepTable,
  type WorkflowContext,
} from "../../workflows/types.js";

/** How a workflow activation ended. */
export type ActivationOutcome =
  | { kind: "completed"; output: string }
  | { kind: "failed"; error: SerializedError }
  | { kind: "cancelled"; error: SerializedError }
  | { kind: "suspended"; wakeAt: number | null; signals: string[]; children: string[] };

/** What an activation asks of the host while it runs. */
export interface WorkflowHost {
  /** Journal records that need no table writes: sent without waiting (at-least-once steps). */
  journal(records: JournalRecord[], state: string | null): void;
  /** A step with table writes: its record, writes and events commit in one transaction. */
  commitStep(
    record: JournalRecord,
    ops: TransactionOp[],
    events: OutboxEvent[],
    state: string | null,
  ): Promise<void>;
  /** Start a child run durably, together with the journal record that names it. */
  startChild(record: JournalRecord, name: string, input: string, childId: string): Promise<void>;
}

/** Never settles: the activation ends while the code waits here, and a later one replays past it. */
const forever = <T>() => new Promise<T>(() => {});

function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value ?? null);
  if (text === undefined) throw new CairnError("invalid_argument", `${what} must be JSON-serializable`);
  if (text.length > workflowLimits.payloadBytes) {
    throw new CairnError("payload_too_large", `${what} exceeds ${workflowLimits.payloadBytes} bytes as JSON`);
  }
  return text;
}

const parse = (text: string | null | undefined): unknown =>
  text === null || text === undefined ? null : JSON.parse(text);

interface Compensation {
  name: string;
  result: unknown;
  fn: (result: unknown, step: StepContext) => unknown;
}

/**
 * Replays a workflow's code against its journal. Operations take journal positions in the order the
 * code calls them; an operation already in the journal returns what it returned then, a new one runs
 * and is journaled. When the code waits for something that has not happened (a timer, a signal, a
 * child) and nothing else is running, the activation suspends.
 */
export class Replay {
  private seq = 0;
  private readonly journal = new Map<number, JournalRecord>();
  private readonly signals: Activation["signals"];
  private readonly compensations: Compensation[] = [];
  private running = 0;
  private readonly waits = {
    wakeAt: Number.POSITIVE_INFINITY,
    signals: new Set<string>(),
    children: new Set<string>(),
  };
  private suspended: ((outcome: ActivationOutcome) => void) | undefined;
  private compensating = false;
  private pending: JournalRecord[] = [];
  private flushScheduled = false;
  /** Host time at the start of this activation, plus the wall time since (tests move the host's clock). */
  private readonly startedWall = Date.now();
  state: Record<string, unknown>;

  constructor(
    private readonly activation: Activation,
    private readonly host: WorkflowHost,
  ) {
    for (const record of activation.journal) this.journal.set(record.seq, record);
    this.signals = [...activation.signals];
    this.state = (parse(activation.state) as Record<string, unknown> | null) ?? {};
  }

  /** Run the workflow code; resolves with the outcome of this activation. */
  run(handler: WorkflowHandler, ctx: Context): Promise<ActivationOutcome> {
    return new Promise<ActivationOutcome>((resolve) => {
      let done = false;
      // Records still unsent go to the host with the outcome (takePending), in one transaction.
      const finish = (outcome: ActivationOutcome) => {
        if (done) return;
        done = true;
        resolve(outcome);
      };
      this.suspended = finish;
      const context = this.context();
      Promise.resolve()
        .then(() => handler(parse(this.activation.input), context, ctx))
        .then(
          (output) => finish({ kind: "completed", output: toJson(output, "the workflow's output") }),
          async (error: unknown) => {
            try {
              await this.compensate();
            } catch (compensationError) {
              finish({ kind: "failed", error: serializeError(compensationError) });
              return;
            }
            const serialized = serializeError(error);
            if (serialized.code === "workflow_cancelled") finish({ kind: "cancelled", error: serialized });
            else finish({ kind: "failed", error: serialized });
          },
        );
    });
  }

  private now(): number {
    return this.activation.now + (Date.now() - this.startedWall);
  }

  /** Journal records not yet sent, which the activation's outcome carries to the host. */
  takePending(): JournalRecord[] {
    const records = this.pending;
    this.pending = [];
    return records;
  }

  /** Journal records written so far and not yet sent. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.host.journal(records, this.stateJson());
  }

  stateJson(): string | null {
    try {
      return toJson(this.state, "the workflow's state");
    } catch {
      return null;
    }
  }

  private context(): WorkflowContext {
    const activation = this.activation;
    const getState = () => this.state;
    const setState = (value: Record<string, unknown>) => {
      this.state = value;
    };
    return {
      id: activation.runId,
      name: activation.name,
      get state() {
        return getState();
      },
      set state(value: Record<string, unknown>) {
        setState(value);
      },
      step: (name, fn, options) => this.step(name, fn, options as StepOptions) as never,
      sleep: (duration) => this.sleepUntil(this.now() + parseDuration(duration, "sleep")),
      sleepUntil: (date) => this.sleepUntil(typeof date === "number" ? date : date.getTime()),
      waitForSignal: (name, options) => this.waitForSignal(name, options?.timeout) as never,
      child: (name, input, options) => this.child(name, input, options?.id) as never,
      now: () => this.value("now", () => Date.now()),
      random: () => this.value("random", () => Math.random()),
    };
  }

  private next(
    name: string,
    kind: JournalRecord["kind"],
  ): { seq: number; record: JournalRecord | undefined } {
    const seq = ++this.seq;
    if (seq > workflowLimits.stepsPerRun) {
      throw new CairnError(
        "workflow_too_long",
        `a run may journal at most ${workflowLimits.stepsPerRun} operations`,
      );
    }
    const record = this.journal.get(seq);
    if (record !== undefined && (record.name !== name || record.kind !== kind)) {
      throw new CairnError(
        "workflow_nondeterministic",
        `operation ${seq} of this run was ${record.kind} "${record.name}", but the code now calls ${kind} "${name}": ` +
          "the code changed in a way its journal cannot replay (see README: changing workflows safely)",
        { details: { seq, journaled: record.name, called: name } },
      );
    }
    return { seq, record };
  }

  /** New work is refused once cancellation was requested (compensations excepted). */
  private checkCancelled(): void {
    if (this.activation.cancelRequested && !this.compensating) {
      throw new CairnError("workflow_cancelled", "the run was cancelled");
    }
  }

  private record(record: JournalRecord): void {
    this.journal.set(record.seq, record);
    this.pending.push(record);
    if (!this.flushScheduled) {
      // Sent once the code stops making progress in this turn, so quick steps share one commit
      // (or travel with the outcome when the activation ends first).
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private async step(
    name: string,
    fn: (step: StepContext) => unknown,
    options: StepOptions = {},
    kind: "step" | "compensation" = "step",
  ): Promise<unknown> {
    const { seq, record } = this.next(name, kind);
    if (record?.status === "completed") {
      const result = parse(record.result);
      if (options.compensate) this.compensations.push({ name, result, fn: options.compensate });
      return result;
    }
    if (record?.status === "failed") throw deserializeError(JSON.parse(record.error!) as SerializedError);
    this.checkCancelled();
    const policy = options.retry ?? {};
    const attempts = policy.attempts ?? 3;
    const attempt = (record?.attempts ?? 0) + 1;
    if (record?.status === "retrying") {
      const retryAt = Number(record.data?.retryAt ?? 0);
      if (retryAt > this.now()) return this.wait({ wakeAt: retryAt });
    }
    const startedAt = record?.startedAt ?? Date.now();
    this.running++;
    try {
      const writes: TransactionOp[] = [];
      const events: OutboxEvent[] = [];
      const context = stepContext(
        `${this.activation.runId}:${seq}:${name}`,
        attempt,
        writes,
        events,
        options.timeout,
      );
      let result: unknown;
      let resultJson: string;
      try {
        result = await withTimeout(
          Promise.resolve().then(() => fn(context.step)),
          context,
          options.timeout,
        );
        resultJson = toJson(result, `the result of step "${name}"`);
        const done: JournalRecord = {
          seq,
          name,
          kind,
          status: "completed",
          attempts: attempt,
          result: resultJson,
          startedAt,
          endedAt: Date.now(),
        };
        if (writes.length > 0 || events.length > 0) {
          this.flush();
          await this.host.commitStep(done, writes, events, this.stateJson());
          this.journal.set(seq, done);
        } else {
          this.record(done);
        }
      } catch (error) {
        const serialized = serializeError(error);
        const final =
          isNonRetryable(error) || serialized.code === "workflow_nondeterministic" || attempt >= attempts;
        if (final) {
          this.record({
            seq,
            name,
            kind,
            status: "failed",
            attempts: attempt,
            error: JSON.stringify(serialized),
            startedAt,
            endedAt: Date.now(),
          });
          throw error;
        }
        const base = parseDuration(policy.backoff ?? "1s", "retry backoff");
        const max = parseDuration(policy.maxDelay ?? "1m", "retry maxDelay");
        const retryAt = this.now() + Math.min(max, base * 2 ** (attempt - 1));
        this.record({
          seq,
          name,
          kind,
          status: "retrying",
          attempts: attempt,
          error: JSON.stringify(serialized),
          startedAt,
          data: { retryAt },
        });
        return this.wait({ wakeAt: retryAt });
      }
      if (options.compensate) this.compensations.push({ name, result, fn: options.compensate });
      return result;
    } finally {
      this.running--;
      this.checkSuspend();
    }
  }

  private async sleepUntil(wakeAt: number): Promise<void> {
    const { seq, record } = this.next("sleep", "sleep");
    if (record !== undefined) {
      const at = Number(record.data?.wakeAt);
      if (at <= this.now()) {
        if (record.status !== "completed")
          this.record({ ...record, status: "completed", endedAt: Date.now() });
        return;
      }
      this.checkCancelled();
      return this.wait({ wakeAt: at });
    }
    this.checkCancelled();
    const done = wakeAt <= this.now();
    this.record({
      seq,
      name: "sleep",
      kind: "sleep",
      status: done ? "completed" : "waiting",
      attempts: 1,
      startedAt: Date.now(),
      endedAt: done ? Date.now() : null,
      data: { wakeAt },
    });
    if (done) return;
    return this.wait({ wakeAt });
  }

  private async waitForSignal(name: string, timeout: Duration | undefined): Promise<unknown> {
    const { seq, record } = this.next(name, "signal");
    if (record?.status === "completed") return parse(record.result);
    if (record?.status === "failed") throw deserializeError(JSON.parse(record.error!) as SerializedError);
    const deadline =
      record !== undefined
        ? ((record.data?.deadline as number | null | undefined) ?? null)
        : timeout === undefined
          ? null
          : this.now() + parseDuration(timeout, "signal timeout");
    const index = this.signals.findIndex((signal) => signal.name === name);
    if (index !== -1) {
      const [signal] = this.signals.splice(index, 1);
      this.record({
        seq,
        name,
        kind: "signal",
        status: "completed",
        attempts: 1,
        result: signal!.payload,
        startedAt: record?.startedAt ?? Date.now(),
        endedAt: Date.now(),
        data: { deadline, signalId: signal!.id },
      });
      return parse(signal!.payload);
    }
    this.checkCancelled();
    if (deadline !== null && deadline <= this.now()) {
      const error = new CairnError("signal_timeout", `no "${name}" signal arrived before the timeout`);
      this.record({
        seq,
        name,
        kind: "signal",
        status: "failed",
        attempts: 1,
        error: JSON.stringify(serializeError(error)),
        startedAt: record?.startedAt ?? Date.now(),
        endedAt: Date.now(),
        data: { deadline },
      });
      throw error;
    }
    if (record === undefined) {
      this.record({
        seq,
        name,
        kind: "signal",
        status: "waiting",
        attempts: 1,
        startedAt: Date.now(),
        data: { deadline },
      });
    }
    return this.wait({ signal: name, ...(deadline !== null && { wakeAt: deadline }) });
  }

  private async child(name: string, input: unknown, id: string | undefined): Promise<unknown> {
    const { seq, record } = this.next(name, "child");
    const childId = (record?.data?.childId as string | undefined) ?? id ?? `${this.activation.runId}:${seq}`;
    if (record === undefined) {
      this.checkCancelled();
      const inputJson = toJson(input, `the input of child workflow "${name}"`);
      const started: JournalRecord = {
        seq,
        name,
        kind: "child",
        status: "waiting",
        attempts: 1,
        startedAt: Date.now(),
        data: { childId },
      };
      this.running++;
      try {
        this.flush();
        await this.host.startChild(started, name, inputJson, childId);
      } finally {
        this.running--;
      }
      this.journal.set(seq, started);
    }
    const outcome = this.activation.children[childId];
    if (outcome !== undefined && outcome.status !== "running") {
      const rec = this.journal.get(seq)!;
      if (outcome.status === "completed") {
        if (rec.status !== "completed")
          this.record({ ...rec, status: "completed", result: outcome.output, endedAt: Date.now() });
        return parse(outcome.output);
      }
      if (rec.status !== "failed")
        this.record({ ...rec, status: "failed", error: outcome.error, endedAt: Date.now() });
      const error = outcome.error
        ? deserializeError(JSON.parse(outcome.error) as SerializedError)
        : new CairnError("child_failed", `child ${childId} ${outcome.status}`);
      throw new CairnError(
        "child_failed",
        `child workflow ${name} (${childId}) ${outcome.status}: ${error.message}`,
        { cause: error },
      );
    }
    this.checkCancelled();
    return this.wait({ child: childId });
  }

  private value(kind: "now" | "random", make: () => number): Promise<number> {
    const { seq, record } = this.next(kind, "value");
    if (record !== undefined) return Promise.resolve(parse(record.result) as number);
    const value = make();
    this.record({
      seq,
      name: kind,
      kind: "value",
      status: "completed",
      attempts: 1,
      result: JSON.stringify(value),
      startedAt: Date.now(),
      endedAt: Date.now(),
    });
    return Promise.resolve(value);
  }

  /** Register what the code waits for, and never settle: the activation suspends once idle. */
  private wait(what: { wakeAt?: number; signal?: string; child?: string }): Promise<never> {
    if (what.wakeAt !== undefined) this.waits.wakeAt = Math.min(this.waits.wakeAt, what.wakeAt);
    if (what.signal !== undefined) this.waits.signals.add(what.signal);
    if (what.child !== undefined) this.waits.children.add(what.child);
    this.checkSuspend();
    return forever<never>();
  }

  /** Suspend once nothing runs any more: every path of the code is waiting for the outside world. */
  private checkSuspend(): void {
    setImmediate(() => {
      if (this.running > 0 || this.suspended === undefined) return;
      const { wakeAt, signals, children } = this.waits;
      if (wakeAt === Number.POSITIVE_INFINITY && signals.size === 0 && children.size === 0) return;
      this.suspended({
        kind: "suspended",
        wakeAt: Number.isFinite(wakeAt) ? wakeAt : null,
        signals: [...signals],
        children: [...children],
      });
    });
  }

  /** Undo completed steps in reverse order, each compensation a journaled step of its own. */
  private async compensate(): Promise<void> {
    this.compensating = true;
    for (const compensation of [...this.compensations].reverse()) {
      await this.step(
        `compensate:${compensation.name}`,
        (step) => compensation.fn(compensation.result, step),
        {},
        "compensation",
      );
    }
  }
}

interface BuiltStep {
  step: StepContext;
  abort: AbortController;
}

function stepContext(
  idempotencyKey: string,
  attempt: number,
  writes: TransactionOp[],
  events: OutboxEvent[],
  timeout: Duration | undefined,
): BuiltStep {
  const abort = new AbortController();
  const tables = new Proxy(
    {},
    {
      get(_target, table) {
        if (typeof table !== "string") return undefined;
        const handle: StepTable = {
          put: (item, conditions) => void writes.push({ put: { table, item, ...conditions } }),
          update: (key, changes, conditions) =>
            void writes.push({ update: { table, key, changes, ...conditions } }),
          delete: (key, conditions) => void writes.push({ delete: { table, key, ...conditions } }),
          check: (key, conditions) => void writes.push({ check: { table, key, ...conditions } }),
        };
        return handle;
      },
    },
  );
  void timeout;
  return {
    abort,
    step: {
      idempotencyKey,
      attempt,
      signal: abort.signal,
      tables,
      publish: (event) => void events.push(event),
    },
  };
}

function withTimeout<T>(work: Promise<T>, context: BuiltStep, timeout: Duration | undefined): Promise<T> {
  if (timeout === undefined) return work;
  const ms = parseDuration(timeout, "step timeout");
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      context.abort.abort();
      reject(new CairnError("step_timeout", `the step did not finish within ${ms} ms`, { retryable: true }));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
