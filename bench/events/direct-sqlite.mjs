// The floor for durable queueing on this disk: one process moving messages through a better-sqlite3
// table with every commit on disk before it counts (WAL, synchronous=FULL: the guarantee Cairn gives,
// which it gets by syncing the log itself), with no functions, threads or HTTP in the way. A
// producer commits batches of 100; a consumer leases up to 100 due messages in one commit and
// deletes them in another (at least once: a lease, then an acknowledgement), as Cairn's dispatcher
// does. Prints {"messages", "ms", "perSecond", "cpuUsPerMessage"} as one JSON line.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

const total = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), "events-direct-"));
const db = new Database(join(dir, "queue.db"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec(`CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL, available_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0, lease_owner TEXT)`);
db.exec("CREATE INDEX messages_due ON messages (available_at)");
const insert = db.prepare("INSERT INTO messages (payload, available_at) VALUES (?, ?)");
const claim = db.prepare(
  `UPDATE messages SET available_at = ?, lease_owner = 'me', attempts = attempts + 1
   WHERE id IN (SELECT id FROM messages WHERE available_at <= ? ORDER BY id LIMIT 100) RETURNING id, payload`,
);
const remove = db.prepare("DELETE FROM messages WHERE id = ? AND lease_owner = 'me'");
const send = db.transaction((from) => {
  const now = Date.now();
  for (let i = 0; i < 100; i++) insert.run(JSON.stringify({ n: from + i }), now);
});
const lease = db.transaction(() => {
  const now = Date.now();
  return claim.all(now + 30_000, now);
});
const ack = db.transaction((rows) => {
  for (const row of rows) remove.run(row.id);
});
const turn = () => new Promise((resolve) => setImmediate(resolve));

const started = performance.now();
const cpu = process.cpuUsage();
let handled = 0;
const producer = (async () => {
  for (let sent = 0; sent < total; sent += 100) {
    send(sent);
    await turn();
  }
})();
const consumer = (async () => {
  while (handled < total) {
    const rows = lease();
    for (const row of rows) JSON.parse(row.payload);
    if (rows.length > 0) ack(rows);
    handled += rows.length;
    await turn();
  }
})();
await Promise.all([producer, consumer]);
const ms = performance.now() - started;
const used = process.cpuUsage(cpu);
db.close();
rmSync(dir, { recursive: true, force: true });
console.log(
  JSON.stringify({
    messages: total,
    ms,
    perSecond: (total / ms) * 1000,
    cpuUsPerMessage: (used.user + used.system) / total,
  }),
);
