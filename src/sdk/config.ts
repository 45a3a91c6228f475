import type { FunctionOptions } from "./options.js";

/** The app's `cairn.config.ts` default export. Every field is optional. */
export interface AppConfig {
  /** Name of the app (default: its folder name). */
  name?: string;
  /** Defaults for every function of the app; a declaration's own options win. */
  functions?: FunctionOptions;
  limits?: {
    /** Largest request body a function accepts, in bytes (default 6 MB). Larger bodies get 413. */
    bodySize?: number;
  };
  /** Plain configuration values, visible to functions as `ctx.env`. */
  vars?: Record<string, string>;
  /** Names of secrets that must be set, in the app's `.env` file or the environment. */
  secrets?: string[];
  build?: {
    /** Packages left out of the bundle and loaded from node_modules at run time (native addons). */
    external?: string[];
  };
}

/** Identity function that gives `cairn.config.ts` its types. */
export function defineConfig<const Config extends AppConfig>(config: Config): Config {
  return config;
}
