// npm run test:realworld: serve examples/realworld alone on the embedded default (a fresh data
// folder), run the official RealWorld Postman collection against it with newman, stop the server,
// and exit with newman's code. The collection lives in ../shared/realworld beside the clone.
import { spawn, spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const collection = join(root, "..", "shared", "realworld", "Conduit.postman_collection.json");
if (!existsSync(collection)) {
  console.error(`test:realworld: ${collection} is missing (../shared/realworld beside the repository)`);
  process.exit(2);
}
// bin/cairn.js runs dist/: build it from the sources being tested (well under a second).
const built = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], { stdio: "inherit" });
if (built.status !== 0) process.exit(built.status ?? 1);

const data = mkdtempSync(join(tmpdir(), "cairn-realworld-"));
const server = spawn(
  process.execPath,
  [
    join(root, "bin", "cairn.js"),
    "start",
    join(root, "examples", "realworld"),
    "--port",
    "0",
    "--data",
    data,
    "--log-level",
    "warn",
    "--log-format",
    "json",
  ],
  { cwd: root, stdio: ["ignore", "inherit", "pipe"], env: { ...process.env, CAIRN_DATABASE_URL: "" } },
);
let stderr = "";
const exited = new Promise((resolve) => server.on("exit", (code) => resolve(code)));

function stop() {
  if (server.exitCode === null && server.signalCode === null) server.kill("SIGTERM");
  return exited;
}

/**
 * newman's own runner (its CLI exits 0 even when it rejects its arguments): fails on any failed
 * assertion or request error, and when no assertion ran at all.
 */
function runCollection(globals) {
  const newman = createRequire(import.meta.url)("newman");
  return new Promise((resolve) => {
    newman.run(
      {
        collection,
        reporters: ["cli"],
        globals: { values: Object.entries(globals).map(([key, value]) => ({ key, value, type: "string" })) },
      },
      (error, summary) => {
        if (error) {
          console.error(`test:realworld: newman could not run: ${error.message}`);
          resolve(1);
          return;
        }
        const { failures, stats, error: runError } = summary.run;
        const assertions = stats.assertions.total;
        console.log(
          `test:realworld: ${stats.requests.total} requests, ${assertions} assertions, ${failures.length} failures`,
        );
        resolve(failures.length === 0 && !runError && assertions > 0 ? 0 : 1);
      },
    );
  });
}

let code = 1;
try {
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the server did not start within 60 s:\n${stderr}`)),
      60_000,
    );
    server.stderr.on("data", (chunk) => {
      stderr += chunk;
      process.stderr.write(chunk);
      const match = /on (http:\/\/[^\s]+)/.exec(stderr);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${exit}:\n${stderr}`));
    });
  });
  for (let i = 0; ; i++) {
    const health = await fetch(`${url}/_cairn/health`).catch(() => undefined);
    if (health?.status === 200) break;
    if (i > 300) throw new Error("/_cairn/health did not answer 200 within 30 s");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const unique = `${Date.now()}${process.pid}`;
  code = await runCollection({
    APIURL: `${url}/api`,
    USERNAME: `u${unique}`,
    EMAIL: `u${unique}@mail.com`,
    PASSWORD: "password",
  });
} catch (error) {
  console.error(`test:realworld: ${error.message}`);
} finally {
  await stop();
  rmSync(data, { recursive: true, force: true });
}
console.log(
  code === 0 ? "test:realworld: every request and assertion passed" : `test:realworld: failed (${code})`,
);
process.exit(code);
