// bench/memory: memory per idle instance. One Cairn process is started with 1 instance of each
// function, another with N (minInstances), and the process's resident memory is compared once it
// has settled: the difference over the instances added (from the pools' metrics) is what each
// further idle instance costs. Measured twice:
// right after start ("fresh"), and after every instance has served requests ("used").
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../lib/backends.mjs";
import { median, progress, repoRoot, report, settings, startServer } from "../lib/harness.mjs";

const here = new URL(".", import.meta.url).pathname;
const mb = 2 ** 20;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident memory of a process from /proc, in MB: total, anonymous (heaps, stacks), file-backed. */
function rss(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name) => Number(status.match(new RegExp(`${name}:\\s+(\\d+) kB`))[1]) / 1024;
  return { rss: field("VmRSS"), anon: field("RssAnon"), file: field("RssFile") };
}

/**
 * Sample RSS every second until it has stopped moving (the last `window` samples within 1 %, V8's
 * memory reducer having had its chance to collect), or `maxSeconds` have passed; the last sample.
 */
async function settled(pid, { window = 5, maxSeconds = 40 } = {}) {
  const samples = [];
  for (let second = 0; second < maxSeconds; second++) {
    await sleep(1000);
    samples.push(rss(pid));
    const recent = samples.slice(-window).map((s) => s.rss);
    if (recent.length === window && Math.max(...recent) - Math.min(...recent) <= Math.max(...recent) * 0.01)
      break;
  }
  return { ...samples.at(-1), seconds: samples.length };
}

/** `count` concurrent requests, each holding its instance (concurrency 1): one per instance. */
async function burst(url, count) {
  const responses = await Promise.all(
    Array.from({ length: count }, async () => {
      const response = await fetch(url);
      if (response.status !== 200) throw new Error(`${url}: ${response.status}`);
      return response.json().catch(() => undefined);
    }),
  );
  return responses;
}

/** One Cairn process with `instances` instances: its settled RSS fresh, then after use, and the heaps. */
async function measure(instances, usedBursts) {
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-memory-"));
  const port = await freePort();
  const token = "bench-memory";
  const server = await startServer(
    process.execPath,
    [
      join(repoRoot, "bin/cairn.js"),
      "start",
      join(here, "app"),
      "--port",
      String(port),
      "--data",
      data,
      "--log-level",
      "warn",
    ],
    `http://127.0.0.1:${port}/`,
    {
      env: {
        BENCH_MEMORY_INSTANCES: String(instances),
        CAIRN_DATABASE_URL: "",
        CAIRN_ADMIN_TOKEN: token,
      },
    },
  );
  const base = `http://127.0.0.1:${port}`;
  try {
    // minInstances start in the background: wait until the pools report them all warm. The
    // setting applies to each of the app's functions, so the process holds `instances` of each.
    let total = 0;
    for (let tries = 0; ; tries++) {
      const metrics = await (
        await fetch(`${base}/_cairn/metrics`, { headers: { authorization: `Bearer ${token}` } })
      ).text();
      const counts = [...metrics.matchAll(/cairn_function_instances\{[^}]*state="warm"\} (\d+)/g)].map(
        (match) => Number(match[1]),
      );
      total = counts.reduce((sum, count) => sum + count, 0);
      if (counts.length > 0 && counts.every((count) => count >= instances)) break;
      if (tries > 600) throw new Error(`only ${counts.join(", ")} of ${instances} instances warm after 60 s`);
      await sleep(100);
    }
    const fresh = await settled(server.pid);
    // Every instance serves requests (bursts of one slow request per instance), then idles.
    for (let i = 0; i < usedBursts; i++) await burst(`${base}/slow`, instances);
    const heaps = (await burst(`${base}/heap`, instances)).filter((heap) => heap !== undefined);
    const used = await settled(server.pid);
    return { fresh, used, heaps, total };
  } finally {
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
}

export async function run() {
  const config = settings();
  const many = Number(process.env.BENCH_MEMORY_INSTANCES ?? 21);
  const usedBursts = Number(process.env.BENCH_MEMORY_BURSTS ?? 20);
  const rounds = [];
  for (let round = 1; round <= config.rounds; round++) {
    const one = await measure(1, usedBursts);
    const n = await measure(many, usedBursts);
    // Every function of the app holds that many instances: divide by the instances added.
    const added = n.total - one.total;
    const per = (phase) => (n[phase].rss - one[phase].rss) / added;
    const perAnon = (phase) => (n[phase].anon - one[phase].anon) / added;
    const heapTotal = median(n.heaps.map((heap) => heap.total_heap_size)) / mb;
    const heapUsed = median(n.heaps.map((heap) => heap.used_heap_size)) / mb;
    const malloced = median(n.heaps.map((heap) => heap.malloced_memory)) / mb;
    const newSpace = median(n.heaps.map((heap) => heap.spaces.new_space)) / mb;
    rounds.push({
      rss1Fresh: one.fresh.rss,
      rssNFresh: n.fresh.rss,
      perInstanceFresh: per("fresh"),
      perInstanceFreshAnon: perAnon("fresh"),
      rss1Used: one.used.rss,
      rssNUsed: n.used.rss,
      perInstanceUsed: per("used"),
      perInstanceUsedAnon: perAnon("used"),
      heapTotal,
      heapUsed,
      newSpace,
      malloced,
      heapsReported: n.heaps.length,
      instancesAdded: added,
    });
    progress(
      `round ${round}/${config.rounds}: RSS ${one.total} instances ${one.fresh.rss.toFixed(1)} MB, ${n.total} instances ` +
        `${n.fresh.rss.toFixed(1)} MB → ${per("fresh").toFixed(2)} MB per instance fresh, ` +
        `${per("used").toFixed(2)} MB after use (V8 heap per instance ${heapTotal.toFixed(2)} MB, ` +
        `${heapUsed.toFixed(2)} MB used)`,
    );
  }
  const results = {
    memory: Object.fromEntries(Object.keys(rounds[0]).map((key) => [key, median(rounds.map((r) => r[key]))])),
  };
  const ratios = {
    "perInstanceUsed/target(15MB)": results.memory.perInstanceUsed / 15,
    "perInstanceFresh/target(15MB)": results.memory.perInstanceFresh / 15,
  };
  return report("memory", results, ratios, {
    settings: { rounds: config.rounds, instances: many, usedBursts },
    rounds,
  });
}
