// bench/workflows: a workflow of three sequential steps that do nothing, started and awaited by many
// concurrent clients, on Cairn (embedded SQLite, and PostgreSQL), on DBOS Transact (PostgreSQL) and
// on Restate (its own server), side by side in one run with the same load generator. Each side
// answers a POST by starting a run, waiting for it to complete and answering. Also the
// start-to-completion latency of one workflow at a time.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { arch, platform, tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, onPostgres } from "../lib/backends.mjs";
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
const cairnSchema = "cairn_bench_workflows";
const dbosDatabase = "dbos_bench";

function withDatabase(url, name) {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

/** A fresh schema for Cairn and a fresh database for DBOS, on the same server; false if it does not answer. */
/** Leave the server as the run found it. */
async function dropPostgresState() {
  await onPostgres(async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${cairnSchema} CASCADE`);
    await client.query(`DROP DATABASE IF EXISTS ${dbosDatabase} WITH (FORCE)`);
  });
}

async function resetPostgres() {
  const reset = await onPostgres(async (client) => {
    await client.query(`DROP SCHEMA IF EXISTS ${cairnSchema} CASCADE`);
    await client.query(`DROP DATABASE IF EXISTS ${dbosDatabase} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${dbosDatabase}`);
    return true;
  });
  return reset === true;
}

const benchRequire = createRequire(join(here, "..", "package.json"));

/** The restate-server binary its npm package ships for this platform, or undefined if not installed. */
function restateBinary() {
  try {
    benchRequire.resolve("@restatedev/restate-sdk");
    return benchRequire.resolve(`@restatedev/restate-server-${platform()}-${arch()}/bin/restate-server`);
  } catch {
    return undefined;
  }
}

/**
 * restate-server on 127.0.0.1 only (ingress, admin and node-to-node ports; no Unix sockets), on a
 * fresh base folder, in its default (durable) configuration otherwise, plus the bench service
 * (restate-service.mjs) registered with its admin API. Resolves once the ingress runs the handler.
 */
async function startRestate(binary, folder, ports) {
  mkdirSync(folder, { recursive: true });
  const config = join(folder, "restate.toml");
  writeFileSync(
    config,
    [
      `listen-mode = "tcp"`,
      `bind-address = "127.0.0.1:${ports.fabric}"`,
      `advertised-address = "http://127.0.0.1:${ports.fabric}/"`,
      `disable-telemetry = true`,
      `log-filter = "warn"`,
      `[ingress]`,
      `bind-address = "127.0.0.1:${ports.ingress}"`,
      `[admin]`,
      `bind-address = "127.0.0.1:${ports.admin}"`,
      `disable-web-ui = true`,
      ``,
    ].join("\n"),
  );
  const server = await startServer(
    binary,
    ["--config-file", config, "--base-dir", join(folder, "data"), "--node-name", "bench", "--no-logo"],
    `http://127.0.0.1:${ports.admin}/health`,
    { pollMs: 50 },
  );
  const service = spawn(process.execPath, [join(here, "restate-service.mjs"), String(ports.service)], {
    cwd: here,
    env: { ...process.env, RESTATE_LOGGING: "ERROR" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const serviceExited = once(service, "exit");
  const stopAll = async () => {
    if (service.exitCode === null) {
      service.kill("SIGTERM");
      // The SDK's server can wait on the HTTP/2 connections restate-server keeps open.
      const timer = setTimeout(() => service.kill("SIGKILL"), 5000);
      await serviceExited;
      clearTimeout(timer);
    }
    await server.stop();
  };
  try {
    // Registration fails until the service listens; the ingress answers 404 until it knows it.
    await until(async () => {
      const response = await fetch(`http://127.0.0.1:${ports.admin}/deployments`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ uri: `http://127.0.0.1:${ports.service}` }),
      });
      await response.arrayBuffer();
      return response.status < 300;
    });
    await until(async () => {
      const response = await fetch(`http://127.0.0.1:${ports.ingress}/bench/three`, { method: "POST" });
      await response.arrayBuffer();
      return response.status === 200;
    });
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { stop: stopAll };
}

async function until(check, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not answering yet
    }
    if (performance.now() > deadline) throw new Error("timed out waiting for Restate");
    await new Promise((resolve) => setTimeout(resolve, 50));
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
async function sequential(url, count, warmup) {
  const inside = [];
  const client = [];
  for (let i = 0; i < warmup + count; i++) {
    const started = performance.now();
    const response = await fetch(url, { method: "POST" });
    await response.text();
    if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
    if (i < warmup) continue;
    client.push(performance.now() - started);
    // Restate runs the handler in its own server: only the client's view exists there.
    const header = response.headers.get("x-start-to-completion-ms");
    if (header !== null) inside.push(Number(header));
  }
  const at = (values, q) => [...values].sort((a, b) => a - b)[Math.floor(values.length * q)];
  return {
    ...(inside.length > 0 && { p50: at(inside, 0.5), p99: at(inside, 0.99) }),
    httpP50: at(client, 0.5),
    httpP99: at(client, 0.99),
  };
}

export async function run() {
  const config = settings();
  const singleCount = Number(process.env.BENCH_SINGLE ?? 500);
  // Untimed runs first: after 50 the JIT had not settled (Cairn's p50 0.98–1.29 ms against 0.84–0.90).
  const singleWarmup = Number(process.env.BENCH_SINGLE_WARMUP ?? 500);
  const only = process.env.BENCH_SIDES?.split(",");
  const notes = [];
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-workflows-"));
  const cairnArgs = (port) => [
    ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : []),
    process.env.BENCH_CAIRN_BIN ?? join(repoRoot, "bin/cairn.js"),
    "start",
    join(here, "app"),
    "--port",
    String(port),
    "--log-level",
    "warn",
  ];
  const nodeSide = (port, args, env) => ({
    url: `http://127.0.0.1:${port}/run`,
    start: () => startServer(process.execPath, args, `http://127.0.0.1:${port}/`, { env }),
  });
  const wanted = (name) => only === undefined || only.includes(name);
  const sides = {};
  if (wanted("cairn"))
    sides.cairn = nodeSide(9341, [...cairnArgs(9341), "--data", join(data, "sqlite")], {
      CAIRN_DATABASE_URL: "",
    });
  if (wanted("cairn_postgres") || wanted("dbos")) {
    if (!(await resetPostgres()))
      notes.push(`PostgreSQL does not answer at ${databaseUrl}: the PostgreSQL sides are skipped`);
    else {
      if (wanted("cairn_postgres"))
        sides.cairn_postgres = nodeSide(9342, [...cairnArgs(9342), "--data", join(data, "postgres")], {
          CAIRN_DATABASE_URL: databaseUrl,
          CAIRN_DATABASE_SCHEMA: cairnSchema,
        });
      const dbos = wanted("dbos") && (await dbosInstalled());
      if (dbos)
        sides.dbos = nodeSide(
          9343,
          [join(here, "dbos-server.mjs"), "9343", withDatabase(databaseUrl, dbosDatabase)],
          {},
        );
      else if (wanted("dbos"))
        notes.push("DBOS is not installed (npm install --prefix bench): the DBOS side is skipped");
    }
  }
  if (wanted("restate")) {
    const binary = restateBinary();
    if (binary === undefined)
      notes.push("Restate is not installed (npm install --prefix bench): the Restate side is skipped");
    else {
      const ports = { ingress: 9344, admin: 9345, fabric: 9346, service: 9347 };
      sides.restate = {
        url: `http://127.0.0.1:${ports.ingress}/bench/three`,
        start: () => startRestate(binary, join(data, "restate"), ports),
      };
    }
  }
  for (const note of notes) progress(note);

  const servers = {};
  const rounds = Object.fromEntries(Object.keys(sides).map((name) => [name, []]));
  const single = {};
  try {
    for (const [name, side] of Object.entries(sides)) servers[name] = await side.start();
    for (const [name, side] of Object.entries(sides)) {
      single[name] = await sequential(side.url, singleCount, singleWarmup);
      const inside =
        single[name].p50 === undefined ? "" : `start to completion p50 ${single[name].p50.toFixed(2)} ms, `;
      progress(
        `${name}: one workflow at a time, ${inside}over HTTP p50 ${single[name].httpP50.toFixed(2)} ms`,
      );
    }
    for (let round = 1; round <= config.rounds; round++) {
      for (const [name, side] of Object.entries(sides)) {
        await load(side.url, { ...config, method: "POST", duration: config.warmup });
        const result = await load(side.url, { ...config, method: "POST" });
        rounds[name].push({ workflowsPerSec: result.rps, p50: result.p50, p99: result.p99 });
        progress(`round ${round}/${config.rounds} ${name}: ${Math.round(result.rps)} workflows/s`);
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    rmSync(data, { recursive: true, force: true });
    if (sides.cairn_postgres || sides.dbos) await dropPostgresState();
  }

  const results = {};
  for (const name of Object.keys(sides)) {
    results[name] = {
      ...medians(rounds[name]),
      ...(single[name].p50 !== undefined && { singleP50: single[name].p50, singleP99: single[name].p99 }),
      singleHttpP50: single[name].httpP50,
      singleHttpP99: single[name].httpP99,
    };
  }
  const ratios = {};
  for (const peer of ["dbos", "restate"]) {
    for (const name of ["cairn", "cairn_postgres"]) {
      if (rounds[name] !== undefined && rounds[peer] !== undefined)
        ratios[`${name}/${peer}`] = pairedRatio(rounds[name], rounds[peer], "workflowsPerSec");
    }
  }
  return report("workflows", results, ratios, {
    settings: { ...config, single: singleCount, singleWarmup },
    rounds,
    ...(notes.length > 0 && { notes }),
    perRoundRatios: Object.fromEntries(
      Object.keys(ratios).map((key) => {
        const [side, peer] = key.split("/");
        return [key, rounds[side].map((round, i) => round.workflowsPerSec / rounds[peer][i].workflowsPerSec)];
      }),
    ),
  });
}
