// npm test: the embedded suites always; the scale-out suites (PostgreSQL, Redis) when those
// answer. It says plainly what it skipped and how to enable it. With CAIRN_TEST_REQUIRE_SCALEOUT=1
// (set by .ci/run) a missing backend is an error instead of a skip.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { defaults, postgresAnswers, redisAnswers } from "./services.mjs";

const required = process.env.CAIRN_TEST_REQUIRE_SCALEOUT === "1";
const env = { ...process.env };
const skipped = [];

if (await postgresAnswers(defaults.databaseUrl)) env.CAIRN_TEST_DATABASE_URL = defaults.databaseUrl;
else skipped.push(["PostgreSQL", defaults.databaseUrl, "CAIRN_TEST_DATABASE_URL"]);
if (await redisAnswers(defaults.redisUrl)) env.CAIRN_TEST_REDIS_URL = defaults.redisUrl;
else skipped.push(["Redis", defaults.redisUrl, "CAIRN_TEST_REDIS_URL"]);

// The console's browser suite needs Chromium (Debian's package, or CAIRN_TEST_CHROMIUM).
const chromium = process.env.CAIRN_TEST_CHROMIUM ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  const line = `Chromium is not at ${chromium}: the console's browser suite is skipped. Install it (apt-get install chromium) or set CAIRN_TEST_CHROMIUM to a Chromium binary.`;
  if (required) {
    console.error(`error: ${line}`);
    process.exit(1);
  }
  console.warn(`note: ${line}`);
}

for (const [name, url, variable] of skipped) {
  const line = `${name} does not answer at ${url}: its scale-out suites are skipped. Start ${name} there, or set ${variable} to one that runs.`;
  if (required) {
    console.error(`error: ${line}`);
    process.exit(1);
  }
  console.warn(`note: ${line}`);
}
if (skipped.length === 0)
  console.log(
    `scale-out suites enabled: PostgreSQL ${env.CAIRN_TEST_DATABASE_URL}, Redis ${env.CAIRN_TEST_REDIS_URL}`,
  );

const result = spawnSync(
  process.execPath,
  ["node_modules/vitest/vitest.mjs", "run", ...process.argv.slice(2)],
  {
    stdio: "inherit",
    env,
  },
);
if (skipped.length > 0)
  console.warn(`\nskipped: ${skipped.map(([name]) => `${name} suites`).join(", ")} (see the notes above)`);
process.exit(result.status ?? 1);
