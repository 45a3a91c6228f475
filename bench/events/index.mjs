// bench/events: how soon a blob upload's processing function starts, and how many queue messages a
// node moves end to end per second, on the embedded default; the queue side next to the floor of
// the same durable queueing done directly on better-sqlite3 in one process.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { median, progress, repoRoot, report, settings, startServer } from "../lib/harness.mjs";

const here = new URL(".", import.meta.url).pathname;
const port = 9351;
const base = `http://127.0.0.1:${port}`;

/** Epoch milliseconds with sub-millisecond precision, on the clock the handler reads too. */
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function post(path, body) {
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
async function uploadLatency(prefix, count) {
  const keys = Array.from({ length: count }, (_, i) => `latency/${prefix}/${i}`);
  const urls = [];
  for (let i = 0; i < keys.length; i += 100)
    urls.push(...(await post("/presign", { keys: keys.slice(i, i + 100) })).urls);
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
    const { starts } = await post("/starts", { keys: keys.slice(i, i + 100) });
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

async function handledCount() {
  const response = await fetch(`${base}/handled`);
  return (await response.json()).handled;
}

/**
 * Send `total` messages from a function with sendBatch (100 a call, 5 calls per request, 4 requests
 * at a time), all due at `dueAt` if given, and wait until the batch consumer has handled them all.
 */
async function sendAndDrain(total, pid, dueAt) {
  const before = await handledCount();
  const cpuBefore = cpuMs(pid);
  const perRequest = 500;
  let next = 0;
  let sentAt = 0;
  const started = now();
  const senders = Array.from({ length: 4 }, async () => {
    while (next < total) {
      const from = next;
      next += perRequest;
      await post("/send", { batches: perRequest / 100, from, dueAt });
    }
    sentAt = Math.max(sentAt, now());
  });
  let doneAt = 0;
  const watcher = (async () => {
    for (;;) {
      const handled = (await handledCount()) - before;
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
async function queueThroughput(total, pid) {
  const { started, sentAt, doneAt, cpuUsPerMessage } = await sendAndDrain(total, pid);
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
async function backlogDrain(total, pid) {
  const dueAt = now() + 1000 + total / 5; // sending runs well above 5,000 a second
  const { sentAt, doneAt } = await sendAndDrain(total, pid, dueAt);
  if (sentAt > dueAt) throw new Error("the backlog became due before it was all sent: raise the delay");
  return { drainPerSecond: total / ((doneAt - dueAt) / 1000) };
}

export async function run() {
  const config = settings();
  const uploads = Number(process.env.BENCH_EVENTS_UPLOADS ?? 300);
  const messages = Number(process.env.BENCH_EVENTS_MESSAGES ?? 50_000);
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-events-"));
  const server = await startServer(
    process.execPath,
    [
      ...(process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : []),
      process.env.BENCH_CAIRN_BIN ?? join(repoRoot, "bin/cairn.js"),
      "start",
      join(here, "app"),
      "--port",
      String(port),
      "--data",
      data,
      "--log-level",
      "warn",
    ],
    `${base}/warm`,
    { env: { CAIRN_DATABASE_URL: "", CAIRN_REDIS_URL: "", CAIRN_BLOBS_URL: "" } },
  );
  const rounds = { latency: [], cairn: [], direct_sqlite: [] };
  try {
    progress("warming up");
    await uploadLatency("warm", 30);
    await queueThroughput(5_000, server.pid);
    for (let round = 1; round <= config.rounds; round++) {
      const latencies = await uploadLatency(`r${round}`, uploads);
      const latency = {
        p50: percentile(latencies, 50),
        p99: percentile(latencies, 99),
        min: latencies[0],
        max: latencies[latencies.length - 1],
      };
      rounds.latency.push(latency);
      progress(
        `round ${round}/${config.rounds} upload → handler start over ${uploads} uploads: ` +
          `p50 ${latency.p50.toFixed(2)} ms, p99 ${latency.p99.toFixed(2)} ms (min ${latency.min.toFixed(2)}, max ${latency.max.toFixed(2)})`,
      );
      const queue = await queueThroughput(messages, server.pid);
      Object.assign(queue, await backlogDrain(messages, server.pid));
      rounds.cairn.push(queue);
      progress(
        `round ${round}/${config.rounds} cairn queue: ${Math.round(queue.messagesPerSecond)} messages/s end to end ` +
          `(sent at ${Math.round(queue.sentPerSecond)}/s), ${queue.cpuUsPerMessage.toFixed(1)} µs of CPU per message; ` +
          `a backlog of ${messages} drained at ${Math.round(queue.drainPerSecond)}/s`,
      );
      const direct = spawnSync(process.execPath, [join(here, "direct-sqlite.mjs"), String(messages)], {
        encoding: "utf8",
      });
      if (direct.status !== 0) throw new Error(`direct-sqlite failed: ${direct.stderr}`);
      const floor = JSON.parse(direct.stdout.trim().split("\n").pop());
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
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
  const med = (side, key) => median(rounds[side].map((r) => r[key]));
  const results = {
    cairn: {
      uploadToHandlerP50Ms: med("latency", "p50"),
      uploadToHandlerP99Ms: med("latency", "p99"),
      messagesPerSecond: med("cairn", "messagesPerSecond"),
      sentPerSecond: med("cairn", "sentPerSecond"),
      cpuUsPerMessage: med("cairn", "cpuUsPerMessage"),
      backlogDrainPerSecond: med("cairn", "drainPerSecond"),
    },
    direct_sqlite: {
      messagesPerSecond: med("direct_sqlite", "messagesPerSecond"),
      cpuUsPerMessage: med("direct_sqlite", "cpuUsPerMessage"),
    },
  };
  const ratios = {
    "cairn/direct_sqlite": median(
      rounds.cairn.map((r, i) => r.messagesPerSecond / rounds.direct_sqlite[i].messagesPerSecond),
    ),
  };
  return report("events", results, ratios, {
    settings: { rounds: config.rounds, uploads, messages },
    targets: { uploadToHandlerP50Ms: 5, messagesPerSecond: 5000 },
  });
}
