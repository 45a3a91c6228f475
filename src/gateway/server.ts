import { createServer, STATUS_CODES, type Server } from "node:http";
import type { Socket } from "node:net";

/** Largest request head (request line and headers) in bytes; larger ones get 431. */
export const maxHeaderSize = 32 * 1024;

/** A node:http server whose protocol-level errors are answered with JSON errors, not dropped. */
export function createHttpServer(handler: Parameters<typeof createServer>[1]): Server {
  const server = createServer({ maxHeaderSize, keepAliveTimeout: 65_000, requestTimeout: 300_000 }, handler);
  server.on("clientError", (error: Error & { code?: string }, socket: Socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) {
      socket.destroy();
      return;
    }
    const [status, code] =
      error.code === "HPE_HEADER_OVERFLOW"
        ? [431, "headers_too_large"]
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "request_timeout"]
          : [400, "bad_request"];
    const body = JSON.stringify({ error: { code, message: `malformed request: ${error.message}` } });
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\ncontent-type: application/json\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
  });
  return server;
}
