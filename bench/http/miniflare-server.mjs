// The miniflare side of bench/http: Miniflare (bench/node_modules) serving worker.mjs on a fixed
// loopback port, in its default configuration apart from `cf: false` (no fetch of the request
// metadata from the network, which this machine does not reach).
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

const port = Number(process.argv[2]);
const miniflare = new Miniflare({
  modules: true,
  script: readFileSync(new URL("worker.mjs", import.meta.url), "utf8"),
  host: "127.0.0.1",
  port,
  cf: false,
});
await miniflare.ready;
process.on("SIGTERM", () => miniflare.dispose().then(() => process.exit(0)));
