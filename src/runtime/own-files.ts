import type * as Esbuild from "esbuild";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "./package-root.js";
import { defaultInstanceMemoryMb, prestart } from "./workers.js";
import { importModule } from "../shared/import-module.js";

/**
 * Files of Cairn itself that other code must load: the instance runtime (a worker thread's entry)
 * and the SDK that apps import as "cairn". The published package ships them built in dist/; when
 * Cairn runs from its TypeScript sources (its own tests), they are built on first use.
 */
const fromSource = import.meta.url.endsWith(".ts");

/** The SDK entry point that `import ... from "cairn"` resolves to inside apps. */
export const sdkEntry = fromSource
  ? join(packageRoot, "src", "index.ts")
  : join(packageRoot, "dist", "index.js");

let instanceScript: Promise<string> | undefined;

/** Path of the single-file instance runtime that every worker thread starts from. */
export function instanceRuntime(): Promise<string> {
  instanceScript ??= locateInstanceRuntime();
  return instanceScript;
}

/** For bin/cairn.js: boot the first spare worker of the shipped runtime while the CLI loads. */
export function prestartInstanceWorker(): void {
  const shipped = shippedRuntime();
  if (shipped !== undefined) prestart(shipped, defaultInstanceMemoryMb);
}

/** dist/instance.js, when Cairn runs from its build and the file is there. */
function shippedRuntime(): string | undefined {
  const shipped = join(packageRoot, "dist", "instance.js");
  return !fromSource && existsSync(shipped) ? shipped : undefined;
}

async function locateInstanceRuntime(): Promise<string> {
  const shipped = shippedRuntime();
  if (shipped !== undefined) return shipped;
  const outDir = join(packageRoot, "node_modules", ".cache", "cairn");
  mkdirSync(outDir, { recursive: true });
  const outfile = join(outDir, `instance-${process.pid}.mjs`);
  const { build } = await importModule<typeof Esbuild>("esbuild");
  await build(instanceRuntimeBuildOptions(join(packageRoot, "src", "instance", "main.ts"), outfile));
  process.once("exit", () => {
    rmSync(outfile, { force: true });
    rmSync(`${outfile}.map`, { force: true });
  });
  return outfile;
}

/** One definition of how the instance runtime is bundled, shared with the package build. */
export function instanceRuntimeBuildOptions(entry: string, outfile: string) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: "esm" as const,
    platform: "node" as const,
    target: "node20",
    sourcemap: "linked" as const,
    logLevel: "silent" as const,
  };
}
