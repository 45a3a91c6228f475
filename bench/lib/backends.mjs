// Where the benchmarks' PostgreSQL and Redis are, and what every benchmark does with them: run a
// few statements, drop the schemas its sides used, find a free port for a server.
import { createServer } from "node:net";
import pg from "pg";

export const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
export const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/** `work` with a client on BENCH_DATABASE_URL; undefined, without running it, if the server does not answer. */
export async function onPostgres(work) {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch {
    return undefined;
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Drop these schemas (Cairn makes a side's schema anew when it starts); false if PostgreSQL does not answer. */
export async function dropSchemas(...schemas) {
  const dropped = await onPostgres(async (client) => {
    for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    return true;
  });
  return dropped === true;
}

/** A loopback port nothing listens on now (other benchmarks may be running on this machine). */
export async function freePort() {
  const server = createServer().listen(0, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}
