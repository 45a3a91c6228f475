// Where the Cloudflare peers (Miniflare, and the workerd binary it ships) are, if they are installed
// in bench/node_modules (npm install --prefix bench).
import { createRequire } from "node:module";

const require = createRequire(new URL("../package.json", import.meta.url));

export const notInstalled = "is not installed (npm install --prefix bench)";

export function miniflareInstalled() {
  try {
    require.resolve("miniflare");
    return true;
  } catch {
    return false;
  }
}

/** The workerd binary's path, or undefined. */
export function workerdBinary() {
  try {
    return require("workerd").default;
  } catch {
    return undefined;
  }
}
