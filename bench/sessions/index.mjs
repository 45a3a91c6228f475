// bench/sessions: the RealWorld GET /api/user, verified through ctx.sessions.verify on every
// request, side by side with the same route unauthenticated (same row read, same answer), on one
// server with the same load generator and settings; on the embedded default and on PostgreSQL.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { databaseUrl, dropSchemas } from "../lib/backends.mjs";
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
const postgresSchema = "cairn_bench_sessions";

/**
 * Register the bench user on one server and check both routes answer it: the verified route (with
 * the session's token) and its unauthenticated twin (user id and token in plain headers).
 */
async function prepare(base) {
  const registered = await fetch(`${base}/api/users`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      user: { username: "bench", email: "bench@example.com", password: "correct horse battery" },
    }),
  });
  if (registered.status !== 201) throw new Error(`register: ${registered.status} ${await registered.text()}`);
  const { token } = (await registered.json()).user;
  const userId = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).sub;
  const routes = {
    verified: { url: `${base}/api/user`, headers: { authorization: `Token ${token}` } },
    unauthenticated: {
      url: `${base}/api/user-unauthenticated`,
      headers: { "x-user-id": userId, "x-token": token },
    },
  };
  for (const [name, route] of Object.entries(routes)) {
    const response = await fetch(route.url, { headers: route.headers });
    const body = await response.json();
    if (response.status !== 200 || body.user?.username !== "bench")
      throw new Error(`${name}: ${response.status} ${JSON.stringify(body)}`);
  }
  return routes;
}

export async function run() {
  const config = settings();
  const only = process.env.BENCH_SIDES?.split(",");
  const wanted = (name) => only === undefined || only.includes(name);
  const notes = [];
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-sessions-"));
  // One server per store, each serving a verified side and its unauthenticated twin. The sessions
  // path uses no ctx.cache (verified rows are cached per process), so there is no Redis variant.
  const servers = {};
  if (wanted("cairn"))
    servers.cairn = { port: 9331, twin: "unauthenticated", env: { CAIRN_DATABASE_URL: "" } };
  const postgres = wanted("cairn_postgres") && (await dropSchemas(postgresSchema));
  if (postgres) {
    servers.cairn_postgres = {
      port: 9332,
      twin: "unauthenticated_postgres",
      env: { CAIRN_DATABASE_URL: databaseUrl, CAIRN_DATABASE_SCHEMA: postgresSchema },
    };
  } else if (wanted("cairn_postgres")) {
    notes.push(`PostgreSQL does not answer at ${databaseUrl}: the PostgreSQL sides are skipped`);
  }
  for (const note of notes) progress(note);

  const sides = {};
  const rounds = {};
  try {
    for (const [name, server] of Object.entries(servers)) {
      const base = `http://127.0.0.1:${server.port}`;
      server.handle = await startServer(
        process.execPath,
        [
          join(repoRoot, "bin/cairn.js"),
          "start",
          join(here, "app"),
          "--port",
          String(server.port),
          "--data",
          join(data, name),
          "--log-level",
          "warn",
        ],
        `${base}/_cairn/health`,
        { env: server.env },
      );
      const routes = await prepare(base);
      sides[name] = routes.verified;
      sides[server.twin] = routes.unauthenticated;
    }
    for (const name of Object.keys(sides)) rounds[name] = [];
    for (let round = 1; round <= config.rounds; round++) {
      for (const [name, side] of Object.entries(sides)) {
        const options = { ...config, headers: side.headers };
        await load(side.url, { ...options, duration: config.warmup });
        const result = await load(side.url, options);
        rounds[name].push(result);
        progress(`round ${round}/${config.rounds} ${name}: ${Math.round(result.rps)} req/s`);
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.handle?.stop();
    rmSync(data, { recursive: true, force: true });
    if (postgres) await dropSchemas(postgresSchema);
  }
  const results = Object.fromEntries(Object.entries(rounds).map(([name, r]) => [name, medians(r)]));
  const ratios = {};
  for (const [name, server] of Object.entries(servers))
    ratios[`${name}/${server.twin}`] = pairedRatio(rounds[name], rounds[server.twin]);
  return report("sessions", results, ratios, {
    settings: config,
    rounds,
    ...(notes.length > 0 && { notes }),
  });
}
