// bench/workflows, Restate side: the same workflow (three sequential steps that do nothing, each a
// journaled ctx.run) as a Restate service handler, served over HTTP/2 on 127.0.0.1 for
// restate-server to call. Clients invoke it through restate-server's ingress, which answers once the
// invocation has completed. Usage: node restate-service.mjs <port>
import { createServer } from "node:http2";
// The SDK calls Promise.withResolvers (Node 22+): the polyfill must be in place before it loads.
import "../lib/promise-with-resolvers.mjs";

const restate = await import("@restatedev/restate-sdk");

const nothing = () => null;
const bench = restate.service({
  name: "bench",
  handlers: {
    async three(ctx) {
      await ctx.run("a", nothing);
      await ctx.run("b", nothing);
      await ctx.run("c", nothing);
      return "done";
    },
  },
});

const [port] = process.argv.slice(2);
const server = createServer(restate.createEndpointHandler({ services: [bench] }));
server.listen(Number(port), "127.0.0.1");

const stop = () => server.close(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
