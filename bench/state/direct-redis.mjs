// The direct_redis side of bench/state: a node:http handler doing the cache scenarios' work with
// ioredis on Redis directly (one connection, as Cairn's cache driver), under a key prefix (argv[4])
// that bench/state/index.mjs deletes afterwards.
import { createServer } from "node:http";
import { Redis } from "ioredis";

const port = Number(process.argv[2]);
const redis = new Redis(process.argv[3]);
const prefix = process.argv[4];

createServer((req, res) => {
  const [, op, id] = req.url.split("/");
  const reply = (status, body) => {
    res.writeHead(status, status === 200 ? { "content-type": "application/json" } : {});
    res.end(body);
  };
  const fail = (error) => reply(500, String(error));
  if (op === "cache-get") {
    redis.get(prefix + id).then((value) => reply(200, value ?? "null"), fail);
  } else if (op === "cache-set") {
    const value = JSON.stringify({ value: "x".repeat(100), at: Date.now() });
    redis.set(prefix + id, value, "PX", 5 * 60_000).then(() => reply(204), fail);
  } else reply(404);
}).listen(port, "127.0.0.1");
process.on("SIGTERM", () => redis.quit().then(() => process.exit(0)));
