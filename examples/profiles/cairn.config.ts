import { defineConfig, table } from "cairn";

export interface Profile {
  handle: string;
  name: string;
  bio: string;
  /** Constant "profile": the partition of the newest-first listing index. */
  kind: "profile";
  createdAt: number;
  updatedAt: number;
}

const config = defineConfig({
  tables: {
    profiles: table<Profile>({
      partitionKey: "handle",
      indexes: { newest: { partitionKey: "kind", sortKey: "createdAt" } },
    }),
  },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
