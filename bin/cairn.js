#!/usr/bin/env node
import { fileURLToPath } from "node:url";

const command = process.argv[2];
const serving = command === "start" || command === "dev";
if (serving) {
  // The first instance worker boots on another core while the CLI loads, instead of after it.
  const { prestartInstanceWorker } = await import("../dist/runtime/own-files.js");
  prestartInstanceWorker();
}
const { runCached } = await import("../dist/cli/compile-cache.js");
// A serving run writes the code cache once it has been up for two seconds, so that the cache holds
// what start-up compiles; other commands only read it.
runCached(fileURLToPath(new URL("../dist/cli.cjs", import.meta.url)), {
  writeAfterMs: serving ? 2000 : undefined,
});
