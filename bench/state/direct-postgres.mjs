// The direct_postgres side of bench/state: a node:http handler doing the table scenarios' work with
// pg on PostgreSQL directly (a pool of 10, as Cairn's store), in a schema of its own (argv[4]) that
// bench/state/index.mjs drops and makes anew. Each statement commits on its own (autocommit), as
// direct-sqlite.mjs's do.
import { createServer } from "node:http";
import pg from "pg";

const port = Number(process.argv[2]);
const databaseUrl = process.argv[3];
const schema = process.argv[4];
const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
await pool.query(`CREATE TABLE ${schema}.kv (id TEXT PRIMARY KEY, data TEXT NOT NULL)`);
await pool.query(
  `CREATE TABLE ${schema}.feed (p INTEGER NOT NULL, n INTEGER NOT NULL, data TEXT NOT NULL, PRIMARY KEY (p, n))`,
);
await pool.query(
  `INSERT INTO ${schema}.feed (p, n, data)
   SELECT p, n, json_build_object('p', p, 'n', n, 'text', repeat('y', 80))::text
   FROM generate_series(0, 9) AS p, generate_series(0, 99) AS n`,
);
// Named statements: pg prepares each once per connection, as a driver in production would.
const get = { name: "get", text: `SELECT data FROM ${schema}.kv WHERE id = $1` };
const put = {
  name: "put",
  text: `INSERT INTO ${schema}.kv (id, data) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET data = excluded.data`,
};
const feed = { name: "feed", text: `SELECT data FROM ${schema}.feed WHERE p = $1 ORDER BY n DESC LIMIT 20` };

async function handle(op, id, res) {
  if (op === "get") {
    const { rows } = await pool.query({ ...get, values: [id] });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(rows.length > 0 ? rows[0].data : "null");
  } else if (op === "put") {
    await pool.query({
      ...put,
      values: [id, JSON.stringify({ id, value: "x".repeat(100), at: Date.now() })],
    });
    res.writeHead(204);
    res.end();
  } else if (op === "getput") {
    const { rows } = await pool.query({ ...get, values: [id] });
    const count = rows.length > 0 ? (JSON.parse(rows[0].data).count ?? 0) : 0;
    await pool.query({
      ...put,
      values: [id, JSON.stringify({ id, value: "x".repeat(100), count: count + 1 })],
    });
    res.writeHead(204);
    res.end();
  } else if (op === "query") {
    const { rows } = await pool.query({ ...feed, values: [Number(id)] });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(`[${rows.map((row) => row.data).join(",")}]`);
  } else {
    res.writeHead(404);
    res.end();
  }
}

createServer((req, res) => {
  const [, op, id] = req.url.split("/");
  handle(op, id, res).catch((error) => {
    res.writeHead(500);
    res.end(String(error));
  });
}).listen(port, "127.0.0.1");
process.on("SIGTERM", () => pool.end().then(() => process.exit(0)));
