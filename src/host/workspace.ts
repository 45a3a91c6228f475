import { readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { findConfigFile } from "../config/load.js";
import { CairnError } from "../sdk/errors.js";
import { isDirectory } from "../runtime/build.js";

export interface Workspace {
  /** Absolute app folders. */
  apps: string[];
  /** True when `dir` is a folder of apps rather than an app itself. */
  workspace: boolean;
}

export function isApp(dir: string): boolean {
  return isDirectory(join(dir, "functions")) || findConfigFile(dir) !== undefined;
}

/** `dir` is an app (it has functions/ or a cairn.config.ts) or a folder whose sub-folders are apps. */
export function findApps(dir: string): Workspace {
  const root = resolve(dir);
  if (!isDirectory(root)) throw new CairnError("no_app", `${root} is not a folder`);
  if (isApp(root)) return { apps: [root], workspace: false };
  const apps = readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith(".") && entry.name !== "node_modules")
    .map((entry) => join(root, entry.name))
    .filter(isApp)
    .sort();
  if (apps.length === 0) {
    throw new CairnError(
      "no_app",
      `no app in ${root}: an app is a folder with a functions/ folder (or a cairn.config.ts); ` +
        "a folder of such apps serves them all",
    );
  }
  return { apps, workspace: true };
}
