// How the dispatcher's claim scales with a backlog: fill the embedded store with N due messages of
// one consumer, then drain them the way the dispatcher does (claim up to 500 under a lease in one
// commit, acknowledge them in the next), with Cairn's own store and message functions from dist/.
//   node bench/events/claim-backlog.mjs 50000 200000   (CAIRN_DIST=<another build's dist> to compare)
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const dist = process.env.CAIRN_DIST ?? new URL("../../dist", import.meta.url).pathname;
const load = (path) => import(pathToFileURL(join(dist, path)).href);
const { SqliteStore } = await load("store/sqlite/store.js");
const { claim, acknowledge } = await load("events/messages.js");
const { insertMessage } = await load("events/publisher.js");

for (const total of process.argv.slice(2).map(Number)) {
  const dir = mkdtempSync(join(tmpdir(), "claim-backlog-"));
  const store = SqliteStore.open(join(dir, "cairn.db"));
  const now = Date.now();
  for (let sent = 0; sent < total; sent += 1000) {
    await store.transaction(async (tx) => {
      for (let i = sent; i < Math.min(total, sent + 1000); i++) {
        // Sent over time, as a backlog builds: due in send order, a few to a millisecond.
        const at = now - Math.floor((total - i) / 4);
        await insertMessage(tx, "q:work", "work", null, `{"n":${i}}`, at, at);
      }
    });
  }
  const started = performance.now();
  let drained = 0;
  for (;;) {
    const rows = await store.transaction((tx) => claim(tx, "q:work", now + 1, now + 60_000, "bench", 500));
    if (rows.length === 0) break;
    await store.transaction(async (tx) => {
      for (const row of rows) await acknowledge(tx, row.id, "bench");
    });
    drained += rows.length;
  }
  const ms = performance.now() - started;
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    JSON.stringify({
      backlog: total,
      drained,
      ms: Math.round(ms),
      perSecond: Math.round((drained / ms) * 1000),
    }),
  );
}
