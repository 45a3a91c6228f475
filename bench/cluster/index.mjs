// bench/cluster: throughput of Cairn scaled out over PostgreSQL (+ Redis) with 1, 2 and 3 identical
// nodes, for a table get+put per request, a three-step workflow started and awaited per request, and
// queue messages end to end; with the CPU each process takes while it runs, so that the write-up can
// say what saturates. Every node count runs back to back in each round with the same load settings.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import pg from "pg";
import { databaseUrl, redisUrl } from "../lib/backends.mjs";
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
const basePort = 9361;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Jiffies per second of /proc's CPU times (USER_HZ; 100 on every Linux we run on). */
const hz = 100;

/** CPU seconds (user + system, every thread) a process has used, from /proc; undefined if gone. */
function cpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / hz;
  } catch {
    return undefined;
  }
}

/** Every PostgreSQL server process on this machine (postmaster, backends, WAL writer, ...). */
function postgresPids() {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "postgres") pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function redisPids() {
  const pids = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, "utf8").trim() === "redis-server") pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/**
 * The whole machine's busy and total CPU seconds, from /proc/stat (iowait counts as idle), and the
 * interrupt time in it: loopback networking runs largely in softirqs, charged to no process.
 */
function machineSeconds() {
  const [, ...times] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/);
  const values = times.map(Number);
  const total = values.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = values[3] + values[4];
  return { busy: (total - idle) / hz, total: total / hz, irq: (values[5] + values[6]) / hz };
}

/**
 * A CPU meter over one measured window. PostgreSQL is counted twice: every server process (which
 * includes whatever else on the machine uses the server), and only the backends of our nodes,
 * found by the application_name each node connects with.
 */
class CpuMeter {
  constructor(admin, appName, nodePids) {
    this.admin = admin;
    this.appName = appName;
    this.nodePids = nodePids;
  }

  snapshot() {
    const of = (pids) => new Map(pids.map((pid) => [pid, cpuSeconds(pid)]));
    return {
      at: performance.now(),
      nodes: of(this.nodePids),
      postgres: of(postgresPids()),
      redis: of(redisPids()),
      self: process.cpuUsage(),
      machine: machineSeconds(),
    };
  }

  /** Commits in this database and WAL flushes of the whole server, so far (flushed every ~1 s). */
  async pgCounters() {
    const { rows } = await this.admin.query(
      "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits, " +
        "(SELECT wal_sync FROM pg_stat_wal) AS syncs",
    );
    return { commits: Number(rows[0].commits), syncs: Number(rows[0].syncs) };
  }

  async start() {
    this.pgBefore = await this.pgCounters();
    this.before = this.snapshot();
  }

  /** CPU in cores (CPU seconds per second of wall time) for each part, since start(). */
  async stop() {
    const after = this.snapshot();
    const before = this.before;
    const pgAfter = await this.pgCounters();
    const seconds = (after.at - before.at) / 1000;
    // A process that started inside the window counts from zero; one that ended is lost (rare).
    const delta = (a, b, pids = [...a.keys()]) =>
      pids.reduce((sum, pid) => sum + ((a.get(pid) ?? 0) - (b.get(pid) ?? 0) || 0), 0);
    const ours = await this.admin.query("SELECT pid FROM pg_stat_activity WHERE application_name LIKE $1", [
      `${this.appName}%`,
    ]);
    const cores = (value) => value / seconds;
    const machine = {
      busy: after.machine.busy - before.machine.busy,
      total: after.machine.total - before.machine.total,
      irq: after.machine.irq - before.machine.irq,
    };
    const cpu = {
      nodes: cores(delta(after.nodes, before.nodes)),
      postgres: cores(delta(after.postgres, before.postgres)),
      postgresOurs: cores(
        delta(
          after.postgres,
          before.postgres,
          ours.rows.map((row) => row.pid),
        ),
      ),
      redis: cores(delta(after.redis, before.redis)),
      loadgen: cores((after.self.user + after.self.system - before.self.user - before.self.system) / 1e6),
      // Busy cores of the whole machine, and the same as a share of every core.
      irq: cores(machine.irq),
      machineBusy: cores(machine.busy),
      machineBusyShare: machine.busy / machine.total,
    };
    // Database-wide: includes any other client of this database. Commits per WAL flush show how
    // much group commit is sharing each fsync.
    cpu.commitsPerSec = (pgAfter.commits - this.pgBefore.commits) / seconds;
    cpu.walFlushesPerSec = (pgAfter.syncs - this.pgBefore.syncs) / seconds;
    cpu.other = Math.max(0, cpu.machineBusy - cpu.nodes - cpu.postgres - cpu.redis - cpu.loadgen - cpu.irq);
    return cpu;
  }
}

/**
 * A fresh database (so that its commit counter counts only our nodes) with a fresh schema in it, and
 * a fresh Redis prefix, for this run; cleanup() drops the schema and the database and deletes the keys.
 */
async function backends() {
  const suffix = randomBytes(4).toString("hex");
  const name = `cairn_bench_cluster_${suffix}`;
  const prefix = `cairn-bench-cluster-${suffix}:`;
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  const maintenance = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2000 });
  await maintenance.connect();
  await maintenance.query(`CREATE DATABASE ${name}`);
  const admin = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 2000 });
  await admin.connect();
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  return {
    url: url.toString(),
    schema: name,
    prefix,
    appName: name,
    admin,
    async cleanup() {
      await admin.query(`DROP SCHEMA IF EXISTS ${name} CASCADE`);
      await admin.end();
      await maintenance.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await maintenance.end();
      let cursor = "0";
      do {
        const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
        if (keys.length > 0) await redis.del(...keys);
        cursor = next;
      } while (cursor !== "0");
      redis.disconnect();
    },
  };
}

/** Start `count` nodes, one after another (the first applies the migrations). */
async function startNodes({ count, pool }, run, data) {
  const nodes = [];
  try {
    for (let i = 0; i < count; i++) {
      const port = basePort + i;
      const args = [join(repoRoot, "bin/cairn.js"), "start", join(here, "app")];
      args.push("--port", String(port), "--data", join(data, `node-${i}`), "--log-level", "warn");
      const node = await startServer(process.execPath, args, `http://127.0.0.1:${port}/`, {
        env: {
          CAIRN_DATABASE_URL: run.url,
          ...(pool !== undefined && { CAIRN_DATABASE_POOL_SIZE: String(pool) }),
          CAIRN_DATABASE_SCHEMA: run.schema,
          CAIRN_REDIS_URL: redisUrl,
          CAIRN_REDIS_PREFIX: run.prefix,
          CAIRN_BLOBS_URL: "",
          PGAPPNAME: `${run.appName}_node${i}`,
        },
      });
      nodes.push({ ...node, port, url: `http://127.0.0.1:${port}` });
    }
  } catch (error) {
    for (const node of nodes) await node.stop();
    throw error;
  }
  return nodes;
}

/** Requests under autocannon, its connections spread round-robin over the nodes. */
async function httpScenario(nodes, path, config, meter) {
  const urls = nodes.map((node) => `${node.url}${path}`);
  await load(urls, { ...config, method: "POST", duration: config.warmup });
  await meter.start();
  const result = await load(urls, { ...config, method: "POST" });
  return { perSec: result.rps, p50: result.p50, p99: result.p99, ...(await meter.stop()) };
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

async function handled(node) {
  const response = await fetch(`${node.url}/handled`);
  return (await response.json()).handled;
}

/**
 * Queue messages end to end: `senders` loops (each bound to one node, round-robin) post 500
 * messages a request (5 sendBatch calls of 100) until `total` are sent, while the consumers of every
 * node handle them; from the first send to the last message handled.
 */
async function queueScenario(nodes, total, senders, meter) {
  const before = await handled(nodes[0]);
  const perRequest = 500;
  let next = 0;
  let sentAt = 0;
  await meter.start();
  const started = performance.now();
  const loops = Array.from({ length: senders }, async (_, i) => {
    const node = nodes[i % nodes.length];
    while (next < total) {
      const from = next;
      next += perRequest;
      await post(`${node.url}/send`, { batches: perRequest / 100, from });
    }
    sentAt = Math.max(sentAt, performance.now());
  });
  let doneAt = 0;
  const watcher = (async () => {
    while ((await handled(nodes[0])) - before < total) await sleep(20);
    doneAt = performance.now();
  })();
  await Promise.all([...loops, watcher]);
  const cpu = await meter.stop();
  return {
    perSec: total / ((doneAt - started) / 1000),
    sentPerSec: total / ((sentAt - started) / 1000),
    ...cpu,
  };
}

const scenarios = {
  getput: {
    label: "table get+put requests/s",
    run: (nodes, c, m) => httpScenario(nodes, "/getput/k[<id>]", c, m),
  },
  workflow: { label: "workflows/s", run: (nodes, c, m) => httpScenario(nodes, "/run", c, m) },
  queue: {
    label: "queue messages/s end to end",
    run: (nodes, c, m) => queueScenario(nodes, c.messages, c.senders, m),
  },
};

const fmt = (value, digits = 2) => value.toFixed(digits);

/**
 * The sides, from BENCH_NODES: `N` is N nodes with the default pool; `N:P` is N nodes with P
 * PostgreSQL connections each (1:30 has as many connections as 3 nodes of 10: a control that tells
 * apart what more nodes bring from what more connections bring).
 */
function sides() {
  const pool = Number(process.env.CAIRN_DATABASE_POOL_SIZE ?? 10);
  return (process.env.BENCH_NODES ?? "1,2,3,1:30").split(",").map((spec) => {
    const [count, own] = spec.split(":").map(Number);
    return {
      key: own === undefined ? String(count) : `${count}x${own}`,
      count,
      pool: own,
      connections: count * (own ?? pool),
      label: `${count} node${count > 1 ? "s" : ""}${own === undefined ? "" : ` (pool ${own})`}`,
    };
  });
}

export async function run() {
  const config = {
    ...settings(),
    messages: Number(process.env.BENCH_CLUSTER_MESSAGES ?? 30_000),
    senders: Number(process.env.BENCH_CLUSTER_SENDERS ?? 6),
  };
  const all = sides();
  const only = process.env.BENCH_SCENARIOS?.split(",") ?? Object.keys(scenarios);
  let run;
  try {
    run = await backends();
  } catch (error) {
    const note = `PostgreSQL (${databaseUrl}) or Redis (${redisUrl}) does not answer: ${error.message}`;
    progress(note);
    return report("cluster", {}, {}, { notes: [note] });
  }
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-cluster-"));
  const loadBefore = loadavg();
  // rounds[scenario][side] = [{ perSec, p50, ..., cpu parts }, ...], one entry per round.
  const rounds = Object.fromEntries(
    only.map((s) => [s, Object.fromEntries(all.map((side) => [side.key, []]))]),
  );
  progress(
    `database and schema ${run.schema}, Redis prefix ${run.prefix}; load average ${loadBefore.map((l) => fmt(l)).join(" ")}`,
  );
  try {
    for (let round = 1; round <= config.rounds; round++) {
      // Each side takes each place in the order once every `all.length` rounds.
      const order = all.map((_, i) => all[(i + round - 1) % all.length]);
      for (const side of order) {
        const nodes = await startNodes(side, run, data);
        const meter = new CpuMeter(
          run.admin,
          run.appName,
          nodes.map((node) => node.pid),
        );
        try {
          for (const name of only) {
            const result = await scenarios[name].run(nodes, config, meter);
            rounds[name][side.key].push(result);
            progress(
              `round ${round}/${config.rounds} ${side.label} ${name}: ` +
                `${Math.round(result.perSec)} ${scenarios[name].label}; CPU in cores: nodes ${fmt(result.nodes)}, ` +
                `postgres ${fmt(result.postgres)} (our backends ${fmt(result.postgresOurs)}), ` +
                `redis ${fmt(result.redis)}, load generator ${fmt(result.loadgen)}, interrupts ${fmt(result.irq)}, ` +
                `other ${fmt(result.other)}; ` +
                `machine ${Math.round(result.machineBusyShare * 100)} % busy; ` +
                `${Math.round(result.commitsPerSec)} commits/s, ${Math.round(result.walFlushesPerSec)} WAL flushes/s; ` +
                `load average ${fmt(loadavg()[0])}`,
            );
          }
        } finally {
          for (const node of nodes) await node.stop();
        }
      }
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
    await run.cleanup();
  }

  const results = {};
  const ratios = {};
  for (const name of only) {
    for (const side of all) {
      const list = rounds[name][side.key];
      const med = (key) => median(list.map((r) => r[key]));
      results[`${name}_${side.key}`] = {
        perSec: med("perSec"),
        ...(name !== "queue" && { p50: med("p50"), p99: med("p99") }),
        ...(name === "queue" && { sentPerSec: med("sentPerSec") }),
        connections: side.connections,
        nodesCores: med("nodes"),
        postgresCores: med("postgres"),
        postgresOursCores: med("postgresOurs"),
        redisCores: med("redis"),
        loadgenCores: med("loadgen"),
        irqCores: med("irq"),
        otherCores: med("other"),
        machineBusy: med("machineBusyShare"),
        // Per operation, from each round's own figures: CPU (µs) and commits.
        nodesUsPerOp: median(list.map((r) => (r.nodes / r.perSec) * 1e6)),
        postgresOursUsPerOp: median(list.map((r) => (r.postgresOurs / r.perSec) * 1e6)),
        commitsPerOp: median(list.map((r) => r.commitsPerSec / r.perSec)),
        commitsPerWalFlush: median(list.map((r) => r.commitsPerSec / r.walFlushesPerSec)),
      };
    }
    const [first, ...others] = all;
    for (const side of others) {
      ratios[`${name}_${side.key}/${name}_${first.key}`] = pairedRatio(
        rounds[name][side.key],
        rounds[name][first.key],
        "perSec",
      );
    }
  }
  return report("cluster", results, ratios, {
    settings: { ...config, sides: all.map((side) => side.label) },
    loadAverage: { before: loadBefore, after: loadavg() },
    perRound: Object.fromEntries(
      only.flatMap((name) =>
        all.map((side) => [`${name}_${side.key}`, rounds[name][side.key].map((r) => Math.round(r.perSec))]),
      ),
    ),
  });
}
