// bench/state: state operations from a function on warm instances, side by side with a node:http
// handler doing the same directly on better-sqlite3, with the same load and settings.
import { join } from "node:path";
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

/** Each scenario: method and path (with [<id>] replaced per request by autocannon). */
const scenarios = {
  get: { method: "GET", path: "/get/k[<id>]" },
  put: { method: "POST", path: "/put/k[<id>]" },
  getput: { method: "POST", path: "/getput/k[<id>]" },
  query20: { method: "GET", path: "/query/3" },
  cache_get: { method: "GET", path: "/cache-get/c[<id>]" },
  cache_set: { method: "POST", path: "/cache-set/c[<id>]" },
  blob_put: { method: "POST", path: "/blob-put/b[<id>]" },
  blob_get: { method: "GET", path: "/blob-get/b1" },
};

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

export async function run() {
  const config = settings();
  const only = process.env.BENCH_SCENARIOS?.split(",") ?? Object.keys(scenarios);
  const sides = {
    direct_sqlite: { port: 9321, args: [join(here, "direct-sqlite.mjs"), "9321"] },
    cairn: {
      port: 9322,
      args: [
        join(repoRoot, "bin/cairn.js"),
        "start",
        join(here, "app"),
        "--port",
        "9322",
        "--log-level",
        "warn",
      ],
      env: { CAIRN_DATABASE_URL: "" },
    },
  };
  const servers = {};
  const { rmSync } = await import("node:fs");
  rmSync(join(here, "app", ".cairn", "cairn.db"), { force: true });
  rmSync(join(here, "app", ".cairn", "cairn.db-wal"), { force: true });
  rmSync(join(here, "app", ".cairn", "cairn.db-shm"), { force: true });
  for (const [name, side] of Object.entries(sides)) {
    servers[name] = await startServer(process.execPath, side.args, `http://127.0.0.1:${side.port}/get/warm`, {
      env: side.env,
    });
  }
  await seed(`http://127.0.0.1:${sides.cairn.port}`);
  for (const side of Object.values(sides)) await seedBlob(`http://127.0.0.1:${side.port}`);
  const results = {};
  const ratios = {};
  const rounds = {};
  try {
    for (const scenario of only) {
      const { method, path } = scenarios[scenario];
      const perSide = { direct_sqlite: [], cairn: [] };
      for (let round = 1; round <= config.rounds; round++) {
        for (const [name, side] of Object.entries(sides)) {
          const url = `http://127.0.0.1:${side.port}${path}`;
          const options = { ...config, method, idReplacement: true };
          await load(url, { ...options, duration: config.warmup });
          const result = await load(url, options);
          perSide[name].push(result);
          progress(`${scenario} round ${round}/${config.rounds} ${name}: ${Math.round(result.rps)} req/s`);
        }
      }
      for (const name of Object.keys(sides)) {
        const m = medians(perSide[name]);
        results[`${scenario}_${name}`] = m;
      }
      rounds[scenario] = perSide;
      ratios[`cairn/direct_sqlite:${scenario}`] = pairedRatio(perSide.cairn, perSide.direct_sqlite);
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
  }
  return report("state", results, ratios, { settings: config });
}
