import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventsHost } from "../../../src/events/service.js";
import { ManualClock } from "../../../src/shared/clock.js";
import type { Store } from "../../../src/store/types.js";
import type { WorkflowEngine } from "../../../src/workflows/runs.js";
import type { WorkflowRun } from "../../../src/workflows/types.js";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../../helpers/app.js";

/** What a driver provides: environment variables that select its store (none for SQLite), and cleanup. */
export interface WorkflowBackend {
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

const app = {
  "cairn.config.ts": `
    import { defineConfig, table } from "cairn";
    const config = defineConfig({
      tables: {
        counters: table<{ id: string; n: number }>({ partitionKey: "id" }),
        log: table<{ id: string; entries: string[] }>({ partitionKey: "id" }),
      },
    });
    export default config;
    declare module "cairn" { interface Register { config: typeof config } }
  `,
  "functions/workflows.ts": `
    import { NonRetryableError, workflow } from "cairn";

    async function bump(ctx: any, id: string) {
      return (await ctx.tables.counters.update({ id }, { increment: { n: 1 } })).n;
    }
    async function note(ctx: any, run: string, entry: string) {
      await ctx.tables.log.update({ id: run }, { append: { entries: [entry] } });
    }

    export const three = workflow("three", async (input: { n: number }, wf) => {
      const a = await wf.step("a", () => input.n + 1);
      const b = await wf.step("b", () => a * 2);
      return { a, b, c: await wf.step("c", () => b - 3) };
    });

    export const sleeper = workflow("sleeper", async (_input, wf, ctx) => {
      await wf.step("before", () => bump(ctx, wf.id + ":before"));
      wf.state = { phase: "sleeping" };
      await wf.sleep("1h");
      wf.state = { phase: "awake" };
      await wf.step("after", () => bump(ctx, wf.id + ":after"));
      return "rested";
    });

    export const flaky = workflow("flaky", async (input: { failures: number; fatal?: boolean }, wf, ctx) => {
      return wf.step("shaky", async (step) => {
        const n = await bump(ctx, wf.id + ":tries");
        if (input.fatal) throw new NonRetryableError("no point retrying");
        if (n <= input.failures) throw new Error("transient failure " + n);
        return { tries: n, attempt: step.attempt, key: step.idempotencyKey };
      }, { retry: { attempts: 3, backoff: "1s" } });
    });

    export const signals = workflow("signals", async (input: { sleepFirst?: boolean; timeout?: string }, wf) => {
      if (input.sleepFirst) await wf.sleep("10m");
      try {
        const payload = await wf.waitForSignal<{ note: string }>("go", { timeout: input.timeout ?? "1d" });
        return { got: payload.note };
      } catch (error) {
        return { timedOut: (error as { code?: string }).code };
      }
    });

    export const parallel = workflow("parallel", async (_input, wf) => {
      const results = await Promise.all(
        [30, 10, 20].map((delay, i) => wf.step("p" + i, () => new Promise((resolve) => setTimeout(() => resolve(i * 10), delay)))),
      );
      return results;
    });

    export const parent = workflow("parent", async (input: { fail?: boolean }, wf) => {
      const child = await wf.child<{ doubled: number }>("child", { n: 21, fail: input.fail });
      return { fromChild: child.doubled };
    });
    export const child = workflow("child", async (input: { n: number; fail?: boolean }, wf) => {
      return wf.step("double", () => {
        if (input.fail) throw new NonRetryableError("the child failed");
        return { doubled: input.n * 2 };
      });
    });

    export const saga = workflow("saga", async (input: { failAt?: string; waitForSignal?: boolean }, wf, ctx) => {
      for (const name of ["a", "b", "c"]) {
        await wf.step(name, () => {
          if (input.failAt === name) throw new NonRetryableError("step " + name + " failed");
          return name;
        }, { compensate: async () => note(ctx, wf.id, "undo " + name) });
      }
      if (input.waitForSignal) await wf.waitForSignal("never");
      if (input.failAt === "end") await wf.step("end", () => { throw new NonRetryableError("the end failed"); });
      return "done";
    });

    export const exactly = workflow("exactly", async (input: { id: string }, wf) => {
      await wf.step("reserve", (step) => {
        step.tables.counters.update({ id: input.id }, { increment: { n: 5 } });
      });
      await wf.sleep("1m");
      return "ok";
    });

    export const slowAfterSignal = workflow("slow-after-signal", async (_input, wf) => {
      await wf.waitForSignal("go");
      return wf.step("slow", () => new Promise((resolve) => setTimeout(() => resolve("done"), 300)));
    });

    export const slowTail = workflow("slow-tail", async (_input, wf) => {
      await wf.step("quick", () => 1);
      return wf.step("slow", () => new Promise((resolve) => setTimeout(() => resolve(2), 600)));
    });

    export const many = workflow("many", async (input: { n: number }, wf) => {
      let sum = 0;
      for (let i = 0; i < input.n; i++) sum += (await wf.step("s" + i, () => i)) as number;
      return sum;
    });

    export const shifty = workflow("shifty", async (_input, wf, ctx) => {
      const variant = (await ctx.tables.counters.get({ id: "variant" }))?.n ?? 0;
      await wf.step("step-" + variant, () => variant);
      await wf.sleep("1h");
      return "unreachable after a code change";
    });
  `,
};

const terminal = new Set(["completed", "failed", "cancelled"]);

/** The workflow engine conformance suite: every durable-store driver runs it unchanged. */
export function workflowsConformance(name: string, open: () => Promise<WorkflowBackend>): void {
  describe(`workflows conformance: ${name}`, () => {
    let dir: string;
    let backend: WorkflowBackend;
    let t: TestNode;
    const clock = new ManualClock(Date.UTC(2032, 0, 1));
    const engine = () => t.node.deployment.apps[0]!.services.api<WorkflowEngine>("workflows")!;
    const events = () => t.node.deployment.apps[0]!.services.api<EventsHost>("queues")!;

    beforeAll(async () => {
      dir = makeApp(app);
      backend = await open();
      t = await startNode({ dir, clock, env: { ...process.env, ...backend.env } });
    });
    afterAll(async () => {
      await t?.stop();
      await backend?.close();
      removeApp(dir);
    });

    const start = (workflow: string, input: unknown = {}, id?: string) =>
      engine().start(workflow, input, id === undefined ? {} : { id });
    const run = (id: string) => engine().get(id) as Promise<WorkflowRun>;
    /** Move time forward and let the dispatcher look for due activations. */
    const advance = async (ms: number) => {
      clock.advance(ms);
      events().dispatcher.kick();
      await new Promise((resolve) => setTimeout(resolve, 30));
    };
    const until = (id: string, check: (run: WorkflowRun) => boolean, tick = 0) =>
      eventually(async () => {
        if (tick > 0) await advance(tick);
        const current = await run(id);
        return check(current) ? current : undefined;
      }, 10_000);
    const ended = (id: string, tick = 0) => until(id, (r) => terminal.has(r.status), tick);
    const counter = async (id: string) =>
      (
        await t.node.deployment.apps[0]!.services.api<{
          tables: { get(t: string, k: object): Promise<{ n?: number } | undefined> };
        }>("tables")!.tables.get("counters", { id })
      )?.n ?? 0;

    it("runs sequential steps and journals each with its attempts and times", async () => {
      const { id } = await start("three", { n: 1 });
      const done = await ended(id);
      expect(done).toMatchObject({
        status: "completed",
        input: { n: 1 },
        output: { a: 2, b: 4, c: 1 },
        error: null,
      });
      expect(done.steps.map((s) => [s.seq, s.name, s.status, s.attempts, s.result])).toEqual([
        [1, "a", "completed", 1, 2],
        [2, "b", "completed", 1, 4],
        [3, "c", "completed", 1, 1],
      ]);
      expect(done.steps.every((s) => s.endedAt !== null && s.endedAt >= s.startedAt)).toBe(true);
    });

    it("starts a given id only once (the id is the idempotency key)", async () => {
      const first = await start("three", { n: 5 }, "same-id");
      const second = await start("three", { n: 6 }, "same-id");
      expect(first).toEqual({ id: "same-id", started: true });
      expect(second).toEqual({ id: "same-id", started: false });
      expect((await ended("same-id")).input).toEqual({ n: 5 });
    });

    it("sleeps durably and replays completed steps without running them again", async () => {
      const { id } = await start("sleeper");
      const waiting = await until(id, (r) => r.waitingFor === "timer");
      expect(waiting.state).toEqual({ phase: "sleeping" });
      await advance(30 * 60_000);
      expect((await run(id)).status).toBe("running");
      // Due now, once: later ticks would also expire the lease of a slow activation (on a loaded
      // machine), and its steps would run again, as at-least-once allows, but not what this counts.
      await advance(31 * 60_000);
      const done = await ended(id);
      expect(done.output).toBe("rested");
      expect(done.state).toEqual({ phase: "awake" });
      expect(await counter(`${id}:before`)).toBe(1);
      expect(await counter(`${id}:after`)).toBe(1);
    });

    it("retries a failing step with backoff and records the attempts", async () => {
      const { id } = await start("flaky", { failures: 2 });
      const done = await ended(id, 5000);
      expect(done.status).toBe("completed");
      expect(done.output).toMatchObject({ tries: 3, attempt: 3, key: `${id}:1:shaky` });
      expect(done.steps[0]).toMatchObject({ name: "shaky", status: "completed", attempts: 3 });
    });

    it("fails the run when retries run out, or at once on a non-retryable error", async () => {
      const exhausted = await start("flaky", { failures: 10 });
      const failed = await ended(exhausted.id, 5000);
      expect(failed.status).toBe("failed");
      expect(failed.error?.message).toContain("transient failure 3");
      expect(await counter(`${exhausted.id}:tries`)).toBe(3);
      const fatal = await start("flaky", { failures: 0, fatal: true });
      const stopped = await ended(fatal.id);
      expect(stopped.status).toBe("failed");
      expect(stopped.error?.message).toBe("no point retrying");
      expect(await counter(`${fatal.id}:tries`)).toBe(1);
    });

    it("delivers a signal that arrives while the run waits for it", async () => {
      const { id } = await start("signals", {});
      await until(id, (r) => r.waitingFor === "timer,signal:go");
      await engine().signal(id, "go", { note: "late" });
      expect((await ended(id)).output).toEqual({ got: "late" });
    });

    it("keeps a signal sent before the run waits for it", async () => {
      const { id } = await start("signals", { sleepFirst: true });
      await until(id, (r) => r.waitingFor === "timer");
      await engine().signal(id, "go", { note: "early" });
      expect((await ended(id, 11 * 60_000)).output).toEqual({ got: "early" });
    });

    it("times out a signal wait", async () => {
      const { id } = await start("signals", { timeout: "5m" });
      await until(id, (r) => r.waitingFor !== null);
      expect((await ended(id, 6 * 60_000)).output).toEqual({ timedOut: "signal_timeout" });
      await expect(engine().signal(id, "go", {})).rejects.toMatchObject({ code: "workflow_ended" });
    });

    it("runs parallel steps and journals them in call order", async () => {
      const { id } = await start("parallel");
      const done = await ended(id);
      expect(done.output).toEqual([0, 10, 20]);
      expect(done.steps.map((s) => s.name)).toEqual(["p0", "p1", "p2"]);
    });

    it("runs child workflows and passes their output or failure up", async () => {
      const ok = await start("parent", {});
      const done = await ended(ok.id);
      expect(done.output).toEqual({ fromChild: 42 });
      const children = (await engine().list({ name: "child" })).items.filter((item) =>
        item.id.startsWith(ok.id),
      );
      expect(children).toHaveLength(1);
      const bad = await start("parent", { fail: true });
      const failed = await ended(bad.id);
      expect(failed.status).toBe("failed");
      expect(failed.error?.code).toBe("child_failed");
    });

    it("compensates completed steps in reverse order when a later step fails", async () => {
      const { id } = await start("saga", { failAt: "end" });
      const failed = await ended(id);
      expect(failed.status).toBe("failed");
      expect(failed.steps.filter((s) => s.kind === "compensation").map((s) => s.name)).toEqual([
        "compensate:c",
        "compensate:b",
        "compensate:a",
      ]);
      const log = await t.node.deployment.apps[0]!.services.api<{
        tables: { get(t: string, k: object): Promise<{ entries?: string[] } | undefined> };
      }>("tables")!.tables.get("log", { id });
      expect(log?.entries).toEqual(["undo c", "undo b", "undo a"]);
    });

    it("compensates only what completed when a middle step fails", async () => {
      const { id } = await start("saga", { failAt: "b" });
      const failed = await ended(id);
      expect(failed.steps.filter((s) => s.kind === "compensation").map((s) => s.name)).toEqual([
        "compensate:a",
      ]);
    });

    it("cancels a waiting run, running its compensations", async () => {
      const { id } = await start("saga", { waitForSignal: true });
      await until(id, (r) => r.waitingFor === "signal:never");
      await engine().cancel(id);
      const cancelled = await ended(id);
      expect(cancelled.status).toBe("cancelled");
      expect(cancelled.steps.filter((s) => s.kind === "compensation")).toHaveLength(3);
    });

    it("commits a step's table writes exactly once with its checkpoint", async () => {
      const { id } = await start("exactly", { id: "stock-x" });
      await until(id, (r) => r.waitingFor === "timer");
      expect(await counter("stock-x")).toBe(5);
      await ended(id, 2 * 60_000);
      expect(await counter("stock-x")).toBe(5);
    });

    it("fails a run whose code no longer matches its journal, naming the step", async () => {
      await t.node.deployment.apps[0]!.services.api<{
        tables: { put(t: string, i: object): Promise<unknown> };
      }>("tables")!.tables.put("counters", { id: "variant", n: 1 });
      const { id } = await start("shifty");
      await until(id, (r) => r.waitingFor === "timer");
      await t.node.deployment.apps[0]!.services.api<{
        tables: { put(t: string, i: object): Promise<unknown> };
      }>("tables")!.tables.put("counters", { id: "variant", n: 2 });
      const failed = await ended(id, 2 * 60 * 60_000);
      expect(failed.status).toBe("failed");
      expect(failed.error?.code).toBe("workflow_nondeterministic");
      expect(failed.error?.message).toContain('"step-1"');
      expect(failed.error?.message).toContain('"step-2"');
    });

    it("refuses inputs over the payload limit and unknown workflows", async () => {
      await expect(start("three", { big: "x".repeat(300 * 1024) })).rejects.toMatchObject({
        code: "payload_too_large",
      });
      await expect(start("nope")).rejects.toMatchObject({ code: "not_found" });
    });

    it("lists runs with filters", async () => {
      const completed = await engine().list({ name: "three", status: "completed", limit: 100 });
      expect(completed.items.length).toBeGreaterThanOrEqual(2);
      expect(completed.items.every((item) => item.name === "three" && item.status === "completed")).toBe(
        true,
      );
      const page = await engine().list({ limit: 1 });
      expect(page.items).toHaveLength(1);
      const next = await engine().list({ limit: 1, cursor: page.cursor });
      expect(next.items[0]!.id).not.toBe(page.items[0]!.id);
    });

    it("leaves no activation behind once a run has ended, even one a late signal queued", async () => {
      const { id } = await start("slow-after-signal");
      await until(id, (r) => r.waitingFor === "signal:go");
      await engine().signal(id, "go", 1);
      // A second signal while the woken activation runs its slow step queues one more activation.
      await new Promise((resolve) => setTimeout(resolve, 100));
      await engine().signal(id, "go", 2);
      expect((await ended(id)).output).toBe("done");
      const store = t.node.deployment.apps[0]!.services.api<Store>("store")!;
      await eventually(async () => {
        const left = await store.read.all("SELECT id FROM cairn_messages WHERE key = ?", [id]);
        return left.length === 0 ? true : undefined;
      }, 5000);
    });

    it("journals finished steps while a later step still runs, and the rest with the outcome", async () => {
      const { id } = await start("slow-tail");
      const early = await until(id, (r) => r.steps.length > 0);
      expect(early.status).toBe("running");
      expect(early.steps.map((s) => s.name)).toEqual(["quick"]);
      expect((await ended(id)).steps.map((s) => [s.name, s.result])).toEqual([
        ["quick", 1],
        ["slow", 2],
      ]);
    });

    it("journals an activation's many quick steps with its outcome, in several statements", async () => {
      // 6,000 steps finish in one turn and travel with the outcome: 66,000 values, more than one
      // statement may bind on either database.
      const n = 6000;
      const { id } = await start("many", { n });
      const done = await engine().result(id, 20_000);
      expect(done).toMatchObject({ status: "completed", output: ((n - 1) * n) / 2 });
      expect(done.steps.map((s) => s.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(done.steps[n - 1]).toMatchObject({ name: `s${n - 1}`, status: "completed", result: n - 1 });
    });

    it("ignores the outcome of an activation that no longer holds the run", async () => {
      const { id } = await start("signals", {});
      const waiting = await until(id, (r) => r.waitingFor === "timer,signal:go");
      const record = {
        seq: 99,
        name: "stale",
        kind: "step" as const,
        status: "completed" as const,
        attempts: 1,
        result: "1",
        startedAt: 0,
        endedAt: 0,
      };
      const failed = { kind: "failed" as const, error: { name: "Error", code: "x", message: "stale" } };
      await engine().finish(id, 1_000_000, "0", failed, null, [record]);
      expect(await run(id)).toMatchObject({ status: "running", steps: waiting.steps });
      await engine().signal(id, "go", { note: "late" });
      const done = await ended(id);
      expect(done).toMatchObject({ status: "completed", output: { got: "late" } });
      // Nor does it touch a run that has ended.
      await engine().finish(id, 1_000_000, "0", failed, null, [record]);
      expect(await run(id)).toEqual(done);
    });

    it("answers result() as soon as the run ends, or with the running run at the timeout", async () => {
      const { id } = await start("signals", {});
      await until(id, (r) => r.waitingFor === "timer,signal:go");
      expect(await engine().result(id, 50)).toMatchObject({ id, status: "running" });
      const waiting = engine().result(id, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const sent = Date.now();
      await engine().signal(id, "go", { note: "now" });
      expect(await waiting).toMatchObject({ status: "completed", output: { got: "now" } });
      expect(Date.now() - sent).toBeLessThan(2000); // long before the 10 s wait would end
      await expect(engine().result("no-such-run", 100)).rejects.toMatchObject({ code: "not_found" });
    });

    it("serves the HTTP contract", async () => {
      const { id } = await start("signals", {});
      const got = await getJson(`${t.url}/_cairn/workflows/${id}`);
      expect([200, 401]).toContain(got.status);
    });
  });
}
