// bench/state: state operations from a function on warm instances, side by side with node:http
// handlers doing the same directly (better-sqlite3; PostgreSQL with pg; Redis with ioredis), and with
// Miniflare's KV, with the same load and settings. Cairn runs twice: on the embedded default (SQLite
// file, in-process cache) and scaled out (PostgreSQL and Redis).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, onPostgres, redisUrl } from "../lib/backends.mjs";
import { Redis } from "ioredis";
import { miniflareInstalled, notInstalled } from "../lib/cloudflare.mjs";
import {
  load,
  medians,
  pairedRatio,
  progress,
  repoRoot,
  report,
  settings,
  startServer,
} from "../lib/harness.mjs";

const here = new URL(".", import.meta.url).pathname;
const cairnSchema = "cairn_bench_state";
const directSchema = "bench_state_direct";
// Unique per run, so that keys of an earlier run (or another engineer's) never count.
const runId = `${process.pid}-${Date.now()}`;
const cairnRedisPrefix = `cairn-bench-state-${runId}:`;
const directRedisPrefix = `bench-state-direct-${runId}:`;

const table = ["direct_sqlite", "cairn", "cairn_scaleout", "direct_postgres"];
const cache = ["direct_sqlite", "cairn", "cairn_scaleout", "direct_redis"];
const blob = ["direct_sqlite", "cairn", "cairn_scaleout"];

/**
 * Each scenario: method and path (with [<id>] replaced per request by autocannon), the sides that run
 * it, and the ratios reported (ours/theirs).
 */
const scenarios = {
  get: { method: "GET", path: "/get/k[<id>]", sides: table },
  put: { method: "POST", path: "/put/k[<id>]", sides: table },
  getput: { method: "POST", path: "/getput/k[<id>]", sides: [...table, "miniflare_kv"] },
  query20: { method: "GET", path: "/query/3", sides: table },
  cache_get: { method: "GET", path: "/cache-get/c[<id>]", sides: cache },
  cache_set: { method: "POST", path: "/cache-set/c[<id>]", sides: cache },
  blob_put: { method: "POST", path: "/blob-put/b[<id>]", sides: blob },
  blob_get: { method: "GET", path: "/blob-get/b1", sides: blob },
};
const comparisons = [
  ["cairn", "direct_sqlite"],
  ["cairn", "miniflare_kv"],
  ["cairn_scaleout", "direct_postgres"],
  ["cairn_scaleout", "direct_redis"],
  ["cairn_scaleout", "miniflare_kv"],
];

async function seedBlob(url) {
  const response = await fetch(`${url}/blob-put/b1`, { method: "POST" });
  await response.arrayBuffer();
}

async function seed(url) {
  for (let p = 0; p < 10; p++) {
    await Promise.all(
      Array.from({ length: 100 }, (_, n) =>
        fetch(`${url}/seed/${p}/${n}`, { method: "POST" }).then((r) => r.arrayBuffer()),
      ),
    );
  }
}

/** Drops and makes anew both schemas; false if PostgreSQL does not answer. */
async function resetPostgres({ recreate }) {
  const reset = await onPostgres(async (client) => {
    // Cairn makes its own schema; the direct side's is made here.
    await client.query(`DROP SCHEMA IF EXISTS ${cairnSchema} CASCADE`);
    await client.query(`DROP SCHEMA IF EXISTS ${directSchema} CASCADE`);
    if (recreate) await client.query(`CREATE SCHEMA ${directSchema}`);
    return true;
  });
  return reset === true;
}

/** Whether Redis answers; with `clean`, deletes this run's keys. */
async function redisCheck({ clean }) {
  const redis = new Redis(redisUrl, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch {
    redis.disconnect();
    return false;
  }
  try {
    for (const prefix of clean ? [cairnRedisPrefix, directRedisPrefix] : []) {
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.unlink(...keys);
        cursor = next;
      } while (cursor !== "0");
    }
    return true;
  } finally {
    await redis.quit();
  }
}

export async function run() {
  const config = settings();
  const only = process.env.BENCH_SCENARIOS?.split(",") ?? Object.keys(scenarios);
  const onlySides = process.env.BENCH_SIDES?.split(",");
  const notes = [];
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-state-"));
  const cairnArgs = (port, dataDir) => [
    process.env.BENCH_CAIRN_BIN ?? join(repoRoot, "bin/cairn.js"),
    "start",
    join(here, "app"),
    "--port",
    String(port),
    "--log-level",
    "warn",
    "--data",
    join(data, dataDir),
  ];
  // `ready`: a path that answers 200 once the side serves.
  const sides = {
    direct_sqlite: { port: 9321, args: [join(here, "direct-sqlite.mjs"), "9321"], ready: "/get/warm" },
    cairn: {
      port: 9322,
      args: cairnArgs(9322, "cairn"),
      env: { CAIRN_DATABASE_URL: "", CAIRN_REDIS_URL: "" },
      ready: "/get/warm",
      seed: true,
    },
  };
  const wants = (name) => onlySides === undefined || onlySides.includes(name);
  const wantsPostgres = wants("cairn_scaleout") || wants("direct_postgres");
  const wantsRedis = wants("cairn_scaleout") || wants("direct_redis");
  const postgres = wantsPostgres && (await resetPostgres({ recreate: true }));
  const redis = wantsRedis && (await redisCheck({ clean: false }));
  if (wantsPostgres && !postgres)
    notes.push(
      `PostgreSQL does not answer at ${databaseUrl}: cairn_scaleout and direct_postgres are skipped`,
    );
  if (wantsRedis && !redis)
    notes.push(`Redis does not answer at ${redisUrl}: cairn_scaleout and direct_redis are skipped`);
  if (postgres && redis) {
    sides.cairn_scaleout = {
      port: 9323,
      args: cairnArgs(9323, "cairn_scaleout"),
      env: {
        CAIRN_DATABASE_URL: databaseUrl,
        CAIRN_DATABASE_SCHEMA: cairnSchema,
        CAIRN_REDIS_URL: redisUrl,
        CAIRN_REDIS_PREFIX: cairnRedisPrefix,
      },
      ready: "/get/warm",
      seed: true,
    };
  }
  if (postgres) {
    sides.direct_postgres = {
      port: 9324,
      args: [join(here, "direct-postgres.mjs"), "9324", databaseUrl, directSchema],
      ready: "/get/warm",
    };
  }
  if (redis) {
    sides.direct_redis = {
      port: 9325,
      args: [join(here, "direct-redis.mjs"), "9325", redisUrl, directRedisPrefix],
      ready: "/cache-get/warm",
    };
  }
  if (miniflareInstalled()) {
    sides.miniflare_kv = {
      port: 9326,
      args: [join(here, "miniflare-kv.mjs"), "9326", join(data, "miniflare")],
      ready: "/get/warm",
    };
  } else notes.push(`Miniflare ${notInstalled}: the miniflare_kv side is skipped`);
  notes.push(
    "workerd alone has no KV of its own (a kvNamespace binding forwards to a service that must " +
      "implement KV; Miniflare brings that service): the KV comparison is with Miniflare only",
  );
  for (const name of Object.keys(sides)) if (!wants(name)) delete sides[name];
  for (const note of notes) progress(note);

  const servers = {};
  const results = {};
  const ratios = {};
  const rounds = {};
  try {
    for (const [name, side] of Object.entries(sides)) {
      const url = `http://127.0.0.1:${side.port}`;
      servers[name] = await startServer(process.execPath, side.args, url + side.ready, { env: side.env });
      if (side.seed) await seed(url);
      if (scenarios.blob_get.sides.includes(name)) await seedBlob(url);
    }
    for (const scenario of only) {
      const { method, path, sides: names } = scenarios[scenario];
      const running = names.filter((name) => sides[name] !== undefined);
      const perSide = Object.fromEntries(running.map((name) => [name, []]));
      for (let round = 1; round <= config.rounds; round++) {
        for (const name of running) {
          const url = `http://127.0.0.1:${sides[name].port}${path}`;
          const options = { ...config, method, idReplacement: true };
          await load(url, { ...options, duration: config.warmup });
          const result = await load(url, options);
          perSide[name].push(result);
          progress(`${scenario} round ${round}/${config.rounds} ${name}: ${Math.round(result.rps)} req/s`);
        }
      }
      for (const name of running) results[`${scenario}_${name}`] = medians(perSide[name]);
      rounds[scenario] = perSide;
      for (const [ours, theirs] of comparisons) {
        if (perSide[ours] && perSide[theirs])
          ratios[`${ours}/${theirs}:${scenario}`] = pairedRatio(perSide[ours], perSide[theirs]);
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    rmSync(data, { recursive: true, force: true });
    if (postgres) await resetPostgres({ recreate: false });
    if (redis) await redisCheck({ clean: true });
  }
  return report("state", results, ratios, {
    settings: config,
    rounds,
    ...(notes.length > 0 && { notes }),
  });
}
