// Builds dist/ from src/: every module transpiled one to one (the library), the instance runtime
// bundled into one file (dist/instance.js) so a worker thread starts by loading a single module,
// and the CLI bundled with its small dependencies into one CommonJS file (dist/cli.cjs) so that
// `cairn start` loads few files and bin/cairn.js can run it through V8's code cache
// (src/cli/compile-cache.ts).
import { copyFileSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const src = join(root, "src");
const dist = join(root, "dist");

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts") ? [path] : [];
  });
}

const started = performance.now();
// dist/ is overwritten in place, not removed first: builds running side by side (test runs
// started together) must not pull files out from under each other.
await Promise.all([
  build({
    entryPoints: sources(src),
    outdir: dist,
    outbase: src,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
  }),
  build({
    entryPoints: [join(src, "instance", "main.ts")],
    outfile: join(dist, "instance.js"),
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
  }),
  build({
    entryPoints: [join(src, "cli", "main.ts")],
    outfile: join(dist, "cli.cjs"),
    bundle: true,
    format: "cjs",
    platform: "node",
    target: "node20",
    sourcemap: "linked",
    logLevel: "warning",
    // Loaded lazily, native, or spawning helpers of their own: these stay in node_modules.
    external: [
      "esbuild",
      "chokidar",
      "pino-pretty",
      "better-sqlite3",
      "pg",
      "pg-native",
      "ioredis",
      "@aws-sdk/*",
    ],
    // The sources find Cairn's own files from import.meta.url.
    define: { "import.meta.url": "__cairnModuleUrl" },
    banner: { js: 'var __cairnModuleUrl = require("node:url").pathToFileURL(__filename).href;' },
  }),
  // The web console: one script for the browser (the same options as src/console/assets.ts), and
  // its page, stylesheet and icon as they are.
  build({
    entryPoints: [join(src, "console", "ui", "main.ts")],
    outfile: join(dist, "console", "app.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    minify: true,
    legalComments: "none",
    logLevel: "warning",
  }).then(() => {
    for (const file of ["index.html", "app.css", "favicon.svg"]) {
      mkdirSync(join(dist, "console"), { recursive: true });
      copyFileSync(join(src, "console", "ui", file), join(dist, "console", file));
    }
  }),
]);
console.log(`built dist/ in ${Math.round(performance.now() - started)} ms`);
