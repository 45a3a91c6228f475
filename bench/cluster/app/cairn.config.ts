import { defineConfig, queue, table } from "cairn";

const config = defineConfig({
  tables: {
    kv: table<{ id: string; value: string; count?: number }>({ partitionKey: "id" }),
  },
  queues: {
    // Large batches: one invocation (and one acknowledging commit) per 100 messages.
    work: queue<{ n: number }>({ batchSize: 100 }),
  },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
