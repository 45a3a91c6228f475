// bench/http: a hello-world function on warm instances against a bare node:http server, and the
// same Worker on Miniflare and on workerd alone, with the same load generator, connections and
// duration, side by side in one run.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { miniflareInstalled, notInstalled, workerdBinary } from "../lib/cloudflare.mjs";
import {
  load,
  medians,
  median,
  pairedRatio,
  progress,
  repoRoot,
  report,
  settings,
  startServer,
} from "../lib/harness.mjs";

const here = new URL(".", import.meta.url).pathname;
const cairnBin = process.env.BENCH_CAIRN_BIN ?? join(repoRoot, "bin/cairn.js");

export async function run() {
  const config = settings();
  const notes = [];
  const sides = {
    node_http: { port: 9311, args: [join(here, "node-http.mjs"), "9311"] },
    cairn: {
      port: 9312,
      args: [cairnBin, "start", join(here, "app"), "--port", "9312", "--log-level", "warn"],
    },
  };
  if (miniflareInstalled())
    sides.miniflare = { port: 9314, args: [join(here, "miniflare-server.mjs"), "9314"] };
  else notes.push(`Miniflare ${notInstalled}: the miniflare side is skipped`);
  const workerd = workerdBinary();
  // The port is in workerd.capnp.
  if (workerd) sides.workerd = { port: 9315, command: workerd, args: ["serve", join(here, "workerd.capnp")] };
  else notes.push(`workerd ${notInstalled}: the workerd side is skipped`);
  // Cairn always runs: every figure is a ratio to it.
  const only = process.env.BENCH_SIDES?.split(",");
  for (const name of Object.keys(sides))
    if (only && name !== "cairn" && !only.includes(name)) delete sides[name];
  for (const note of notes) progress(note);

  const servers = {};
  const rounds = Object.fromEntries(Object.keys(sides).map((name) => [name, []]));
  try {
    for (const [name, side] of Object.entries(sides)) {
      servers[name] = await startServer(
        side.command ?? process.execPath,
        side.args,
        `http://127.0.0.1:${side.port}/`,
      );
    }
    for (let round = 1; round <= config.rounds; round++) {
      for (const [name, side] of Object.entries(sides)) {
        const url = `http://127.0.0.1:${side.port}/`;
        await load(url, { ...config, duration: config.warmup });
        const result = await load(url, config);
        rounds[name].push(result);
        progress(`round ${round}/${config.rounds} ${name}: ${Math.round(result.rps)} req/s`);
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }

  progress("process start to first 200 (5 starts)");
  const startups = [];
  for (let i = 0; i < 5; i++) {
    const server = await startServer(
      process.execPath,
      [cairnBin, "start", join(here, "app"), "--port", "9313", "--log-level", "warn"],
      "http://127.0.0.1:9313/",
      { pollMs: 2 },
    );
    startups.push(server.readyMs);
    await server.stop();
  }
  progress("instance start (20 samples)");
  const starts = spawnSync(process.execPath, [join(here, "instance-start.mjs"), "20"], { encoding: "utf8" });
  if (starts.status !== 0) throw new Error(`instance-start failed: ${starts.stderr}`);
  const instance = JSON.parse(starts.stdout.trim().split("\n").pop());

  const results = {
    ...Object.fromEntries(Object.keys(sides).map((name) => [name, medians(rounds[name])])),
    cairn: {
      ...medians(rounds.cairn),
      startToFirst200Ms: median(startups),
      instanceFromSpareMs: instance.fromSpareP50,
      instanceColdMs: instance.coldP50,
    },
  };
  const ratios = {};
  for (const peer of ["node_http", "workerd", "miniflare"]) {
    if (rounds[peer] !== undefined) ratios[`cairn/${peer}`] = pairedRatio(rounds.cairn, rounds[peer]);
  }
  return report("http", results, ratios, {
    settings: config,
    rounds,
    ...(notes.length > 0 && { notes }),
  });
}
