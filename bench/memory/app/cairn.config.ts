import { defineConfig } from "cairn";

// The benchmark starts this app once per instance count, so the count comes from the environment.
// One invocation per instance, so that a burst of N slow requests reaches N different instances.
const instances = Number(process.env.BENCH_MEMORY_INSTANCES ?? 1);
export default defineConfig({
  functions: { minInstances: instances, maxInstances: instances, concurrency: 1 },
});
