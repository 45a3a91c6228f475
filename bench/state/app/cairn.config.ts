import { defineConfig, table } from "cairn";

const config = defineConfig({
  tables: {
    kv: table<{ id: string; value: string; at?: number; count?: number }>({ partitionKey: "id" }),
    feed: table<{ p: number; n: number; text: string }>({ partitionKey: "p", sortKey: "n" }),
  },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
