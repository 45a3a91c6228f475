// The limit for state operations on one machine: a node:http handler calling better-sqlite3
// directly, in the same durability mode Cairn uses (WAL, synchronous=FULL: each write is fsync'd).
import { createServer } from "node:http";
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

const port = Number(process.argv[2]);
const dir = mkdtempSync(join(tmpdir(), "direct-sqlite-"));
const db = new Database(join(dir, "bench.db"));
// The cache and blob scenarios' direct counterparts: a Map, and files written atomically with fsync.
const cache = new Map();
const blob = Buffer.alloc(64 * 1024, 120);
function putBlob(id) {
  const temp = join(dir, `${id}.tmp`);
  const fd = openSync(temp, "w");
  writeSync(fd, blob);
  fsyncSync(fd);
  closeSync(fd);
  renameSync(temp, join(dir, `${id}.blob`));
}
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec("CREATE TABLE kv (id TEXT PRIMARY KEY, data TEXT NOT NULL)");
db.exec("CREATE TABLE feed (p INTEGER NOT NULL, n INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (p, n))");
const get = db.prepare("SELECT data FROM kv WHERE id = ?");
const put = db.prepare(
  "INSERT INTO kv (id, data) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET data = excluded.data",
);
const feed = db.prepare("SELECT data FROM feed WHERE p = ? ORDER BY n DESC LIMIT 20");
const seed = db.prepare("INSERT INTO feed (p, n, data) VALUES (?, ?, ?)");
db.transaction(() => {
  for (let p = 0; p < 10; p++)
    for (let n = 0; n < 100; n++) seed.run(p, n, JSON.stringify({ p, n, text: "y".repeat(80) }));
})();

createServer((req, res) => {
  const [, op, id] = req.url.split("/");
  if (op === "get") {
    const row = get.get(id);
    const body = row ? row.data : "null";
    res.writeHead(200, { "content-type": "application/json" });
    res.end(body);
  } else if (op === "put") {
    put.run(id, JSON.stringify({ id, value: "x".repeat(100), at: Date.now() }));
    res.writeHead(204);
    res.end();
  } else if (op === "getput") {
    const row = get.get(id);
    const count = row ? (JSON.parse(row.data).count ?? 0) : 0;
    put.run(id, JSON.stringify({ id, value: "x".repeat(100), count: count + 1 }));
    res.writeHead(204);
    res.end();
  } else if (op === "query") {
    const rows = feed.all(Number(id));
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`[${rows.map((row) => row.data).join(",")}]`);
  } else if (op === "cache-get") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(cache.get(id) ?? "null");
  } else if (op === "cache-set") {
    cache.set(id, JSON.stringify({ value: "x".repeat(100), at: Date.now() }));
    res.writeHead(204);
    res.end();
  } else if (op === "blob-put") {
    putBlob(id);
    res.writeHead(204);
    res.end();
  } else if (op === "blob-get") {
    let bytes;
    try {
      bytes = readFileSync(join(dir, `${id}.blob`));
    } catch {
      res.writeHead(404);
      res.end();
      return;
    }
    res.writeHead(200, { "content-type": "application/octet-stream" });
    res.end(bytes);
  } else {
    res.writeHead(404);
    res.end();
  }
}).listen(port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
