import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** "file:///app/functions/x.ts:3:20" → "functions/x.ts:3" relative to the app (or workspace) folder. */
export function formatSite(site: string | undefined, baseDir: string): string {
  if (site === undefined) return "(unknown location)";
  const match = /^(.*):(\d+):(\d+)$/.exec(site);
  if (match === null) return site;
  const [, file = "", line = ""] = match;
  let path = file;
  try {
    path = file.startsWith("file:") ? fileURLToPath(file) : file;
  } catch {
    // keep the raw form
  }
  const rel = relative(baseDir, path);
  return `${rel.startsWith("..") ? path : rel}:${line}`;
}

/** The first stack frame inside `baseDir` but outside its build output, formatted as a site. */
export function appFrame(stack: string | undefined, baseDir: string): string | undefined {
  if (stack === undefined) return undefined;
  for (const line of stack.split("\n")) {
    const match = /\(?((?:file:\/\/)?\/[^()\s]+?:\d+:\d+)\)?\s*$/.exec(line.trim());
    if (match?.[1] === undefined) continue;
    const site = formatSite(match[1], baseDir);
    if (!site.startsWith("/") && !site.includes(".cairn/") && !site.includes("node_modules/")) return site;
  }
  return undefined;
}
