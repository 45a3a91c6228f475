import {
  request as httpRequest,
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";

/**
 * A round-robin load balancer in front of several nodes, as production has: a request goes to the
 * next node whose port accepts connections. A request a node never received (connection refused)
 * is tried on the next node; one that was cut after it was sent gets 502, as behind a real balancer.
 */
export class Balancer {
  private server: Server | undefined;
  private next = 0;

  constructor(private readonly ports: () => number[]) {}

  async listen(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      const body: Buffer[] = [];
      req.on("data", (chunk: Buffer) => body.push(chunk));
      req.on("end", () => this.forward(req, Buffer.concat(body), res, 0));
    });
    this.server = server;
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server?.closeAllConnections();
      this.server?.close(() => resolve());
    });
  }

  private forward(req: IncomingMessage, body: Buffer, res: ServerResponse, tries: number): void {
    const ports = this.ports();
    if (tries >= ports.length * 2) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end('{"error":{"code":"no_node","message":"no node accepted the connection"}}');
      return;
    }
    const port = ports[this.next++ % ports.length]!;
    const upstream = httpRequest(
      { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("error", () => res.destroy());
      },
    );
    upstream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNREFUSED" && !res.headersSent) {
        setTimeout(() => this.forward(req, body, res, tries + 1), 20);
        return;
      }
      if (!res.headersSent) {
        res.writeHead(502, { "content-type": "application/json" });
        res.end('{"error":{"code":"bad_gateway","message":"the node went away"}}');
      } else {
        res.destroy();
      }
    });
    upstream.end(body);
  }
}
