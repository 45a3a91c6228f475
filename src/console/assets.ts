import type * as Esbuild from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { packageRoot } from "../runtime/package-root.js";
import { importModule } from "../shared/import-module.js";

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** The console's files: the page, its stylesheet, its script (one bundle) and its icon. */
const files: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "favicon.svg": "image/svg+xml",
};

const fromSource = import.meta.url.endsWith(".ts");
let loaded: Promise<Map<string, Asset>> | undefined;

/**
 * The console's assets, loaded on the first request for one (a node that nobody opens the console
 * on never reads them). The package ships them built in dist/console/ (scripts/build.mjs); when
 * Cairn runs from its sources, the script is bundled here with esbuild, in memory.
 */
export function consoleAssets(): Promise<Map<string, Asset>> {
  loaded ??= load().catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

async function load(): Promise<Map<string, Asset>> {
  const built = join(packageRoot, "dist", "console");
  const source = join(packageRoot, "src", "console", "ui");
  const useBuilt = !fromSource && existsSync(join(built, "app.js"));
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(files)) {
    let body: Buffer;
    if (useBuilt) body = readFileSync(join(built, name));
    else if (name === "app.js") body = await bundle(join(source, "main.ts"));
    else body = readFileSync(join(source, name));
    assets.set(name, { body, type, etag: `"${createHash("sha1").update(body).digest("base64url")}"` });
  }
  return assets;
}

async function bundle(entry: string): Promise<Buffer> {
  const { build } = await importModule<typeof Esbuild>("esbuild");
  const result = await build({ ...consoleBuildOptions(entry), write: false });
  return Buffer.from(result.outputFiles[0]!.contents);
}

/** How the console's script is bundled, shared with scripts/build.mjs. */
export function consoleBuildOptions(entry: string) {
  return {
    entryPoints: [entry],
    bundle: true,
    format: "iife" as const,
    platform: "browser" as const,
    target: "es2022",
    minify: true,
    legalComments: "none" as const,
    logLevel: "silent" as const,
    outfile: "app.js",
  };
}
