import type { Worker } from "node:worker_threads";
import { isCairnError, serializeError, type SerializedError } from "../sdk/errors.js";
import { Batcher, unbatch } from "../shared/batcher.js";
import { StreamChannel } from "../shared/stream-channel.js";
import type {
  CallMessage,
  HostToInstance,
  HttpInvokeMessage,
  InstanceToHost,
  LoadMessage,
  LogRecord,
  ResponseMessage,
  TriggerInput,
  TriggerInvokeMessage,
  TriggerResult,
} from "../shared/protocol.js";
import { decodeResponse, encodeRequest } from "../shared/wire.js";
import { IdMap } from "../shared/id-map.js";

/** Where the outcome of one invocation goes (the gateway's HTTP response, a queue consumer, ...). */
export interface InvocationSink {
  /** A complete response, body included. */
  respond(status: number, headers: string[], body: string | Uint8Array | undefined): void;
  /** The head of a response whose body follows through chunk() and end(); `cancel` stops the body. */
  head(status: number, headers: string[], cancel?: () => void): void;
  /** One piece of a streamed body; call `written` once it is out, to let the next one come. */
  chunk(bytes: Uint8Array, written: () => void): void;
  end(error?: SerializedError): void;
  /** The invocation failed; a trigger's partial outcome (queue acks before the throw) comes along. */
  fail(error: SerializedError, result?: TriggerResult): void;
  /** A trigger invocation succeeded. */
  done?(result: TriggerResult): void;
}

export interface InstanceHost {
  /** A service call from the function; resolves with the value to send back. */
  call(instance: Instance, message: CallMessage): Promise<unknown>;
  logs(instance: Instance, records: LogRecord[]): void;
  /** An invocation slot became free. */
  released(instance: Instance): void;
  exited(instance: Instance): void;
}

interface Pending {
  sink: InvocationSink;
  started: number;
  /** The response head has arrived; the timeout no longer applies. */
  streaming: boolean;
}

export type ExitReason = "timeout" | "memory" | "crash" | "retired" | "stopped" | "load_failed";

let nextInstanceId = 1;

/** The host's handle on one function instance (a worker thread that has loaded one function). */
export class Instance {
  readonly id = nextInstanceId++;
  readonly functionName: string;
  /** Invocations whose response has not fully arrived. */
  readonly pending = new IdMap<Pending>();
  /** Invocations counted against the concurrency limit (awaiting their response head). */
  active = 0;
  /** Invocations with background (waitUntil) work still running. */
  background = 0;
  served = 0;
  lastUsed = performance.now();
  ready = false;
  /** No new invocations; stop once the current ones are done. */
  retiring = false;
  exitReason: ExitReason | undefined;
  private nextInvocation = 1;
  private timedOut: number | undefined;
  private loaded: { resolve: () => void; reject: (error: SerializedError) => void } | undefined;
  private readonly outbox: Batcher<HostToInstance | string>;
  /** Byte streams that go with service calls (blob bodies), both ways. */
  private readonly streams: StreamChannel;

  constructor(
    private readonly worker: Worker,
    functionName: string,
    private readonly host: InstanceHost,
  ) {
    this.functionName = functionName;
    this.outbox = new Batcher((payload, transfer) => worker.postMessage(payload, transfer));
    this.streams = new StreamChannel((message, transfer) => this.outbox.push(message, transfer));
    worker.on("message", (payload: Incoming | Incoming[]) => unbatch(payload, this.onMessage));
    worker.on("error", (error: Error & { code?: string }) => {
      if (this.exitReason === undefined) {
        this.exitReason = error.code === "ERR_WORKER_OUT_OF_MEMORY" ? "memory" : "crash";
      }
    });
    worker.on("exit", () => this.onExit());
  }

  load(message: LoadMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.loaded = { resolve, reject };
      this.post(message);
    });
  }

  get busy(): number {
    return this.pending.size;
  }

  /** Deliver an event, a queue batch or a schedule tick to a trigger function. */
  invokeTrigger(requestId: string, input: TriggerInput, sink: InvocationSink, traceparent?: string): void {
    const i = this.nextInvocation++;
    this.pending.set(i, { sink, started: performance.now(), streaming: false });
    this.active++;
    this.served++;
    const message: TriggerInvokeMessage = { t: "trigger", i, r: requestId, d: input };
    if (traceparent !== undefined) message.tp = traceparent;
    this.outbox.push(message);
  }

  invokeHttp(
    requestId: string,
    method: string,
    url: string,
    headers: string[],
    body: Uint8Array | undefined,
    params: Record<string, string>,
    sink: InvocationSink,
    traceparent?: string,
  ): void {
    const i = this.nextInvocation++;
    this.pending.set(i, { sink, started: performance.now(), streaming: false });
    this.active++;
    this.served++;
    if (body === undefined && traceparent === undefined) {
      const text = encodeRequest(i, requestId, method, url, headers, params);
      if (text !== undefined) {
        this.outbox.push(text);
        return;
      }
    }
    const message: HttpInvokeMessage = {
      t: "http",
      i,
      r: requestId,
      m: method,
      u: url,
      h: headers,
      b: body,
      p: params,
    };
    if (traceparent !== undefined) message.tp = traceparent;
    this.outbox.push(message, body?.buffer as ArrayBuffer | undefined);
  }

  /** Terminate the instance if its oldest running invocation has run longer than `timeoutMs`. */
  checkTimeout(now: number, timeoutMs: number): boolean {
    for (const [i, pending] of this.pending) {
      if (pending.streaming) continue;
      if (now - pending.started < timeoutMs) return false;
      this.timedOut = i;
      this.stop("timeout");
      return true;
    }
    return false;
  }

  stop(reason: ExitReason): void {
    this.exitReason ??= reason;
    this.retiring = true;
    void this.worker.terminate();
  }

  private post(message: HostToInstance): void {
    this.outbox.push(message);
  }

  private readonly onMessage = (incoming: Incoming): void => {
    const message = typeof incoming === "string" ? responseMessage(incoming) : incoming;
    switch (message.t) {
      case "res": {
        const pending = this.pending.get(message.i);
        if (message.l) this.host.logs(this, message.l);
        if (message.bg) this.background++;
        if (pending === undefined) return;
        this.finishActive();
        if (message.hs !== undefined) {
          const reader = this.streams.take(message.hs);
          if (reader === undefined) {
            this.pending.delete(message.i);
            pending.sink.fail({ code: "internal_error", message: "the response body stream is gone" });
          } else {
            pending.streaming = true;
            this.relay(message.i, pending, reader, message.s, message.h);
          }
        } else if (message.st) {
          pending.streaming = true;
          const i = message.i;
          pending.sink.head(message.s, message.h, () => this.post({ t: "cancel", i }));
        } else {
          this.pending.delete(message.i);
          pending.sink.respond(message.s, message.h, message.b);
        }
        this.host.released(this);
        return;
      }
      case "chunk": {
        const pending = this.pending.get(message.i);
        const i = message.i;
        pending?.sink.chunk(message.b, () => this.post({ t: "credit", i }));
        return;
      }
      case "end": {
        const pending = this.pending.get(message.i);
        if (message.l) this.host.logs(this, message.l);
        if (pending === undefined) return;
        this.pending.delete(message.i);
        pending.sink.end(message.e);
        this.host.released(this);
        return;
      }
      case "fail": {
        const pending = this.pending.get(message.i);
        if (message.l) this.host.logs(this, message.l);
        if (message.bg) this.background++;
        if (pending === undefined) return;
        this.pending.delete(message.i);
        if (!pending.streaming) this.finishActive();
        pending.sink.fail(message.e, message.v);
        this.host.released(this);
        return;
      }
      case "done": {
        const pending = this.pending.get(message.i);
        if (message.l) this.host.logs(this, message.l);
        if (message.bg) this.background++;
        if (pending === undefined) return;
        this.pending.delete(message.i);
        this.finishActive();
        pending.sink.done?.(message.v);
        this.host.released(this);
        return;
      }
      case "call": {
        const c = message.c;
        if (message.st !== undefined) this.receiveStreams(message);
        this.host.call(this, message).then(
          (v) => {
            if (message.st !== undefined) this.streams.release(`c${c}`);
            this.reply(c, v);
          },
          (error: unknown) => {
            if (message.st !== undefined) this.streams.release(`c${c}`);
            this.post({ t: "reply", c, e: toSerialized(error) });
          },
        );
        return;
      }
      case "sd":
      case "se":
      case "sc":
      case "sx":
        this.streams.handle(message);
        return;
      case "logs":
        this.host.logs(this, message.l);
        return;
      case "settled":
        this.background--;
        this.host.released(this);
        return;
      case "ready":
        this.ready = true;
        this.loaded?.resolve();
        this.loaded = undefined;
        return;
      case "load-error":
        this.exitReason = "load_failed";
        this.loaded?.reject(message.e);
        this.loaded = undefined;
        return;
      case "booted":
      case "discovered":
        return;
    }
  };

  /** Stream ids among a call's arguments become streams, released once the call settles. */
  private receiveStreams(message: CallMessage): void {
    for (const index of message.st!) {
      const id = message.a[index];
      if (typeof id === "number") message.a[index] = this.streams.receive(id, `c${message.c}`);
    }
  }

  /** A reply whose value holds streams (a blob body) sends them after it, by id. */
  private reply(c: number, v: unknown): void {
    if (typeof v === "object" && v !== null && !Array.isArray(v)) {
      let st: string[] | undefined;
      let out: Record<string, unknown> | undefined;
      for (const name in v) {
        const value = (v as Record<string, unknown>)[name];
        if (!(value instanceof ReadableStream)) continue;
        out ??= { ...(v as Record<string, unknown>) };
        out[name] = this.streams.send(value as ReadableStream<unknown>);
        (st ??= []).push(name);
      }
      if (st !== undefined) {
        this.post({ t: "reply", c, v: out, st });
        return;
      }
    }
    this.post({ t: "reply", c, v });
  }

  /** Send a host-side stream to the sink directly, at the pace the sink writes it out. */
  private relay(
    i: number,
    pending: Pending,
    reader: ReadableStreamDefaultReader<unknown>,
    status: number,
    headers: string[],
  ): void {
    let cancelled = false;
    let written: (() => void) | undefined;
    pending.sink.head(status, headers, () => {
      cancelled = true;
      reader.cancel().catch(() => {});
      written?.(); // a client that went away will not drain what is waiting to be written
    });
    const finish = (error?: SerializedError) => {
      if (this.pending.get(i) !== pending) return;
      this.pending.delete(i);
      pending.sink.end(error);
      this.host.released(this);
    };
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done || cancelled) break;
          const bytes = value instanceof Uint8Array ? value : new Uint8Array(value as ArrayBuffer);
          await new Promise<void>((resolve) => {
            written = resolve;
            pending.sink.chunk(bytes, resolve);
          });
          written = undefined;
        }
        finish();
      } catch (error) {
        finish({ code: "internal_error", message: (error as Error).message });
      }
    })();
  }

  private finishActive(): void {
    this.active--;
    this.lastUsed = performance.now();
  }

  private onExit(): void {
    this.ready = false;
    this.retiring = true;
    const reason = this.exitReason ?? "crash";
    this.exitReason = reason;
    this.loaded?.reject({ code: "load_failed", message: `instance exited while loading (${reason})` });
    this.loaded = undefined;
    for (const [i, pending] of this.pending) {
      const error = exitError(reason, i === this.timedOut, this.functionName);
      if (pending.streaming) pending.sink.end(error);
      else pending.sink.fail(error);
    }
    this.pending.clear();
    this.streams.closeAll(new Error(`the instance of ${this.functionName} exited (${reason})`));
    this.active = 0;
    this.background = 0;
    this.host.exited(this);
  }
}

/** Messages arrive as objects, or as the compact string form of a plain response. */
type Incoming = InstanceToHost | string;

function responseMessage(text: string): ResponseMessage {
  const { i, s, h, b } = decodeResponse(text);
  return { t: "res", i, s, h, b };
}

function exitError(reason: ExitReason, culprit: boolean, fn: string): SerializedError {
  switch (reason) {
    case "timeout":
      return culprit
        ? {
            code: "function_timeout",
            message: `${fn} did not finish within its timeout; its instance was stopped`,
            status: 504,
          }
        : {
            code: "instance_lost",
            message: `${fn}: the instance was stopped because another invocation timed out`,
            status: 503,
            retryable: true,
          };
    case "memory":
      return {
        code: "memory_limit_exceeded",
        message: `${fn}: the instance ran out of memory (its heap cap) while this invocation ran; it was replaced`,
        status: 500,
      };
    case "stopped":
    case "retired":
      return {
        code: "shutting_down",
        message: `${fn}: the instance was stopped`,
        status: 503,
        retryable: true,
      };
    default:
      return {
        code: "instance_lost",
        message: `${fn}: the instance exited unexpectedly`,
        status: 503,
        retryable: true,
      };
  }
}

function toSerialized(error: unknown): SerializedError {
  if (isCairnError(error)) {
    const { stack: _stack, ...rest } = serializeError(error);
    return rest;
  }
  return {
    code: "internal_error",
    message: "internal error in a platform service; the host log has the details",
  };
}
