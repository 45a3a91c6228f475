import type { Registry } from "../metrics/registry.js";
import type { Deployment } from "../runtime/deployment.js";
import type { Store } from "../store/types.js";
import { runCounts } from "../workflows/inspect.js";
import type { OtlpExporter } from "./otlp.js";

interface CacheStats {
  stats?: () => { entries: number; locks: number; bytes: number; maxBytes: number };
}

/**
 * Gauges read at scrape time, so nothing on a hot path keeps them: instances and in-flight
 * invocations per function, workflow runs per status (counted in each app's store), the embedded
 * caches' size, the process, and trace export.
 */
export function registerCollectors(
  registry: Registry,
  deployment: () => Deployment | undefined,
  exporter: OtlpExporter | undefined,
): void {
  const instances = registry.gauge(
    "cairn_function_instances",
    "Instances per function: warm (started and serving) and busy (running at least one invocation).",
  );
  const inflight = registry.gauge(
    "cairn_function_invocations_in_flight",
    "Invocations running now per function.",
  );
  const runs = registry.gauge("cairn_workflow_runs", "Workflow runs in the store per workflow and status.");
  const cacheBytes = registry.gauge(
    "cairn_cache_bytes",
    "Estimated bytes held by the embedded cache per app.",
  );
  const cacheEntries = registry.gauge("cairn_cache_entries", "Entries in the embedded cache per app.");
  const cacheMax = registry.gauge("cairn_cache_max_bytes", "The embedded cache's memory bound per app.");
  const memory = registry.gauge("process_resident_memory_bytes", "Resident memory of the node's process.");
  const heap = registry.gauge("nodejs_heap_used_bytes", "V8 heap in use on the node's main thread.");
  const cpu = registry.counter(
    "process_cpu_seconds_total",
    "CPU time of the node's process (user and system).",
  );
  const spans = registry.gauge(
    "cairn_trace_spans",
    "Spans exported to the OTLP endpoint, or dropped (result).",
  );

  registry.collect(async () => {
    instances.reset();
    inflight.reset();
    runs.reset();
    cacheBytes.reset();
    cacheEntries.reset();
    cacheMax.reset();
    const current = deployment();
    for (const { app, pool } of current?.targets ?? []) {
      const labels = { app: app.name, function: pool.name };
      const warm = pool.instances.filter((instance) => instance.ready && !instance.retiring);
      instances.set({ ...labels, state: "warm" }, warm.length);
      instances.set({ ...labels, state: "busy" }, warm.filter((instance) => instance.busy > 0).length);
      inflight.set(labels, pool.busy);
    }
    for (const { app, services } of current?.apps ?? []) {
      const store = services.api<Store>("store");
      if (store !== undefined && services.api("workflows") !== undefined) {
        for (const { name, status, count } of await runCounts(store)) {
          runs.set({ app: app.name, workflow: name, status }, count);
        }
      }
      const stats = services.api<CacheStats>("cache")?.stats?.();
      if (stats !== undefined) {
        cacheBytes.set({ app: app.name }, stats.bytes);
        cacheEntries.set({ app: app.name }, stats.entries);
        cacheMax.set({ app: app.name }, stats.maxBytes);
      }
    }
    memory.set({}, process.memoryUsage.rss());
    heap.set({}, process.memoryUsage().heapUsed);
    const usage = process.cpuUsage();
    cpu.series().value = (usage.user + usage.system) / 1e6;
    if (exporter !== undefined) {
      spans.set({ result: "exported" }, exporter.exported);
      spans.set({ result: "dropped" }, exporter.dropped);
    }
  });
}
