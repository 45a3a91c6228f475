// bench/workflows, DBOS side: the same workflow (three sequential steps that do nothing) in DBOS
// Transact on PostgreSQL, behind a bare node:http server that starts a run and answers once it has
// completed (x-start-to-completion-ms: from the start call to the result, in the process).
// Usage: node dbos-server.mjs <port> <postgres url of an empty database>
import { createServer } from "node:http";
import { DBOS } from "@dbos-inc/dbos-sdk";

const [port, systemDatabaseUrl] = process.argv.slice(2);
DBOS.setConfig({ name: "cairn-bench", systemDatabaseUrl, logLevel: "warn" });

const nothing = () => Promise.resolve(null);
const three = DBOS.registerWorkflow(
  async () => {
    await DBOS.runStep(nothing, { name: "a" });
    await DBOS.runStep(nothing, { name: "b" });
    await DBOS.runStep(nothing, { name: "c" });
    return "done";
  },
  { name: "three" },
);

await DBOS.launch();

const server = createServer((request, response) => {
  if (request.method === "POST" && request.url === "/run") {
    request.resume();
    const started = performance.now();
    DBOS.startWorkflow(three)()
      .then((handle) => handle.getResult())
      .then(
        (output) => {
          response.setHeader("x-start-to-completion-ms", (performance.now() - started).toFixed(3));
          response.end(output);
        },
        (error) => {
          response.statusCode = 500;
          response.end(String(error));
        },
      );
    return;
  }
  response.end("ok");
});
server.listen(Number(port), "127.0.0.1");

const stop = () => server.close(() => void DBOS.shutdown().then(() => process.exit(0)));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
