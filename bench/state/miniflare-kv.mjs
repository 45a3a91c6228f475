// The miniflare_kv side of bench/state: Miniflare serving kv-worker.mjs with a KV namespace persisted
// to a folder (argv[3]), so that its writes outlive the process as Cairn's do.
import { readFileSync } from "node:fs";
import { Miniflare } from "miniflare";

const port = Number(process.argv[2]);
const persistTo = process.argv[3];
const miniflare = new Miniflare({
  modules: true,
  script: readFileSync(new URL("kv-worker.mjs", import.meta.url), "utf8"),
  kvNamespaces: ["KV"],
  kvPersist: persistTo,
  host: "127.0.0.1",
  port,
  cf: false,
});
await miniflare.ready;
process.on("SIGTERM", () => miniflare.dispose().then(() => process.exit(0)));
