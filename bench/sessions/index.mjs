// bench/sessions: the RealWorld GET /api/user, verified through ctx.sessions.verify on every
// request, side by side with the same route unauthenticated (same row read, same answer), on one
// server with the same load generator and settings.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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
const port = 9331;
const base = `http://127.0.0.1:${port}`;

export async function run() {
  const config = settings();
  const data = mkdtempSync(join(tmpdir(), "cairn-bench-sessions-"));
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
    `${base}/_cairn/health`,
    { env: { CAIRN_DATABASE_URL: "" } },
  );
  const rounds = { cairn: [], unauthenticated: [] };
  try {
    const registered = await fetch(`${base}/api/users`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        user: { username: "bench", email: "bench@example.com", password: "correct horse battery" },
      }),
    });
    if (registered.status !== 201)
      throw new Error(`register: ${registered.status} ${await registered.text()}`);
    const { token } = (await registered.json()).user;
    const userId = JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString()).sub;
    const sides = {
      cairn: { url: `${base}/api/user`, headers: { authorization: `Token ${token}` } },
      unauthenticated: {
        url: `${base}/api/user-unauthenticated`,
        headers: { "x-user-id": userId, "x-token": token },
      },
    };
    for (const [name, side] of Object.entries(sides)) {
      const response = await fetch(side.url, { headers: side.headers });
      const body = await response.json();
      if (response.status !== 200 || body.user?.username !== "bench")
        throw new Error(`${name}: ${response.status} ${JSON.stringify(body)}`);
    }
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
    await server.stop();
    rmSync(data, { recursive: true, force: true });
  }
  return report(
    "sessions",
    { cairn: medians(rounds.cairn), unauthenticated: medians(rounds.unauthenticated) },
    { "cairn/unauthenticated": pairedRatio(rounds.cairn, rounds.unauthenticated) },
    { settings: config, rounds },
  );
}
