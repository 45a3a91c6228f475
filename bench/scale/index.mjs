// bench/scale: does throughput hold as the store fills up? The same two operations (a table get+put
// per request on random keys, and the three-step workflow started and awaited) against an EMPTY
// store and a FULL one (1,000,000 table items, 100,000 finished workflows), side by side in one run.
// The full store is seeded through Cairn's own API (table transactions of 100 puts, workflows run
// to their end), once per run, or once for many runs with BENCH_SCALE_SEED_DIR.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { databaseUrl, dropSchemas, freePort, onPostgres } from "../lib/backends.mjs";
import {
  load,
  median,
  pairedRatio,
  progress,
  repoRoot,
  report,
  settings,
  startServer,
} from "../lib/harness.mjs";

const here = new URL(".", import.meta.url).pathname;
const app = join(here, "app");
/** `sqlite` (the embedded default) or `postgres`: where both sides keep their state. */
const storeKind = process.env.BENCH_SCALE_STORE ?? "sqlite";
const schemaPrefix = `cairn_bench_scale_${process.pid}`;

function sizes() {
  return {
    items: Number(process.env.BENCH_SCALE_ITEMS ?? 1_000_000),
    workflows: Number(process.env.BENCH_SCALE_WORKFLOWS ?? 100_000),
  };
}

/** A Cairn server on `data`; on PostgreSQL its state goes to `schema` instead of the folder's file. */
function startCairn(port, data, schema) {
  const args = [join(repoRoot, "bin/cairn.js"), "start", app, "--port", String(port), "--log-level", "warn"];
  const env =
    storeKind === "postgres"
      ? { CAIRN_DATABASE_URL: databaseUrl, CAIRN_DATABASE_SCHEMA: schema }
      : { CAIRN_DATABASE_URL: "" };
  return startServer(process.execPath, [...args, "--data", data], `http://127.0.0.1:${port}/`, { env });
}

async function post(url) {
  const response = await fetch(url, { method: "POST" });
  const text = await response.text();
  if (response.status !== 204) throw new Error(`${url}: ${response.status} ${text}`);
}

/** Run `count` units of seeding in chunks, `parallel` requests at a time, printing progress. */
async function seedInChunks(label, count, chunk, parallel, request) {
  const started = performance.now();
  let next = 0;
  let done = 0;
  let reported = 0;
  const lane = async () => {
    while (next < count) {
      const from = next;
      const size = Math.min(chunk, count - from);
      next += size;
      await request(from, size);
      done += size;
      const seconds = (performance.now() - started) / 1000;
      if (done - reported >= count / 20 || done === count) {
        reported = done;
        const rate = done / seconds;
        progress(
          `seeding ${label}: ${done.toLocaleString("en")}/${count.toLocaleString("en")} ` +
            `(${Math.round(rate).toLocaleString("en")}/s, ${Math.round((count - done) / rate)} s to go)`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, lane));
  return (performance.now() - started) / 1000;
}

/** What the seeded store holds: read from its SQLite file (the server is stopped), or its schema. */
async function census(data, schema) {
  if (storeKind === "postgres") {
    const counted = await onPostgres(async (client) => {
      const count = async (sql) => Number((await client.query(sql)).rows[0].n);
      return {
        items: await count(`SELECT count(*) AS n FROM ${schema}.cairn_items WHERE tbl = 'kv'`),
        workflows: await count(`SELECT count(*) AS n FROM ${schema}.cairn_workflows`),
        completed: await count(
          `SELECT count(*) AS n FROM ${schema}.cairn_workflows WHERE name = 'three' AND status = 'completed'`,
        ),
        megabytes:
          Number(
            (
              await client.query(
                `SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) AS n FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind = 'r'`,
                [schema],
              )
            ).rows[0].n,
          ) /
          2 ** 20,
      };
    });
    if (counted === undefined) throw new Error(`PostgreSQL does not answer at ${databaseUrl}`);
    return counted;
  }
  const db = new Database(join(data, "cairn.db"), { readonly: true });
  try {
    const items = db.prepare("SELECT count(*) AS n FROM cairn_items WHERE tbl = 'kv'").get().n;
    const completed = db
      .prepare("SELECT count(*) AS n FROM cairn_workflows WHERE name = 'three' AND status = 'completed'")
      .get().n;
    const workflows = db.prepare("SELECT count(*) AS n FROM cairn_workflows").get().n;
    return { items, workflows, completed, megabytes: statSync(join(data, "cairn.db")).size / 2 ** 20 };
  } finally {
    db.close();
  }
}

/**
 * A data folder holding the seeded store: made in `dir` through a Cairn server, or reused if `dir`
 * already holds a seed of the same sizes.
 */
async function seeded(dir, want, schema) {
  const marker = join(dir, "seed.json");
  if (storeKind === "sqlite" && existsSync(marker)) {
    const seed = JSON.parse(readFileSync(marker, "utf8"));
    if (seed.items === want.items && seed.workflows === want.workflows) {
      progress(`reusing the seeded store in ${dir} (seeded in ${Math.round(seed.seconds)} s)`);
      return { ...seed, reused: true };
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const data = join(dir, "data");
  const port = await freePort();
  const server = await startCairn(port, data, schema);
  const url = `http://127.0.0.1:${port}`;
  let itemSeconds;
  let workflowSeconds;
  try {
    // 10,000 items a request (transactions of 100, 10 in flight each), 4 requests at a time.
    itemSeconds = await seedInChunks("table items", want.items, 10_000, 4, (from, size) =>
      post(`${url}/seed/items/${from}/${size}`),
    );
    // 500 runs a request (25 in flight each), 4 requests at a time: 100 runs in flight.
    workflowSeconds = await seedInChunks("finished workflows", want.workflows, 500, 4, (_from, size) =>
      post(`${url}/seed/workflows/${size}`),
    );
  } finally {
    await server.stop();
  }
  const counted = await census(data, schema);
  if (
    counted.items !== want.items ||
    counted.completed !== want.workflows ||
    counted.workflows !== want.workflows
  )
    throw new Error(`the seeded store holds ${JSON.stringify(counted)}, not ${JSON.stringify(want)}`);
  const seed = { ...want, itemSeconds, workflowSeconds, seconds: itemSeconds + workflowSeconds, ...counted };
  if (storeKind === "sqlite") writeFileSync(marker, JSON.stringify(seed));
  return { ...seed, reused: false };
}

/** The measured operations; getput's keys are drawn from the seeded range on both stores. */
function operations(items) {
  return {
    getput: {
      metric: "opsPerSec",
      requests: [
        {
          method: "POST",
          setupRequest: (request) => ({ ...request, path: `/getput/k${Math.floor(Math.random() * items)}` }),
        },
      ],
      path: "/getput/k0",
    },
    workflow: { metric: "workflowsPerSec", requests: [{ method: "POST" }], path: "/run" },
  };
}

export async function run() {
  const config = settings();
  const want = sizes();
  const keep = process.env.BENCH_SCALE_SEED_DIR;
  const work = mkdtempSync(join(tmpdir(), "cairn-bench-scale-"));
  const seedDir = (storeKind === "sqlite" && keep) || join(work, "seed");
  const notes = [];
  if (storeKind !== "sqlite" && storeKind !== "postgres")
    throw new Error(`BENCH_SCALE_STORE must be sqlite or postgres, not ${storeKind}`);
  // On PostgreSQL the full side works on the seeded schema itself, and every empty side on a schema
  // of its own; all of them are dropped at the end.
  const schemas = [];
  const schemaFor = (name) => {
    const schema = `${schemaPrefix}_${name}`;
    schemas.push(schema);
    return schema;
  };
  if (storeKind === "postgres") {
    if (keep !== undefined) notes.push("BENCH_SCALE_SEED_DIR applies to the embedded store only");
    notes.push(`on PostgreSQL (${databaseUrl.replace(/:[^:@/]*@/, ":***@")}), schemas ${schemaPrefix}_*`);
  }
  const fullSchema = schemaFor("full");
  const rounds = { getput: { empty: [], full: [] }, workflow: { empty: [], full: [] } };
  let seed;
  const servers = {};
  try {
    seed = await seeded(seedDir, want, fullSchema);
    progress(
      `seeded store: ${seed.items.toLocaleString("en")} items, ${seed.workflows.toLocaleString("en")} ` +
        `finished workflows, ${Math.round(seed.megabytes)} MB (items ${Math.round(seed.itemSeconds)} s, ` +
        `workflows ${Math.round(seed.workflowSeconds)} s)`,
    );
    // The full side works on a copy, so a kept seed stays exactly as seeded from run to run.
    cpSync(join(seedDir, "data"), join(work, "full"), { recursive: true });
    const ports = { full: await freePort() };
    servers.full = await startCairn(ports.full, join(work, "full"), fullSchema);
    const ops = operations(want.items);
    for (let round = 1; round <= config.rounds; round++) {
      for (const [name, op] of Object.entries(ops)) {
        // A fresh empty store for every measurement: what the empty side writes never piles up.
        const emptyData = join(work, `empty-${round}-${name}`);
        ports.empty = await freePort();
        servers.empty = await startCairn(ports.empty, emptyData, schemaFor(`empty_${round}_${name}`));
        // Alternate which side goes first, so neither always runs on the warmer machine.
        const order = round % 2 === 1 ? ["empty", "full"] : ["full", "empty"];
        for (const side of order) {
          const url = `http://127.0.0.1:${ports[side]}${op.path}`;
          const options = { ...config, requests: op.requests };
          await load(url, { ...options, duration: config.warmup });
          const result = await load(url, options);
          rounds[name][side].push({ [op.metric]: result.rps, p50: result.p50, p99: result.p99 });
          progress(`round ${round}/${config.rounds} ${name} ${side}: ${Math.round(result.rps)}/s`);
        }
        await servers.empty.stop();
        delete servers.empty;
        rmSync(emptyData, { recursive: true, force: true });
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    rmSync(work, { recursive: true, force: true });
    if (storeKind === "postgres") await dropSchemas(...schemas);
  }

  const results = {};
  const ratios = {};
  const perRoundRatios = {};
  for (const [name, op] of Object.entries(operations(want.items))) {
    for (const side of ["empty", "full"]) {
      const list = rounds[name][side];
      results[`${name}_${side}`] = Object.fromEntries(
        Object.keys(list[0]).map((key) => [key, median(list.map((r) => r[key]))]),
      );
    }
    ratios[`full/empty:${name}`] = pairedRatio(rounds[name].full, rounds[name].empty, op.metric);
    perRoundRatios[name] = rounds[name].full.map((r, i) => r[op.metric] / rounds[name].empty[i][op.metric]);
  }
  if (keep === undefined) notes.push("the seeded store was made for this run and removed after it");
  return report("scale", results, ratios, {
    settings: { ...config, ...want, store: storeKind },
    seed: {
      seconds: Math.round(seed.seconds),
      itemSeconds: Math.round(seed.itemSeconds),
      workflowSeconds: Math.round(seed.workflowSeconds),
      megabytes: Math.round(seed.megabytes),
      reused: seed.reused,
    },
    rounds,
    perRoundRatios,
    ...(notes.length > 0 && { notes }),
  });
}
