import type { AppConfig } from "./config.js";

/**
 * Apps make `ctx` typed from their configuration by registering it once:
 *
 *   // cairn.config.ts
 *   const config = defineConfig({ tables: { users: table<User>({ partitionKey: "id" }) } });
 *   export default config;
 *   declare module "cairn" { interface Register { config: typeof config } }
 *
 * Then `ctx.tables.users` is a Table<User> and a misspelt table name is a compile error.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- augmented by apps
export interface Register {}

export type RegisteredConfig = Register extends { config: infer Config extends AppConfig }
  ? Config
  : AppConfig;
