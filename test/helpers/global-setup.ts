import { execFileSync } from "node:child_process";

/** CLI tests run bin/cairn.js, which loads dist/: build it once before any test file runs. */
export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
