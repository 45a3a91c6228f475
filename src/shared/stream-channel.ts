import { CairnError, deserializeError, serializeError } from "../sdk/errors.js";
import type { StreamMessage } from "./protocol.js";
import { IdMap } from "./id-map.js";

/** Marks a received stream with the id it arrives under. */
const streamId = Symbol("cairn.streamId");

/** Chunks a receiver lets a sender have in flight. */
const window = 8;
/** Small chunks are gathered up to this size before they cross (fewer, larger messages). */
const gatherBytes = 64 * 1024;
/** Larger chunks are split: no single message carries more. */
const maxChunkBytes = 1024 * 1024;

interface Outgoing {
  reader: ReadableStreamDefaultReader<unknown>;
  /** Chunks sent so far: a stream nothing was sent of yet can be taken back whole. */
  sent: number;
  credit: number;
  resume: (() => void) | undefined;
  cancelled: boolean;
  owner: string | undefined;
}

interface Incoming {
  queue: Uint8Array[];
  done: boolean;
  error: Error | undefined;
  started: boolean;
  wake: (() => void) | undefined;
  owner: string | undefined;
}

/**
 * Byte streams between two threads, with credit-based flow control: a sender sends nothing until
 * the receiver starts reading, then never more than `window` chunks ahead of it, so neither side
 * ever holds more than a few chunks of a stream however large it is. Both the host (one channel per
 * instance) and the instance runtime use this class; stream ids are per direction.
 */
export class StreamChannel {
  private nextId = 1;
  private readonly outgoing = new IdMap<Outgoing>();
  private readonly incoming = new IdMap<Incoming>();

  constructor(private readonly post: (message: StreamMessage, transfer?: ArrayBuffer) => void) {}

  /** Start sending a stream; returns the id the other side receives it under. */
  send(stream: ReadableStream<unknown>, owner?: string): number {
    const id = this.nextId++;
    const out: Outgoing = {
      reader: stream.getReader(),
      sent: 0,
      credit: 0,
      resume: undefined,
      cancelled: false,
      owner,
    };
    this.outgoing.set(id, out);
    void this.pump(id, out);
    return id;
  }

  /**
   * Take back a stream this side was going to send, before any of it was sent: the other side
   * asked for it to go somewhere else (a blob body returned as the HTTP response) without crossing.
   */
  take(id: number): ReadableStreamDefaultReader<unknown> | undefined {
    const out = this.outgoing.get(id);
    if (out === undefined || out.sent > 0 || out.cancelled) return undefined;
    this.outgoing.delete(id);
    out.cancelled = true; // the pump stops without touching the reader
    this.resume(out);
    return out.reader;
  }

  /**
   * The id a received stream arrives under, if nothing of it has been read: it can then be handed
   * back to the sender whole (see take), and this side forgets it.
   */
  untouched(stream: ReadableStream<Uint8Array>): number | undefined {
    const id = (stream as unknown as Record<symbol, number | undefined>)[streamId];
    if (id === undefined || stream.locked) return undefined;
    const entry = this.incoming.get(id);
    if (entry === undefined || entry.started || entry.done) return undefined;
    return id;
  }

  /** Forget a received stream that went back to its sender (nothing more will arrive for it). */
  forget(id: number): void {
    this.incoming.delete(id);
  }

  /** The stream the other side sends under `id`. */
  receive(id: number, owner?: string): ReadableStream<Uint8Array> {
    const entry: Incoming = {
      queue: [],
      done: false,
      error: undefined,
      started: false,
      wake: undefined,
      owner,
    };
    this.incoming.set(id, entry);
    const stream = new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (!entry.started) {
            entry.started = true;
            if (!entry.done) this.post({ t: "sc", s: id, n: window });
          }
          while (entry.queue.length === 0 && !entry.done)
            await new Promise<void>((resolve) => (entry.wake = resolve));
          const chunk = entry.queue.shift();
          if (chunk !== undefined) {
            controller.enqueue(chunk);
            if (!entry.done) this.post({ t: "sc", s: id, n: 1 });
            return;
          }
          this.incoming.delete(id);
          if (entry.error !== undefined) controller.error(entry.error);
          else controller.close();
        },
        cancel: () => this.abandon(id, entry, undefined),
      },
      { highWaterMark: 0 },
    );
    Object.defineProperty(stream, streamId, { value: id });
    return stream;
  }

  handle(message: StreamMessage): void {
    switch (message.t) {
      case "sd": {
        const entry = this.incoming.get(message.s);
        if (entry === undefined || entry.done) return; // cancelled here: late chunks are dropped
        entry.queue.push(message.b);
        this.wake(entry);
        return;
      }
      case "se": {
        const entry = this.incoming.get(message.s);
        if (entry === undefined || entry.done) return;
        entry.done = true;
        if (message.e !== undefined) entry.error = deserializeError(message.e);
        this.wake(entry);
        return;
      }
      case "sc": {
        const out = this.outgoing.get(message.s);
        if (out === undefined) return;
        out.credit += message.n;
        this.resume(out);
        return;
      }
      case "sx": {
        const out = this.outgoing.get(message.s);
        if (out !== undefined) this.cancelOutgoing(message.s, out, false);
        return;
      }
    }
  }

  /** End every stream tagged with `owner` that is still open (its call or invocation is over). */
  release(owner: string): void {
    for (const [id, entry] of this.incoming) {
      if (entry.owner === owner) this.abandon(id, entry, released());
    }
    for (const [id, out] of this.outgoing) {
      if (out.owner === owner) this.cancelOutgoing(id, out);
    }
  }

  /** The other side is gone: fail what we receive and stop what we send. */
  closeAll(error: Error): void {
    for (const entry of this.incoming.values()) {
      entry.done = true;
      entry.error = error;
      this.wake(entry);
    }
    this.incoming.clear();
    for (const [id, out] of this.outgoing) this.cancelOutgoing(id, out, false);
  }

  private abandon(id: number, entry: Incoming, error: Error | undefined): void {
    this.incoming.delete(id);
    if (entry.done) return;
    entry.done = true;
    entry.error = error;
    entry.queue.length = 0;
    this.post({ t: "sx", s: id });
    this.wake(entry);
  }

  private cancelOutgoing(id: number, out: Outgoing, tell = true): void {
    if (out.cancelled) return;
    out.cancelled = true;
    this.outgoing.delete(id);
    out.reader.cancel().catch(() => {});
    this.resume(out);
    if (tell) this.post({ t: "se", s: id, e: serializeError(released()) });
  }

  private async pump(id: number, out: Outgoing): Promise<void> {
    const source = new Gatherer(out.reader);
    try {
      for (;;) {
        while (out.credit <= 0 && !out.cancelled)
          await new Promise<void>((resolve) => (out.resume = resolve));
        if (out.cancelled) return;
        const chunk = await source.next();
        if (out.cancelled) return;
        if (chunk === undefined) break;
        out.credit--;
        out.sent++;
        this.post({ t: "sd", s: id, b: chunk }, chunk.buffer as ArrayBuffer);
      }
      this.post({ t: "se", s: id });
    } catch (error) {
      if (!out.cancelled) this.post({ t: "se", s: id, e: serializeError(error) });
    } finally {
      if (this.outgoing.get(id) === out) this.outgoing.delete(id);
    }
  }

  private wake(entry: Incoming): void {
    const wake = entry.wake;
    entry.wake = undefined;
    wake?.();
  }

  private resume(out: Outgoing): void {
    const resume = out.resume;
    out.resume = undefined;
    resume?.();
  }
}

/**
 * Reads a stream into chunks worth a message each: small chunks gathered, large ones split, each
 * copied into a fresh buffer of its own (which is then transferred, never shared with the source).
 */
class Gatherer {
  private leftover: Uint8Array | undefined;
  private ended = false;

  constructor(private readonly reader: ReadableStreamDefaultReader<unknown>) {}

  async next(): Promise<Uint8Array | undefined> {
    const parts: Uint8Array[] = [];
    let size = 0;
    while (size < gatherBytes) {
      let piece = this.leftover;
      this.leftover = undefined;
      if (piece === undefined) {
        if (this.ended) break;
        const { done, value } = await this.reader.read();
        if (done) {
          this.ended = true;
          break;
        }
        piece = bytesOf(value);
      }
      if (piece.byteLength === 0) continue;
      const room = maxChunkBytes - size;
      if (piece.byteLength > room) {
        this.leftover = piece.subarray(room);
        piece = piece.subarray(0, room);
      }
      parts.push(piece);
      size += piece.byteLength;
    }
    if (size === 0) return undefined;
    const out = new Uint8Array(size);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.byteLength;
    }
    return out;
  }
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("a streamed body must yield Uint8Array chunks");
}

function released(): Error {
  return new CairnError(
    "stream_closed",
    "the stream was closed: its call or invocation ended before it was read",
  );
}
