import { defineConfig, queue } from "cairn";

const config = defineConfig({
  queues: {
    // Large batches: one invocation (and one completion commit) per 100 messages.
    work: queue<{ n: number }>({ batchSize: 100 }),
  },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
