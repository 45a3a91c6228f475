import { AsyncLocalStorage } from "node:async_hooks";
import type { LogLevel, LogRecord } from "../shared/protocol.js";
import type { LogFields, Logger } from "../sdk/context.js";

/** One call of the function inside this instance: its logs and the background work it started. */
export class Invocation {
  readonly id: number;
  readonly requestId: string;
  logs: LogRecord[] = [];
  /** Set once the result (response or failure) has been sent; later logs go out on their own. */
  finished = false;
  background = 0;
  failure: unknown = undefined;
  /** The invocation span's W3C traceparent while the host exports traces: outgoing fetches carry it. */
  traceparent: string | undefined = undefined;
  private failHandler: ((error: unknown) => void) | undefined;

  constructor(
    id: number,
    requestId: string,
    /** The request's absolute URL, for services that need its origin (presigned blob URLs). */
    readonly url?: string,
  ) {
    this.id = id;
    this.requestId = requestId;
  }

  log(level: LogLevel, msg: string, fields?: LogFields): void {
    const record: LogRecord = { level, msg, time: Date.now(), req: this.requestId };
    if (fields !== undefined) record.fields = fields;
    if (this.finished) emitLate(record);
    else this.logs.push(record);
  }

  takeLogs(): LogRecord[] | undefined {
    if (this.logs.length === 0) return undefined;
    const logs = this.logs;
    this.logs = [];
    return logs;
  }

  /** An error that escaped the handler (unhandled rejection, throw in a timer) fails the invocation. */
  onEscape(handler: (error: unknown) => void): void {
    this.failHandler = handler;
  }

  escape(error: unknown): boolean {
    if (this.finished || this.failHandler === undefined) return false;
    this.failHandler(error);
    return true;
  }
}

export const current = new AsyncLocalStorage<Invocation>();

let lateSink: (record: LogRecord) => void = () => {};

/** Where logs go that belong to no open invocation (background work, module top level). */
export function setLateLogSink(sink: (record: LogRecord) => void): void {
  lateSink = sink;
}

export function emitLate(record: LogRecord): void {
  lateSink(record);
}

export function createLogger(invocation: Invocation): Logger {
  return {
    debug: (msg, fields) => invocation.log("debug", msg, fields),
    info: (msg, fields) => invocation.log("info", msg, fields),
    warn: (msg, fields) => invocation.log("warn", msg, fields),
    error: (msg, fields) => invocation.log("error", msg, fields),
  };
}
