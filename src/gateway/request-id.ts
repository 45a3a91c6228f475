import { randomBytes } from "node:crypto";

/**
 * Request ids: a random prefix per process and a counter. Unique across nodes and restarts, and
 * far cheaper than a random UUID per request.
 */
const prefix = randomBytes(9).toString("base64url");
let counter = 0;

export function nextRequestId(): string {
  counter++;
  return `${prefix}${counter.toString(36).padStart(6, "0")}`;
}

const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's own id when it looks like one (for tracing across services), else a new one. */
export function requestIdFor(given: string | string[] | undefined): string {
  return typeof given === "string" && acceptable.test(given) ? given : nextRequestId();
}
