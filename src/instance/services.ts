import { deserializeError } from "../sdk/errors.js";
import type { CallMessage, ReplyMessage } from "../shared/protocol.js";
import { current } from "./invocation.js";

/** Calls from the instance into host services: one message each way, matched by call id. */
const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
let nextCall = 1;

let send: (message: CallMessage) => void = () => {
  throw new Error("host calls are not connected");
};

export function connectHostCalls(post: (message: CallMessage) => void): void {
  send = post;
}

export function callHost(service: string, args: unknown[]): Promise<unknown> {
  const c = nextCall++;
  const i = current.getStore()?.id ?? 0;
  return new Promise((resolve, reject) => {
    pending.set(c, { resolve, reject });
    send({ t: "call", c, i, s: service, a: args });
  });
}

export function onReply(message: ReplyMessage): void {
  const entry = pending.get(message.c);
  if (entry === undefined) return;
  pending.delete(message.c);
  if (message.e !== undefined) entry.reject(deserializeError(message.e));
  else entry.resolve(message.v);
}
