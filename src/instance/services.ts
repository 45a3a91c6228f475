import { deserializeError } from "../sdk/errors.js";
import type { CallMessage, ReplyMessage, StreamMessage } from "../shared/protocol.js";
import { IdMap } from "../shared/id-map.js";
import { StreamChannel } from "../shared/stream-channel.js";
import { current } from "./invocation.js";

/** Calls from the instance into host services: one message each way, matched by call id. */
const pending = new IdMap<{
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  invocation: number;
  streams: boolean;
}>();
let nextCall = 1;

let send: (message: CallMessage) => void = () => {
  throw new Error("host calls are not connected");
};
let channel: StreamChannel | undefined;

export function connectHostCalls(post: (message: CallMessage) => void): void {
  send = post;
}

/** Byte streams that go with calls (blob bodies); `post` may transfer each chunk's buffer. */
export function connectStreams(post: (message: StreamMessage, transfer?: ArrayBuffer) => void): void {
  channel = new StreamChannel(post);
}

export function onStreamMessage(message: StreamMessage): void {
  channel?.handle(message);
}

/**
 * If `stream` is a host stream nothing has been read of, the id the host knows it by: the host can
 * then send it on itself (a blob body returned as the response never crosses into the instance).
 */
export function handBack(stream: ReadableStream<Uint8Array>): number | undefined {
  const id = channel?.untouched(stream);
  if (id !== undefined) channel!.forget(id);
  return id;
}

/** An invocation is over: streams it received and never finished reading are closed. */
export function releaseInvocation(id: number): void {
  channel?.release(`i${id}`);
}

/**
 * Call a host service operation. `streams` names the indexes of `args` that hold ReadableStreams:
 * those are sent alongside the call with flow control instead of being cloned. Streams in a reply
 * arrive the same way, and belong to the calling invocation.
 */
export function callHost(service: string, args: unknown[], streams?: number[]): Promise<unknown> {
  const c = nextCall++;
  const i = current.getStore()?.id ?? 0;
  return new Promise((resolve, reject) => {
    const streamed = streams !== undefined && streams.length > 0;
    pending.set(c, { resolve, reject, invocation: i, streams: streamed });
    if (!streamed) {
      send({ t: "call", c, i, s: service, a: args });
      return;
    }
    const a = args.slice();
    for (const index of streams)
      a[index] = streamChannel().send(a[index] as ReadableStream<unknown>, `c${c}`);
    send({ t: "call", c, i, s: service, a, st: streams });
  });
}

export function onReply(message: ReplyMessage): void {
  const entry = pending.get(message.c);
  if (entry === undefined) return;
  pending.delete(message.c);
  if (entry.streams) streamChannel().release(`c${message.c}`);
  if (message.e !== undefined) {
    entry.reject(deserializeError(message.e));
    return;
  }
  const value = message.v;
  if (message.st !== undefined && typeof value === "object" && value !== null) {
    const fields = value as Record<string, unknown>;
    for (const name of message.st) {
      fields[name] = streamChannel().receive(fields[name] as number, `i${entry.invocation}`);
    }
  }
  entry.resolve(value);
}

function streamChannel(): StreamChannel {
  if (channel === undefined) throw new Error("host streams are not connected");
  return channel;
}
