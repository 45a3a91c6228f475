// The limit for HTTP on Node: a bare node:http server answering the same text.
import { createServer } from "node:http";

const port = Number(process.argv[2]);
createServer((_req, res) => {
  res.writeHead(200, { "content-type": "text/plain;charset=UTF-8" });
  res.end("Hello, world!");
}).listen(port, "127.0.0.1");
process.on("SIGTERM", () => process.exit(0));
