// Type-check Cairn itself, then every app (examples/*, bench/*/app) with its own tsconfig: an app
// registers its config's type globally, so apps cannot share one compilation.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const projects = ["tsconfig.json"];
for (const parent of ["examples", "bench"]) {
  for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const candidate of [join(parent, entry.name), join(parent, entry.name, "app")]) {
      if (existsSync(join(root, candidate, "tsconfig.json"))) projects.push(join(candidate, "tsconfig.json"));
    }
  }
}
let failed = false;
for (const project of projects) {
  const result = spawnSync(
    process.execPath,
    [join(root, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", project],
    {
      cwd: root,
      stdio: "inherit",
    },
  );
  if (result.status !== 0) {
    console.error(`type check failed: ${project}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
