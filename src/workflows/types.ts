/**
 * Durable workflows as their code sees them: steps whose results are journaled, durable sleeps and
 * signals, child workflows, compensations and a published state object. The code is replayed after
 * every wait and after a crash: completed steps return their journaled results without running
 * again, so it must be deterministic outside of steps (use wf.now() and wf.random(), not Date or
 * Math.random, and decide only on inputs and step results).
 */
import type { RegisteredConfig } from "../sdk/register.js";
import type { Duration } from "../shared/duration.js";
import type { Conditions, Item, OutboxEvent, TypedTableDefinition, UpdateChanges } from "../tables/types.js";

export interface RetryPolicy {
  /** Attempts in all, the first included (default 3). */
  attempts?: number;
  /** Delay before the second attempt, doubled for each further one (default 1s). */
  backoff?: Duration;
  /** Longest delay between attempts (default 1m). */
  maxDelay?: Duration;
}

export interface StepOptions<T = unknown> {
  retry?: RetryPolicy;
  /** Longest one attempt may run (default: none beyond the workflow function's own timeout). */
  timeout?: Duration;
  /**
   * Undo this step if the workflow later fails or is cancelled (a saga). Compensations run as steps
   * of their own, in reverse order of the steps they undo.
   */
  compensate?: (result: T, step: StepContext) => unknown;
}

/** Table writes of a step, committed in the same transaction as the step's checkpoint. */
export interface StepTable<T extends object = Item> {
  put(item: T, conditions?: Conditions): void;
  update(key: Partial<T>, changes: UpdateChanges, conditions?: Conditions): void;
  delete(key: Partial<T>, conditions?: Conditions): void;
  /** Fail the step (and write nothing) unless the condition holds at commit. */
  check(key: Partial<T>, conditions: Conditions): void;
}

/** A step's tables, typed from the registered config like ctx.tables (any name without one). */
export type StepTables = RegisteredConfig extends { tables: infer Definitions extends object }
  ? {
      readonly [Name in keyof Definitions]: Definitions[Name] extends TypedTableDefinition<infer T>
        ? StepTable<T>
        : StepTable;
    }
  : Record<string, StepTable>;

export interface StepContext {
  /** Stable for this step across retries and replays: pass it to outside services. */
  idempotencyKey: string;
  /** 1 on the first attempt. */
  attempt: number;
  /** Aborted when the step's timeout passes. */
  signal: AbortSignal;
  /** Writes that commit exactly once, together with the step's result. */
  tables: StepTables;
  /** Events appended to the outbox with the step's commit. */
  publish(event: OutboxEvent): void;
}

export interface StartOptions {
  /** The workflow id; starting an id that exists returns that run instead of starting another. */
  id?: string;
}

export interface WorkflowContext<State = Record<string, unknown>> {
  readonly id: string;
  readonly name: string;
  /** Published with every checkpoint; readable while the run is in flight. */
  state: State;
  /** Run `fn` once, durably: its result is journaled, and replays return it without running again. */
  step<T>(
    name: string,
    fn: (step: StepContext) => T | Promise<T>,
    options?: StepOptions<Awaited<T>>,
  ): Promise<Awaited<T>>;
  /** Durable sleep: the run is suspended and resumed by a timer, across restarts. */
  sleep(duration: Duration): Promise<void>;
  sleepUntil(date: Date | number): Promise<void>;
  /**
   * The next signal with this name (also one sent before the run waited). Throws `signal_timeout`
   * when `timeout` passes first.
   */
  waitForSignal<T = unknown>(name: string, options?: { timeout?: Duration }): Promise<T>;
  /** Start a child workflow and wait for its output (it fails here if the child fails). */
  child<T = unknown>(name: string, input?: unknown, options?: StartOptions): Promise<T>;
  /** Deterministic time: journaled, so replays see the same value. */
  now(): Promise<number>;
  /** Deterministic random number in [0, 1). */
  random(): Promise<number>;
}

export type WorkflowStatus = "running" | "completed" | "failed" | "cancelled";

export interface StepRecord {
  seq: number;
  name: string;
  kind: string;
  status: "completed" | "failed" | "retrying" | "waiting";
  attempts: number;
  startedAt: number;
  endedAt: number | null;
  result?: unknown;
  error?: { code: string; message: string } | null;
}

export interface WorkflowRun<Input = unknown, Output = unknown, State = unknown> {
  id: string;
  name: string;
  status: WorkflowStatus;
  input: Input;
  output: Output | null;
  error: { code: string; message: string } | null;
  state: State | null;
  steps: StepRecord[];
  /** What a running workflow waits for ("timer", "signal:<name>", "child:<id>"), if anything. */
  waitingFor: string | null;
  createdAt: number;
  updatedAt: number;
  completedAt: number | null;
  parentId: string | null;
}

export interface WorkflowSummary {
  id: string;
  name: string;
  status: WorkflowStatus;
  createdAt: number;
  updatedAt: number;
  waitingFor: string | null;
}

export interface WorkflowsClient {
  /** Start a run (durable when this resolves). The same id twice returns the same run. */
  start(name: string, input?: unknown, options?: StartOptions): Promise<{ id: string; started: boolean }>;
  get(id: string): Promise<WorkflowRun | undefined>;
  list(filter?: { name?: string; status?: WorkflowStatus; limit?: number; cursor?: string }): Promise<{
    items: WorkflowSummary[];
    cursor?: string;
  }>;
  signal(id: string, signal: string, payload?: unknown): Promise<void>;
  cancel(id: string): Promise<void>;
  /** Wait until the run ends (or `timeout` passes) and return it. */
  result(id: string, options?: { timeout?: Duration }): Promise<WorkflowRun>;
}

export const workflowLimits = {
  /** Inputs, outputs, step results, signal payloads and the state object, as JSON. */
  payloadBytes: 256 * 1024,
  stepsPerRun: 10_000,
  idLength: 256,
} as const;
