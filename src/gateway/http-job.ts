import type { ServerResponse } from "node:http";
import type { HostLogger } from "../log/logger.js";
import type { SerializedError } from "../sdk/errors.js";
import { statusForCode } from "../sdk/errors.js";
import type { Instance, InvocationSink } from "../runtime/instance.js";
import type { Job } from "../runtime/pool.js";
import type { FunctionMeter } from "../telemetry/function-meter.js";
import type { Span } from "../telemetry/tracing.js";
import { sendError, sendSerializedError } from "./respond.js";

/**
 * One HTTP request on its way through a function: the job a pool runs on an instance, and the sink
 * the instance writes the outcome to. One object per request keeps the hot path free of closures.
 */
export class HttpJob implements Job, InvocationSink {
  constructor(
    private readonly res: ServerResponse,
    private readonly requestId: string,
    private readonly started: number,
    private readonly method: string,
    private readonly url: string,
    private readonly path: string,
    private readonly headers: string[],
    private readonly body: Uint8Array | undefined,
    private readonly params: Record<string, string>,
    /** Carries the app and function name, and is null when info lines are off. */
    private readonly log: HostLogger | null,
    /** The function's counters, durations and recent invocations. */
    private readonly meter: FunctionMeter,
    /** The request's span, only while tracing; the invocation's span is made below it. */
    private readonly request?: Span,
  ) {}

  /** The invocation's span (its service calls hang below it), while tracing. */
  span: Span | undefined;

  run(instance: Instance): void {
    let traceparent: string | undefined;
    if (this.request !== undefined) {
      this.span = this.request.child(`invoke ${this.meter.name}`, {
        attributes: {
          "cairn.app": this.meter.app,
          "cairn.function": this.meter.name,
          "cairn.instance": instance.id,
        },
      });
      traceparent = this.span.traceparent();
    }
    instance.invokeHttp(
      this.requestId,
      this.method,
      this.url,
      this.headers,
      this.body,
      this.params,
      this,
      traceparent,
    );
  }

  respond(status: number, headers: string[], body: string | Uint8Array | undefined): void {
    const out = cleanHeaders(headers, this.requestId);
    out.push(
      "content-length",
      body === undefined
        ? "0"
        : typeof body === "string"
          ? String(Buffer.byteLength(body))
          : String(body.byteLength),
    );
    if (!this.writeHead(status, out)) return;
    this.res.end(body);
    this.logged(status);
  }

  head(status: number, headers: string[], cancel?: () => void): void {
    if (!this.writeHead(status, cleanHeaders(headers, this.requestId))) {
      cancel?.();
      return;
    }
    if (cancel !== undefined) {
      this.res.once("close", () => {
        if (!this.res.writableFinished) cancel();
      });
    }
  }

  chunk(bytes: Uint8Array, written: () => void): void {
    if (this.res.destroyed) return;
    if (this.res.write(bytes)) written();
    else this.res.once("drain", written);
  }

  end(error?: SerializedError): void {
    if (error !== undefined) {
      // The head is out: the only honest signal left is to cut the connection.
      this.res.destroy();
      this.logged(500, error.code);
      return;
    }
    this.res.end();
    this.logged(this.res.statusCode);
  }

  fail(error: SerializedError): void {
    sendSerializedError(this.res, error, this.requestId);
    this.logged(error.status ?? statusForCode(error.code), error.code);
  }

  private writeHead(status: number, headers: string[]): boolean {
    try {
      this.res.writeHead(status, headers);
      return true;
    } catch (error) {
      const message = `the function returned an invalid response: ${(error as Error).message}`;
      sendError(this.res, 500, "invalid_response", message, this.requestId);
      this.logged(500, "invalid_response");
      return false;
    }
  }

  private logged(status: number, code?: string): void {
    const failure = code ?? (status >= 500 ? `http_${status}` : undefined);
    const elapsed = this.meter.finish(this.requestId, this.method, this.path, status, failure, this.started);
    if (this.request !== undefined) this.traced(status, failure);
    if (this.log === null) return;
    const ms = Math.round(elapsed * 1000) / 1000;
    const fields = { req: this.requestId, method: this.method, path: this.path, status, ms };
    this.log.info(code === undefined ? fields : { ...fields, code }, "invocation");
  }

  private traced(status: number, failure: string | undefined): void {
    const request = this.request!;
    request.set("http.response.status_code", status);
    if (failure !== undefined) {
      this.span?.fail(failure);
      request.fail(failure);
    }
    this.span?.end();
    request.end();
  }
}

/** Drop framing headers the host sets itself, and add the request id. */
function cleanHeaders(headers: string[], requestId: string): string[] {
  let clean = true;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length === 14 || name.length === 17) {
      const lower = name.toLowerCase();
      if (lower === "content-length" || lower === "transfer-encoding") clean = false;
    }
  }
  const out = clean ? headers : dropFraming(headers);
  out.push("x-request-id", requestId);
  return out;
}

function dropFraming(headers: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = headers[i]!.toLowerCase();
    if (lower === "content-length" || lower === "transfer-encoding") continue;
    out.push(headers[i]!, headers[i + 1]!);
  }
  return out;
}
