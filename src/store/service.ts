import { join } from "node:path";
import type { ServiceProvider } from "../host/services.js";
import { PostgresStore, mask } from "./postgres/store.js";
import { SqliteStore } from "./sqlite/store.js";
import { timedStore } from "../telemetry/timed-store.js";
import type { Store } from "./types.js";

/** The PostgreSQL schema of an app: CAIRN_DATABASE_SCHEMA for a single app, else cairn_<app>. */
export function schemaFor(app: string, env: NodeJS.ProcessEnv): string {
  return env.CAIRN_DATABASE_SCHEMA ?? `cairn_${app.toLowerCase().replace(/[^a-z0-9_]/g, "_")}`.slice(0, 63);
}

/**
 * Stores open in this process, shared by the deployments of one app: a hot reload opens the new
 * deployment while the old one drains, and two SQLite writers on one file would only wait on
 * each other.
 */
const open = new Map<string, { store: Promise<Store>; users: number }>();

async function acquire(id: string, create: () => Promise<Store>): Promise<Store> {
  let entry = open.get(id);
  if (entry === undefined) {
    entry = { store: create(), users: 0 };
    open.set(id, entry);
    entry.store.catch(() => open.delete(id));
  }
  entry.users++;
  return entry.store;
}

async function release(id: string): Promise<void> {
  const entry = open.get(id);
  if (entry === undefined || --entry.users > 0) return;
  open.delete(id);
  await (await entry.store).close();
}

/**
 * The durable store every other stateful service builds on: a SQLite file in the app's data
 * folder, or a schema in the PostgreSQL database named by CAIRN_DATABASE_URL.
 */
export const storeProvider: ServiceProvider = {
  name: "store",
  async open({ app, env, logger, telemetry }) {
    const url = env.CAIRN_DATABASE_URL;
    let id: string;
    let create: () => Promise<Store>;
    if (url) {
      const schema = schemaFor(app.name, env);
      const poolSize = env.CAIRN_DATABASE_POOL_SIZE ? Number(env.CAIRN_DATABASE_POOL_SIZE) : undefined;
      id = `postgres:${url}:${schema}`;
      create = () => PostgresStore.open({ url, schema, poolSize });
      logger.debug({ database: mask(url), schema }, "store: PostgreSQL");
    } else {
      const file = join(app.dataDir, "cairn.db");
      id = `sqlite:${file}`;
      create = () => Promise.resolve(SqliteStore.open(file));
      logger.debug({ file }, "store: SQLite");
    }
    const store = await acquire(id, create);
    // Timed for cairn_store_duration_seconds; the shared store itself stays unwrapped.
    const api = telemetry === undefined ? store : timedStore(store, telemetry, app.name);
    return { api, operations: {}, close: () => release(id) };
  },
};
