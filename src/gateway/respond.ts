import type { ServerResponse } from "node:http";
import type { SerializedError } from "../sdk/errors.js";
import { statusForCode } from "../sdk/errors.js";

/** Every error the platform answers with: `{ "error": { "code", "message", "requestId" } }`. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  requestId: string | undefined,
  extraHeaders?: Record<string, string>,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({
    error: requestId === undefined ? { code, message } : { code, message, requestId },
  });
  const headers: Record<string, string | number> = {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...extraHeaders,
  };
  if (requestId !== undefined) headers["x-request-id"] = requestId;
  res.writeHead(status, headers);
  res.end(body);
}

export function sendSerializedError(res: ServerResponse, error: SerializedError, requestId: string): void {
  const status = error.status ?? statusForCode(error.code);
  // A function's own unexpected error keeps its message but never its stack.
  sendError(
    res,
    status,
    error.code,
    error.message,
    requestId,
    error.retryable ? { "retry-after": "1" } : undefined,
  );
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  extraHeaders?: Record<string, string>,
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...extraHeaders,
  });
  res.end(body);
}
