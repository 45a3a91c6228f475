import { randomBytes } from "node:crypto";
import { existsSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import { loadConfig, type LoadedConfig } from "../config/load.js";
import { CairnError } from "../sdk/errors.js";
import type { DiscoveredFunction, DiscoveredTrigger } from "../shared/protocol.js";
import { buildApp, buildsRoot, functionSources, pruneBuilds, type AppBuild } from "./build.js";
import { discover } from "./discover.js";
import { hashOf, readCache, writeCache } from "./fingerprint.js";
import { checkOptions, defaultSettings, resolveSettings, type PoolSettings } from "./settings.js";
import { appFrame, formatSite } from "./sites.js";
import type { WorkerFactory } from "./workers.js";

/** One function of an app, as the router and its pool need it. */
export interface FunctionSpec {
  app: string;
  name: string;
  kind: "http" | "mount" | "event" | "queue" | "schedule" | "workflow";
  /** What a trigger function subscribes to (event, queue and schedule functions). */
  trigger?: DiscoveredTrigger;
  methods: string[] | "*";
  /** Route path (http) or mount prefix. */
  path: string;
  stripPrefix: boolean;
  module: string;
  exportName: string;
  /** Where it was declared, "functions/x.ts:3". */
  site: string;
  settings: PoolSettings;
}

export interface LoadedApp {
  name: string;
  dir: string;
  dataDir: string;
  config: LoadedConfig;
  build: AppBuild;
  functions: FunctionSpec[];
  /** Largest request body in bytes. */
  bodyLimit: number;
}

export const defaultBodyLimit = 6 * 1024 * 1024;

export interface LoadOptions {
  factory: WorkerFactory;
  /** The instance runtime script: discovery runs in it, so its version is part of the cache key. */
  runtime: string;
  strict: boolean;
  env: NodeJS.ProcessEnv;
  dataDir: (appName: string, appDir: string) => string;
}

interface Prepared {
  dir: string;
  config: LoadedConfig;
  build: AppBuild;
  /** Known from the build cache; otherwise discovered below. */
  found: DiscoveredFunction[] | undefined;
  cacheFile: string;
  cacheKey: string;
}

/**
 * Load apps all or nothing: read configs, build, discover declarations and check them. Any problem
 * in any app fails the whole load with every problem listed, so a server never starts half-loaded.
 * An app whose sources, config and environment are unchanged since its last load reuses that
 * build and its list of functions.
 */
export async function loadApps(dirs: string[], options: LoadOptions): Promise<LoadedApp[]> {
  const prepared = await Promise.all(dirs.map((dir) => prepare(dir, options)));
  try {
    const names = new Map<string, string>();
    for (const { dir, config } of prepared) {
      const other = names.get(config.name);
      if (other !== undefined) {
        throw new CairnError(
          "load_failed",
          `two apps are named "${config.name}": ${other} and ${dir}; set name in one config`,
        );
      }
      names.set(config.name, dir);
    }
    const unknown = prepared.filter((app) => app.found === undefined);
    if (unknown.length > 0) {
      let found: DiscoveredFunction[];
      try {
        found = await discover(
          options.factory,
          unknown.map(({ build, config }) => ({
            modules: build.modules.map((module) => module.url),
            env: { ...config.vars, ...config.secrets },
          })),
          defaultSettings.memoryMb,
        );
      } catch (error) {
        throw describeLoadError(error, unknown);
      }
      for (const app of unknown) {
        const own = new Set(app.build.modules.map((module) => module.url));
        app.found = found.filter((fn) => own.has(fn.module));
      }
    }
    const apps = prepared.map(({ dir, config, build, found }) => ({
      name: config.name,
      dir,
      dataDir: options.dataDir(config.name, dir),
      config,
      build,
      functions: toSpecs(dir, config, found ?? [], build, options.strict),
      bodyLimit: config.config.limits?.bodySize ?? defaultBodyLimit,
    }));
    for (const app of unknown) {
      writeCache(app.cacheFile, [...app.build.inputs, options.runtime], app.cacheKey, {
        build: app.build,
        found: app.found,
      });
      pruneBuilds(app.dir, app.build.dir);
    }
    return apps;
  } catch (error) {
    for (const app of prepared) if (app.found === undefined) removeBuild(app.build);
    throw error;
  }
}

async function prepare(dir: string, options: LoadOptions): Promise<Prepared> {
  const config = await loadConfig(dir, options.env);
  const entries = functionSources(dir);
  const external = config.config.build?.external ?? [];
  const cacheFile = join(buildsRoot(dir), "cache.json");
  const cacheKey = JSON.stringify({ entries, external, env: hashOf({ ...config.vars, ...config.secrets }) });
  const cached = readCache<{ build: AppBuild; found: DiscoveredFunction[] }>(cacheFile, cacheKey);
  if (cached !== undefined && existsSync(cached.build.dir)) {
    return { dir, config, build: cached.build, found: cached.found, cacheFile, cacheKey };
  }
  const out = join(buildsRoot(dir), `${Date.now().toString(36)}-${randomBytes(4).toString("hex")}`);
  const build = await buildApp(dir, entries, external, out);
  return { dir, config, build, found: undefined, cacheFile, cacheKey };
}

export function removeBuild(build: AppBuild): void {
  rmSync(build.dir, { recursive: true, force: true });
}

function toSpecs(
  dir: string,
  config: LoadedConfig,
  found: DiscoveredFunction[],
  build: AppBuild,
  strict: boolean,
): FunctionSpec[] {
  const problems: string[] = [];
  const byName = new Map<string, FunctionSpec>();
  const sourceOf = new Map(build.modules.map((module) => [module.url, module.source]));
  const specs: FunctionSpec[] = [];
  for (const fn of found) {
    const site = formatSite(fn.site, dir);
    const source = sourceOf.get(fn.module) ?? fn.module;
    const name = fn.exportName === "default" ? basename(source).replace(/\.[^.]+$/, "") : fn.exportName;
    const optionProblems = checkOptions(fn.options);
    if (optionProblems.length > 0) {
      problems.push(...optionProblems.map((problem) => `${site}: ${name} options.${problem}`));
      continue;
    }
    const spec: FunctionSpec = {
      app: config.name,
      name,
      kind: fn.kind,
      ...(fn.trigger !== undefined && { trigger: fn.trigger }),
      methods: fn.kind === "http" ? (fn.methods ?? "*") : "*",
      path: (fn.kind === "http" ? fn.path : fn.prefix) ?? "/",
      stripPrefix: fn.stripPrefix ?? false,
      module: fn.module,
      exportName: fn.exportName,
      site,
      settings: resolveSettings(config.config.functions, fn.options, strict),
    };
    const clash = byName.get(name);
    if (clash !== undefined) {
      problems.push(`${site}: a function named "${name}" is already declared at ${clash.site}`);
      continue;
    }
    byName.set(name, spec);
    specs.push(spec);
  }
  if (problems.length > 0) {
    throw new CairnError(
      "load_failed",
      `app ${config.name} (${dir}) has problems:\n  ${problems.join("\n  ")}`,
    );
  }
  return specs;
}

function describeLoadError(error: unknown, apps: Array<{ dir: string; config: LoadedConfig }>): CairnError {
  const message = error instanceof Error ? error.message : String(error);
  const stack = error instanceof Error ? error.stack : undefined;
  for (const { dir, config } of apps) {
    const site = appFrame(stack, dir);
    if (site !== undefined) {
      return new CairnError("load_failed", `app ${config.name} failed to load: ${site}: ${message}`, {
        cause: error,
      });
    }
  }
  return new CairnError("load_failed", `loading failed: ${message}`, { cause: error });
}

export function appDataDir(
  base: string | undefined,
  workspace: boolean,
  appName: string,
  appDir: string,
): string {
  if (base === undefined) return join(appDir, ".cairn");
  return workspace ? join(base, appName) : base;
}
