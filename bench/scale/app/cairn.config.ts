import { defineConfig, table } from "cairn";

const config = defineConfig({
  tables: {
    kv: table<{ id: string; value: string; count: number }>({ partitionKey: "id" }),
  },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
