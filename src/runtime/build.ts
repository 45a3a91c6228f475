import type * as Esbuild from "esbuild";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { pathToFileURL } from "node:url";
import type { BuildFailure, Message } from "esbuild";
import { CairnError } from "../sdk/errors.js";
import { sdkEntry } from "./own-files.js";
import { importModule } from "../shared/import-module.js";

export interface AppBuild {
  /** Folder holding this build's output. */
  dir: string;
  /** Bundled module per source file: source path relative to the app, and output file URL. */
  modules: Array<{ source: string; url: string }>;
  /** Every file the build read, for the watcher and the build cache. */
  inputs: string[];
}

const sourcePattern = /\.(?:[cm]?[jt]s|tsx|jsx)$/;
const ignored = /(?:\.d\.ts|\.test\.[cm]?[jt]sx?|\.spec\.[cm]?[jt]sx?)$/;

/** Source files under functions/ are the app's entry points; names starting with "_" are helpers. */
export function functionSources(appDir: string): string[] {
  const root = join(appDir, "functions");
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith("_") || entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (sourcePattern.test(entry.name) && !ignored.test(entry.name)) found.push(path);
    }
  };
  if (isDirectory(root)) walk(root);
  return found.sort();
}

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export function buildsRoot(appDir: string): string {
  return join(appDir, ".cairn", "build");
}

/** Builds kept on disk: older ones are removed, as long as no recent process could still load them. */
const keptBuilds = 5;

export function pruneBuilds(appDir: string, keep: string): void {
  const root = buildsRoot(appDir);
  if (!isDirectory(root)) return;
  const dirs = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => ({ path: join(root, entry.name), mtime: statSync(join(root, entry.name)).mtimeMs }))
    .filter((dir) => dir.path !== keep)
    .sort((a, b) => b.mtime - a.mtime);
  for (const dir of dirs.slice(keptBuilds - 1)) rmSync(dir.path, { recursive: true, force: true });
}

/**
 * Bundle an app's function modules for instances: ESM, code split so helpers shared by several
 * modules load once, with source maps so stack traces point at the TypeScript sources.
 */
export async function buildApp(
  appDir: string,
  entryPoints: string[],
  external: string[],
  dir: string,
): Promise<AppBuild> {
  if (entryPoints.length === 0) {
    throw new CairnError(
      "load_failed",
      `${appDir} has no function modules: put them in ${join(appDir, "functions")}/`,
    );
  }
  const { build } = await importModule<typeof Esbuild>("esbuild");
  try {
    const result = await build({
      entryPoints,
      outdir: dir,
      outbase: appDir,
      absWorkingDir: appDir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      outExtension: { ".js": ".mjs" },
      alias: { cairn: sdkEntry },
      external,
      metafile: true,
      logLevel: "silent",
      // Bundled CommonJS dependencies may call require(), which ES modules lack.
      banner: {
        js: [
          'import { createRequire as __cairnRequire } from "node:module";',
          "const require = __cairnRequire(import.meta.url);",
        ].join("\n"),
      },
    });
    const modules = entryPoints.map((source) => {
      const rel = relative(appDir, source);
      const out = join(dir, rel.replace(sourcePattern, ".mjs"));
      return { source: rel.split(sep).join("/"), url: pathToFileURL(out).href };
    });
    const inputs = Object.keys(result.metafile.inputs).map((input) => join(appDir, input));
    return { dir, modules, inputs };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw buildError(appDir, error);
  }
}

function buildError(appDir: string, error: unknown): CairnError {
  const errors = (error as BuildFailure).errors as Message[] | undefined;
  if (!Array.isArray(errors)) {
    return new CairnError("build_failed", `could not build ${appDir}: ${String(error)}`, { cause: error });
  }
  const lines = errors.map((message) => {
    const where = message.location
      ? `${message.location.file}:${message.location.line}:${message.location.column + 1}: `
      : "";
    return `${where}${message.text}`;
  });
  return new CairnError("build_failed", `could not build ${appDir}:\n  ${lines.join("\n  ")}`, {
    cause: error,
  });
}
