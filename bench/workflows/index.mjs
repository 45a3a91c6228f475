// bench/workflows: a workflow of three sequential steps that do nothing, started and awaited by many
// concurrent clients, on Cairn (embedded SQLite, and PostgreSQL) and on DBOS Transact (PostgreSQL),
// side by side in one run with the same load generator. Each side serves POST /run: start a run,
// wait for it to complete, answer. Also the start-to-completion latency of one workflow at a time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
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
const databaseUrl = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const cairnSchema = "cairn_bench_workflows";
const dbosDatabase = "dbos_bench";

function withDatabase(url, name) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A fresh schema for Cairn and a fresh database for DBOS, on the same server; false if it does not answer. */
async function resetPostgres() {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
  } catch {
    return false;
  }
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${cairnSchema} CASCADE`);
    await client.query(`DROP DATABASE IF EXISTS ${dbosDatabase} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${dbosDatabase}`);
    return true;
  } finally {
    await client.end();
  }
}

async function dbosInstalled() {
  try {
    await import(join(here, "..", "node_modules", "@dbos-inc", "dbos-sdk", "package.json"), {
      with: { type: "json" },
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * One workflow at a time over a kept-alive connection: start-to-completion inside the server (the
 * x-start-to-completion-ms header: start call to result) and as the HTTP client sees it.
 */
async function sequential(url, count, warmup = 50) {
  const inside = [];
  const client = [];
  for (let i = 0; i < warmup + count; i++) {
    const started = performance.now();
    const response = await fetch(url, { method: "POST" });
    await response.text();
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    if (i < warmup) continue;
    client.push(performance.now() - started);
    inside.push(Number(response.headers.get("x-start-to-completion-ms")));
  }
  const at = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)];
  return { p50: at(inside, 0.5), p99: at(inside, 0.99), httpP50: at(client, 0.5), httpP99: at(client, 0.99) };
}

export async function run() {
  const config = settings();
  const singleCount = Number(process.env.BENCH_SINGLE ?? 500);
  const only = process.env.BENCH_SIDES?.split(",");
  const notes = [];
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-workflows-"));
  const cairnArgs = (port) => [
    join(repoRoot, "bin/cairn.js"),
    "start",
    join(here, "app"),
    "--port",
    String(port),
    "--log-level",
    "warn",
  ];
  const sides = {
    cairn: {
      port: 9341,
      args: [...cairnArgs(9341), "--data", join(data, "sqlite")],
      env: { CAIRN_DATABASE_URL: "" },
    },
  };
  const postgres = (only === undefined || only.some((side) => side !== "cairn")) && (await resetPostgres());
  if (!postgres) notes.push(`PostgreSQL does not answer at ${databaseUrl}: the PostgreSQL sides are skipped`);
  else {
    sides.cairn_postgres = {
      port: 9342,
      args: [...cairnArgs(9342), "--data", join(data, "postgres")],
      env: { CAIRN_DATABASE_URL: databaseUrl, CAIRN_DATABASE_SCHEMA: cairnSchema },
    };
    if (await dbosInstalled()) {
      sides.dbos = {
        port: 9343,
        args: [join(here, "dbos-server.mjs"), "9343", withDatabase(databaseUrl, dbosDatabase)],
        env: {},
      };
    } else notes.push("DBOS is not installed (npm install --prefix bench): the DBOS side is skipped");
  }
  for (const name of Object.keys(sides)) if (only !== undefined && !only.includes(name)) delete sides[name];
  for (const note of notes) progress(note);

  const servers = {};
  const rounds = Object.fromEntries(Object.keys(sides).map((name) => [name, []]));
  const single = {};
  try {
    for (const [name, side] of Object.entries(sides)) {
      servers[name] = await startServer(process.execPath, side.args, `http://127.0.0.1:${side.port}/`, {
        env: side.env,
      });
    }
    for (const [name, side] of Object.entries(sides)) {
      single[name] = await sequential(`http://127.0.0.1:${side.port}/run`, singleCount);
      progress(
        `${name}: one workflow at a time, start to completion p50 ${single[name].p50.toFixed(2)} ms ` +
          `(over HTTP ${single[name].httpP50.toFixed(2)} ms)`,
      );
    }
    for (let round = 1; round <= config.rounds; round++) {
      for (const [name, side] of Object.entries(sides)) {
        const url = `http://127.0.0.1:${side.port}/run`;
        await load(url, { ...config, method: "POST", duration: config.warmup });
        const result = await load(url, { ...config, method: "POST" });
        rounds[name].push({ workflowsPerSec: result.rps, p50: result.p50, p99: result.p99 });
        progress(`round ${round}/${config.rounds} ${name}: ${Math.round(result.rps)} workflows/s`);
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    rmSync(data, { recursive: true, force: true });
  }

  const results = {};
  for (const name of Object.keys(sides)) {
    results[name] = {
      ...medians(rounds[name]),
      singleP50: single[name].p50,
      singleP99: single[name].p99,
      singleHttpP50: single[name].httpP50,
      singleHttpP99: single[name].httpP99,
    };
  }
  const ratios = {};
  for (const name of ["cairn", "cairn_postgres"]) {
    if (rounds[name] !== undefined && rounds.dbos !== undefined)
      ratios[`${name}/dbos`] = pairedRatio(rounds[name], rounds.dbos, "workflowsPerSec");
  }
  return report("workflows", results, ratios, {
    settings: { ...config, single: singleCount },
    rounds,
    ...(notes.length > 0 && { notes }),
    perRoundRatios: Object.fromEntries(
      Object.keys(ratios).map((key) => {
        const side = key.split("/")[0];
        return [key, rounds[side].map((round, i) => round.workflowsPerSec / rounds.dbos[i].workflowsPerSec)];
      }),
    ),
  });
}
