import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";
import { opsApp } from "./ops-app.js";

const token = "metrics-admin-token";
const auth = { authorization: `Bearer ${token}` };

type Family = ReturnType<typeof parsePrometheusTextFormat>[number];

describe("metrics at /_cairn/metrics, read with a Prometheus text-format parser", () => {
  let dir: string;
  let test: TestNode;

  let text = "";
  const scrape = async () => {
    const response = await fetch(`${test.url}/_cairn/metrics`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    text = await response.text();
    return parsePrometheusTextFormat(text);
  };
  /**
   * One labelled series of a histogram. The parser folds every series of a histogram family into
   * one (it handles unlabelled histograms only), so it is given that one series, labels removed.
   */
  const histogram = (name: string, labels: Record<string, string>) => {
    const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
    const lines = text
      .split("\n")
      .filter((line) => line.startsWith(`${name}_`) && wanted.every((label) => line.includes(label)))
      .map((line) =>
        line.replace(/\{([^}]*)\}/, (_all, inner: string) => {
          const le = /le="[^"]*"/.exec(inner);
          return le === null ? "" : `{${le[0]}}`;
        }),
      );
    const [parsed] = parsePrometheusTextFormat(`# TYPE ${name} histogram\n${lines.join("\n")}\n`);
    const series = parsed?.metrics[0];
    if (series?.buckets === undefined) throw new Error(`no series of ${name} with ${wanted.join(",")}`);
    return series as { buckets: Record<string, string>; count: string; sum: string };
  };
  const family = (families: Family[], name: string) => {
    const found = families.find((entry) => entry.name === name);
    if (found === undefined) throw new Error(`no metric family ${name}`);
    return found;
  };
  const sample = (families: Family[], name: string, labels: Record<string, string>) =>
    family(families, name).metrics.find((metric) =>
      Object.entries(labels).every(([key, value]) => metric.labels?.[key] === value),
    );

  beforeAll(async () => {
    dir = makeApp(opsApp);
    test = await startNode({ dir, env: { ...process.env, CAIRN_ADMIN_TOKEN: token } });
    for (let i = 0; i < 5; i++) expect((await fetch(`${test.url}/hello`)).status).toBe(200);
    expect((await fetch(`${test.url}/boom`, { method: "POST" })).status).toBe(500);
    expect((await fetch(`${test.url}/seed`, { method: "POST" })).status).toBe(204);
    await fetch(`${test.url}/jobs/j1`, { method: "POST" });
    const { body } = await getJson(`${test.url}/start/greet`, { method: "POST", body: "{}" });
    await eventually(async () => {
      const run = await getJson(`${test.url}/_cairn/workflows/${body.id}`, { headers: auth });
      return run.body.status === "completed" ? true : undefined;
    }, 15_000);
    const approval = await getJson(`${test.url}/start/approval`, { method: "POST", body: "{}" });
    await eventually(async () => {
      const run = await getJson(`${test.url}/_cairn/workflows/${approval.body.id}`, { headers: auth });
      return run.body.status === "failed" ? true : undefined;
    }, 15_000);
    await eventually(async () => {
      const dead = await getJson(`${test.url}/_cairn/queues/dead`, { headers: auth });
      return dead.body.items?.length === 1 ? true : undefined;
    }, 10_000);
  });
  afterAll(async () => {
    await test?.stop();
    removeApp(dir);
  });

  it("needs the admin token", async () => {
    expect((await fetch(`${test.url}/_cairn/metrics`)).status).toBe(401);
  });

  it("counts invocations by app, function, kind and status, with durations as histograms", async () => {
    const families = await scrape();
    expect(family(families, "cairn_invocations_total").type).toBe("COUNTER");
    const ok = sample(families, "cairn_invocations_total", {
      app: "ops",
      function: "hello",
      kind: "http",
      status: "ok",
    });
    expect(Number(ok?.value)).toBe(5);
    const failed = sample(families, "cairn_invocations_total", { function: "boom", status: "error" });
    expect(Number(failed?.value)).toBe(1);
    const errors = sample(families, "cairn_invocation_errors_total", {
      function: "boom",
      code: "function_error",
    });
    expect(Number(errors?.value)).toBe(1);
    const queue = sample(families, "cairn_invocations_total", {
      function: "worker",
      kind: "queue",
      status: "error",
    });
    expect(Number(queue?.value)).toBeGreaterThanOrEqual(1);

    expect(family(families, "cairn_invocation_duration_seconds").type).toBe("HISTOGRAM");
    const hello = histogram("cairn_invocation_duration_seconds", { function: "hello", kind: "http" });
    expect(Number(hello.count)).toBe(5);
    expect(Number(hello.buckets["+Inf"])).toBe(5);
    expect(Number(hello.sum)).toBeGreaterThan(0);
    // Buckets are cumulative: never decreasing with the bound.
    const counts = Object.entries(hello.buckets)
      .filter(([bound]) => bound !== "+Inf")
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, count]) => Number(count));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
  });

  it("reports instances, queue depth and dead letters, read at scrape time", async () => {
    const families = await scrape();
    const warm = sample(families, "cairn_function_instances", { function: "hello", state: "warm" });
    expect(Number(warm?.value)).toBeGreaterThanOrEqual(1);
    expect(sample(families, "cairn_function_instances", { function: "hello", state: "busy" })).toBeDefined();
    expect(Number(sample(families, "cairn_queue_dead_letters", { consumer: "q:jobs" })?.value)).toBe(1);
    expect(sample(families, "cairn_queue_messages", { consumer: "q:jobs", state: "ready" })).toBeDefined();
  });

  it("reports workflow runs by status and step retries", async () => {
    const families = await scrape();
    expect(
      Number(sample(families, "cairn_workflow_runs", { workflow: "greet", status: "completed" })?.value),
    ).toBe(1);
    expect(
      Number(sample(families, "cairn_workflow_runs", { workflow: "approval", status: "failed" })?.value),
    ).toBe(1);
    const retries = sample(families, "cairn_workflow_step_retries_total", {
      workflow: "greet",
      step: "flaky",
    });
    expect(Number(retries?.value)).toBe(1);
    const steps = sample(families, "cairn_workflow_steps_total", { workflow: "approval", status: "failed" });
    expect(Number(steps?.value)).toBe(1);
  });

  it("measures the store and the service calls, and counts cache hits and misses", async () => {
    const families = await scrape();
    expect(family(families, "cairn_store_duration_seconds").type).toBe("HISTOGRAM");
    const reads = histogram("cairn_store_duration_seconds", { app: "ops", operation: "read" });
    const transactions = histogram("cairn_store_duration_seconds", { app: "ops", operation: "transaction" });
    expect(Number(reads.count)).toBeGreaterThan(0);
    expect(Number(transactions.count)).toBeGreaterThan(0);
    const puts = histogram("cairn_service_call_duration_seconds", { service: "tables", operation: "put" });
    expect(Number(puts.count)).toBe(13);
    expect(Number(sample(families, "cairn_cache_requests_total", { result: "miss" })?.value)).toBe(1);
    expect(
      Number(sample(families, "cairn_cache_requests_total", { result: "hit" })?.value),
    ).toBeGreaterThanOrEqual(5);
    expect(Number(sample(families, "cairn_cache_entries", { app: "ops" })?.value)).toBe(1);
    expect(Number(sample(families, "cairn_cache_bytes", { app: "ops" })?.value)).toBeGreaterThan(0);
    expect(Number(sample(families, "process_resident_memory_bytes", {})?.value)).toBeGreaterThan(0);
  });
});
