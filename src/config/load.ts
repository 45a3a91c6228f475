import type * as Esbuild from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse as parseEnv } from "dotenv";
import * as v from "valibot";
import type { AppConfig } from "../sdk/config.js";
import { CairnError } from "../sdk/errors.js";
import { readCache, writeCache } from "../runtime/fingerprint.js";
import { sdkEntry } from "../runtime/own-files.js";
import { configSchema, describeIssues } from "./schema.js";
import { importModule } from "../shared/import-module.js";

export interface LoadedConfig {
  name: string;
  config: AppConfig;
  /** Path of the config file, if the app has one. */
  file: string | undefined;
  secrets: Record<string, string>;
  vars: Record<string, string>;
}

const configNames = ["cairn.config.ts", "cairn.config.mts", "cairn.config.js", "cairn.config.mjs"];

export function findConfigFile(appDir: string): string | undefined {
  return configNames.map((name) => join(appDir, name)).find((path) => existsSync(path));
}

/** Read an app's cairn.config.ts (bundled on the host, like any build tool's config) and its .env. */
export async function loadConfig(
  appDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedConfig> {
  const file = findConfigFile(appDir);
  const raw = file === undefined ? {} : await importConfig(appDir, file);
  const result = v.safeParse(configSchema(), raw);
  if (!result.success) {
    throw new CairnError(
      "invalid_config",
      `${file ?? appDir} is not a valid configuration:\n  ${describeIssues(result.issues).join("\n  ")}`,
    );
  }
  const config = result.output as AppConfig;
  const name = config.name ?? basename(appDir);
  return { name, config, file, secrets: readSecrets(appDir, config, env), vars: { ...config.vars } };
}

/**
 * The config is TypeScript, so it is bundled before it is imported; the bundle is kept under
 * .cairn/config/ and reused while the config and everything it imports are unchanged.
 */
async function importConfig(appDir: string, file: string): Promise<unknown> {
  const cacheFile = join(appDir, ".cairn", "config.json");
  const extraKey = `${file}\0${sdkEntry}`;
  let bundle = readCache<string>(cacheFile, extraKey);
  if (bundle === undefined || !existsSync(bundle))
    bundle = await bundleConfig(appDir, file, cacheFile, extraKey);
  try {
    const module = await importModule<{ default?: unknown }>(pathToFileURL(bundle).href);
    if (module.default === undefined) {
      throw new CairnError(
        "invalid_config",
        `${file} must have a default export: export default defineConfig({ ... })`,
      );
    }
    return module.default;
  } catch (error) {
    if (error instanceof CairnError) throw error;
    throw new CairnError("invalid_config", `could not load ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function bundleConfig(
  appDir: string,
  file: string,
  cacheFile: string,
  extraKey: string,
): Promise<string> {
  const { build } = await importModule<typeof Esbuild>("esbuild");
  let result;
  const temp = join(appDir, ".cairn", "config", `building-${process.pid}.mjs`);
  try {
    result = await build({
      entryPoints: [file],
      outfile: temp,
      absWorkingDir: appDir,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      alias: { cairn: sdkEntry },
      packages: "external",
      metafile: true,
      logLevel: "silent",
    });
  } catch (error) {
    rmSync(temp, { force: true });
    const first = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } }> })
      .errors?.[0];
    const where = first?.location ? `${first.location.file}:${first.location.line}: ` : "";
    throw new CairnError(
      "invalid_config",
      `could not build ${file}: ${where}${first?.text ?? String(error)}`,
      {
        cause: error,
      },
    );
  }
  // Named by content, so an import after a change never hits the module cache of the old one.
  const hash = createHash("sha256").update(readFileSync(temp)).digest("hex").slice(0, 16);
  const bundle = join(appDir, ".cairn", "config", `${hash}.mjs`);
  renameSync(temp, bundle);
  const inputs = Object.keys(result.metafile.inputs).map((input) => join(appDir, input));
  writeCache(cacheFile, inputs, extraKey, bundle);
  return bundle;
}

/** Secrets: every entry of the app's .env file, and each declared name, the environment winning. */
function readSecrets(appDir: string, config: AppConfig, env: NodeJS.ProcessEnv): Record<string, string> {
  const envFile = join(appDir, ".env");
  const fromFile = existsSync(envFile) ? parseEnv(readFileSync(envFile)) : {};
  const secrets: Record<string, string> = {};
  for (const name of new Set([...Object.keys(fromFile), ...(config.secrets ?? [])])) {
    const value = env[name] ?? fromFile[name];
    if (value !== undefined) secrets[name] = value;
  }
  const missing = (config.secrets ?? []).filter((name) => secrets[name] === undefined);
  if (missing.length > 0) {
    throw new CairnError(
      "missing_secret",
      `secret${missing.length > 1 ? "s" : ""} ${missing.join(", ")} not set: add ${missing.length > 1 ? "them" : "it"} to ${envFile} or the environment`,
    );
  }
  return secrets;
}
