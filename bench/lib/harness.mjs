// Shared pieces of the side-by-side benchmarks: starting servers, driving load, medians, output.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { connect } from "node:net";
import { cpus, totalmem } from "node:os";
import autocannon from "autocannon";

export const repoRoot = new URL("../..", import.meta.url).pathname;

export function settings() {
  const env = process.env;
  return {
    connections: Number(env.BENCH_CONNECTIONS ?? 50),
    duration: Number(env.BENCH_DURATION ?? 10),
    warmup: Number(env.BENCH_WARMUP ?? 3),
    rounds: Number(env.BENCH_ROUNDS ?? 3),
  };
}

export function machine() {
  return { cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

/** Start a server process and wait until `url` answers 200. */
export async function startServer(command, args, url, options = {}) {
  const started = performance.now();
  const child = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "ignore", options.quiet === false ? "inherit" : "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk) => (stderr += chunk));
  const exited = once(child, "exit");
  const { hostname, port } = new URL(url);
  let accepting = false;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} ${args.join(" ")} exited: ${stderr}`);
    // Until the port accepts, a bare TCP connect: a failing fetch costs the prober three times the
    // CPU, which on a small machine it takes from the server that is starting.
    if (!accepting) accepting = await accepts(hostname, Number(port));
    if (accepting && (await answers200(url))) break;
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 20));
  }
  const readyMs = performance.now() - started;
  return {
    readyMs,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

async function answers200(url) {
  try {
    const response = await fetch(url);
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

function accepts(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Drive `url` with autocannon; returns requests per second and latency percentiles in ms. */
export async function load(url, { connections, duration, ...rest }) {
  const result = await autocannon({ url, connections, duration, ...rest });
  if (result.non2xx > 0 || result.errors > 0) {
    throw new Error(`${url}: ${result.non2xx} non-2xx responses and ${result.errors} errors under load`);
  }
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99 };
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians per metric over rounds: [{rps, p50}, ...] → {rps, p50}. */
export function medians(rounds) {
  const out = {};
  for (const key of Object.keys(rounds[0])) out[key] = median(rounds.map((round) => round[key]));
  return out;
}

/**
 * The ratio of two sides as the median of per-round ratios: each round runs the sides back to
 * back, so pairing them cancels most of the drift a shared machine shows over a run.
 */
export function pairedRatio(ours, theirs, metric = "rps") {
  return median(ours.map((round, i) => round[metric] / theirs[i][metric]));
}

export function round2(value) {
  return Math.round(value * 100) / 100;
}

/** Print a table of the sides and the closing SUMMARY line. */
export function report(bench, results, ratios, notes = {}) {
  const metrics = [...new Set(Object.values(results).flatMap((r) => Object.keys(r)))];
  const rows = [["side", ...metrics]];
  for (const [side, values] of Object.entries(results)) {
    rows.push([side, ...metrics.map((m) => (values[m] === undefined ? "" : String(round2(values[m]))))]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) console.log(row.map((cell, i) => cell.padEnd(widths[i])).join("  "));
  for (const [name, value] of Object.entries(ratios)) console.log(`${name}: ${round2(value)}`);
  const rounded = Object.fromEntries(
    Object.entries(results).map(([side, values]) => [
      side,
      Object.fromEntries(Object.entries(values).map(([k, v]) => [k, round2(v)])),
    ]),
  );
  const summary = {
    bench,
    results: rounded,
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round2(v)])),
    machine: machine(),
    ...notes,
  };
  console.log(`SUMMARY ${JSON.stringify(summary)}`);
  return summary;
}

export function progress(message) {
  process.stderr.write(`  ${message}\n`);
}
