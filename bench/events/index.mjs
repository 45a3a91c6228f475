// bench/events: how soon a blob upload's processing function starts, and how many queue messages a
// node moves end to end per second, on the embedded default and on PostgreSQL; the queue side next
// to the floor of the same durable queueing done directly on better-sqlite3 in one process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, dropSchemas } from "../lib/backends.mjs";
import { median, progress, repoRoot, report, settings, startServer } from "../lib/harness.mjs";

const here = new URL(".", import.meta.url).pathname;
const postgresSchema = "cairn_bench_events";

/** Epoch milliseconds with sub-millisecond precision, on the clock the handler reads too. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(base, path, body) {
  const response = await fetch(`${base}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (response.status >= 300) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Sequential uploads through presigned URLs, each followed by a pause (so one handler's run never
 * overlaps the next upload): from the client holding the PUT's response to the handler's first line.
 */
async function uploadLatency(base, prefix, count) {
  const keys = Array.from({ length: count }, (_, i) => `latency/${prefix}/${i}`);
  const urls = [];
  for (let i = 0; i < keys.length; i += 100)
    urls.push(...(await post(base, "/presign", { keys: keys.slice(i, i + 100) })).urls);
  const body = Buffer.alloc(1024, 97);
  const answered = [];
  for (const url of urls) {
    const response = await fetch(url, { method: "PUT", body, headers: { "content-type": "text/plain" } });
    await response.arrayBuffer();
    answered.push(now());
    if (response.status !== 201) throw new Error(`upload answered ${response.status}`);
    await sleep(15);
  }
  await sleep(200);
  const latencies = [];
  for (let i = 0; i < keys.length; i += 100) {
    const { starts } = await post(base, "/starts", { keys: keys.slice(i, i + 100) });
    starts.forEach((start, j) => {
      if (start === null) throw new Error(`no handler start recorded for ${keys[i + j]}`);
      latencies.push(start - answered[i + j]);
    });
  }
  return latencies.sort((a, b) => a - b);
}

/** CPU time (user + system, every thread) a process has used, in ms, from /proc (Linux). */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in 100 Hz ticks
  } catch {
    return NaN;
  }
}

async function handledCount(base) {
  const response = await fetch(`${base}/handled`);
  return (await response.json()).handled;
}

/**
 * Send `total` messages from a function with sendBatch (100 a call, 5 calls per request, 4 requests
 * at a time), all due at `dueAt` if given, and wait until the batch consumer has handled them all.
 */
async function sendAndDrain(base, total, pid, dueAt) {
  const before = await handledCount(base);
  const cpuBefore = cpuMs(pid);
  const perRequest = 500;
  let next = 0;
  let sentAt = 0;
  const started = now();
  const senders = Array.from({ length: 4 }, async () => {
    while (next < total) {
      const from = next;
      next += perRequest;
      await post(base, "/send", { batches: perRequest / 100, from, dueAt });
    }
    sentAt = Math.max(sentAt, now());
  });
  let doneAt = 0;
  const watcher = (async () => {
    for (;;) {
      const handled = (await handledCount(base)) - before;
      if (handled >= total) {
        doneAt = now();
        return;
      }
      await sleep(10);
    }
  })();
  await Promise.all([...senders, watcher]);
  return { started, sentAt, doneAt, cpuUsPerMessage: ((cpuMs(pid) - cpuBefore) * 1000) / total };
}

/** Sustained: sending and handling at once, from the first send to the last message handled. */
async function queueThroughput(base, total, pid) {
  const { started, sentAt, doneAt, cpuUsPerMessage } = await sendAndDrain(base, total, pid);
  return {
    messagesPerSecond: total / ((doneAt - started) / 1000),
    sentPerSecond: total / ((sentAt - started) / 1000),
    cpuUsPerMessage,
  };
}

/**
 * A backlog: `total` messages sent with a delay that makes them all due at one moment after the
 * last is sent, then drained: from that moment to the last message handled.
 */
async function backlogDrain(base, total, pid, sentPerSecond) {
  // Room for sending at half the rate the sustained phase saw (at most 5,000 a second).
  const dueAt = now() + 1000 + (total / Math.min(5000, sentPerSecond / 2)) * 1000;
  const { sentAt, doneAt } = await sendAndDrain(base, total, pid, dueAt);
  if (sentAt > dueAt) throw new Error("the backlog became due before it was all sent: raise the delay");
  return { drainPerSecond: total / ((doneAt - dueAt) / 1000) };
}

export async function run() {
  const config = settings();
  const uploads = Number(process.env.BENCH_EVENTS_UPLOADS ?? 300);
  const messages = Number(process.env.BENCH_EVENTS_MESSAGES ?? 50_000);
  const only = process.env.BENCH_SIDES?.split(",");
  const wanted = (name) => only === undefined || only.includes(name);
  const notes = [];
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-events-"));
  // Blobs on the local folder and the cache in process on both sides: only the store differs.
  const local = { CAIRN_REDIS_URL: "", CAIRN_BLOBS_URL: "" };
  const sides = {};
  if (wanted("cairn")) sides.cairn = { port: 9351, env: { ...local, CAIRN_DATABASE_URL: "" } };
  const postgres = wanted("cairn_postgres") && (await dropSchemas(postgresSchema));
  if (postgres) {
    sides.cairn_postgres = {
      port: 9352,
      env: { ...local, CAIRN_DATABASE_URL: databaseUrl, CAIRN_DATABASE_SCHEMA: postgresSchema },
    };
  } else if (wanted("cairn_postgres")) {
    notes.push(`PostgreSQL does not answer at ${databaseUrl}: the cairn_postgres side is skipped`);
  }
  const direct = wanted("direct_sqlite");
  for (const note of notes) progress(note);

  const servers = {};
  const rounds = { direct_sqlite: [] };
  for (const name of Object.keys(sides)) rounds[name] = [];
  try {
    for (const [name, side] of Object.entries(sides)) {
      const base = `http://127.0.0.1:${side.port}`;
      servers[name] = await startServer(
        process.execPath,
        [
          ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : []),
          process.env.BENCH_CAIRN_BIN ?? join(repoRoot, "bin/cairn.js"),
          "start",
          join(here, "app"),
          "--port",
          String(side.port),
          "--data",
          join(data, name),
          "--log-level",
          "warn",
        ],
        `${base}/warm`,
        { env: side.env },
      );
      progress(`${name}: warming up`);
      await uploadLatency(base, "warm", 30);
      await queueThroughput(base, 5_000, servers[name].pid);
    }
    for (let round = 1; round <= config.rounds; round++) {
      for (const [name, side] of Object.entries(sides)) {
        const base = `http://127.0.0.1:${side.port}`;
        const { pid } = servers[name];
        const latencies = await uploadLatency(base, `r${round}`, uploads);
        const latency = {
          p50: percentile(latencies, 50),
          p99: percentile(latencies, 99),
          min: latencies[0],
          max: latencies[latencies.length - 1],
        };
        progress(
          `round ${round}/${config.rounds} ${name} upload → handler start over ${uploads} uploads: ` +
            `p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms (min ${latency.min.toFixed(2)}, max ${latency.max.toFixed(2)})`,
        );
        const queue = await queueThroughput(base, messages, pid);
        Object.assign(queue, await backlogDrain(base, messages, pid, queue.sentPerSecond));
        rounds[name].push({ latencyP50: latency.p50, latencyP99: latency.p99, ...queue });
        progress(
          `round ${round}/${config.rounds} ${name} queue: ${Math.round(queue.messagesPerSecond)} messages/s end to end ` +
            `(sent at ${Math.round(queue.sentPerSecond)}/s), ${queue.cpuUsPerMessage.toFixed(1)} µs of CPU per message; ` +
            `a backlog of ${messages} drained at ${Math.round(queue.drainPerSecond)}/s`,
        );
      }
      if (!direct) continue;
      const floorRun = spawnSync(process.execPath, [join(here, "direct-sqlite.mjs"), String(messages)], {
        encoding: "utf8",
      });
      if (floorRun.status !== 0) throw new Error(`direct-sqlite failed: ${floorRun.stderr}`);
      const floor = JSON.parse(floorRun.stdout.trim().split("\n").pop());
      rounds.direct_sqlite.push({
        messagesPerSecond: floor.perSecond,
        cpuUsPerMessage: floor.cpuUsPerMessage,
      });
      progress(
        `round ${round}/${config.rounds} direct_sqlite queue: ${Math.round(floor.perSecond)} messages/s, ` +
          `${floor.cpuUsPerMessage.toFixed(1)} µs of CPU per message`,
      );
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    rmSync(data, { recursive: true, force: true });
    if (postgres) await dropSchemas(postgresSchema);
  }
  const med = (side, key) => median(rounds[side].map((r) => r[key]));
  const results = {};
  for (const name of Object.keys(sides)) {
    results[name] = {
      uploadToHandlerP50Ms: med(name, "latencyP50"),
      uploadToHandlerP99Ms: med(name, "latencyP99"),
      messagesPerSecond: med(name, "messagesPerSecond"),
      sentPerSecond: med(name, "sentPerSecond"),
      cpuUsPerMessage: med(name, "cpuUsPerMessage"),
      backlogDrainPerSecond: med(name, "drainPerSecond"),
    };
  }
  if (direct) {
    results.direct_sqlite = {
      messagesPerSecond: med("direct_sqlite", "messagesPerSecond"),
      cpuUsPerMessage: med("direct_sqlite", "cpuUsPerMessage"),
    };
  }
  const ratios = {};
  const paired = (a, b) =>
    median(rounds[a].map((r, i) => r.messagesPerSecond / rounds[b][i].messagesPerSecond));
  if (sides.cairn && direct) ratios["cairn/direct_sqlite"] = paired("cairn", "direct_sqlite");
  if (sides.cairn && sides.cairn_postgres) ratios["cairn_postgres/cairn"] = paired("cairn_postgres", "cairn");
  return report("events", results, ratios, {
    settings: { rounds: config.rounds, uploads, messages },
    targets: { uploadToHandlerP50Ms: 5, messagesPerSecond: 5000 },
    rounds,
    ...(notes.length > 0 && { notes }),
  });
}
