/**
 * A Response that defers building the native (undici) object until something needs it. Most handlers
 * construct a Response from a string or bytes and hand it straight back; for those the instance
 * sends the body and headers to the host without creating streams or a Headers object.
 */
import { unreadBytes } from "../blobs/object.js";
import { forwardToNative, nativeClass } from "./web-classes.js";

const jsonHeaders: Readonly<Record<string, string>> = Object.freeze({ "content-type": "application/json" });

const kBody = Symbol("cairn.body");
const kInit = Symbol("cairn.init");
const kReal = Symbol("cairn.real");

type Body = ConstructorParameters<typeof Response>[0];

export class LightResponse {
  [kBody]: Body;
  [kInit]: ResponseInit | undefined;
  [kReal]: Response | undefined;

  constructor(body?: Body, init?: ResponseInit) {
    this[kBody] = body ?? null;
    this[kInit] = init;
    this[kReal] = undefined;
  }

  static json(data: unknown, init?: ResponseInit): Response {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError("Response.json: value is not JSON-serializable");
    if (init?.headers === undefined) {
      return new LightResponse(body, { ...init, headers: jsonHeaders }) as unknown as Response;
    }
    const headers = new (nativeClass("Headers"))(init.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new LightResponse(body, { ...init, headers }) as unknown as Response;
  }

  static redirect(url: string | URL, status?: number): Response {
    return nativeClass("Response").redirect(url, status);
  }

  static error(): Response {
    return nativeClass("Response").error();
  }

  get status(): number {
    return this[kReal]?.status ?? this[kInit]?.status ?? 200;
  }

  get ok(): boolean {
    const status = this.status;
    return status >= 200 && status < 300;
  }
}

function realize(response: LightResponse): Response {
  return (response[kReal] ??= new (nativeClass("Response"))(response[kBody], response[kInit]));
}

// Everything not defined above is answered by the native Response, created on first use; the
// native class itself is wired in on the first look-up of such a member.
forwardToNative<LightResponse>(LightResponse.prototype, "Response", realize);
Object.defineProperty(LightResponse, "name", { value: "Response" });

/** Replace the global Response so that handlers and frameworks construct light ones. */
export function installLightResponse(): void {
  globalThis.Response = LightResponse as unknown as typeof Response;
}

/** A response reduced to what crosses to the host: status, raw headers and, if at hand, the body. */
export interface SerializedHead {
  status: number;
  headers: string[];
  /** The complete body, or null when there is none. */
  body: string | Uint8Array | null;
  /** Set when the body must be streamed instead. */
  stream: ReadableStream<Uint8Array> | null;
}

export function isResponse(value: unknown): value is Response {
  return value instanceof LightResponse || value instanceof nativeClass("Response");
}

export function serializeResponse(response: Response): SerializedHead {
  if (response instanceof LightResponse) {
    const real = response[kReal];
    const body = response[kBody];
    if (real === undefined || !real.bodyUsed) {
      const direct = directBody(body);
      if (direct !== undefined) {
        const init = response[kInit];
        const headers = real ? flattenHeaders(real.headers) : flattenHeaders(init?.headers);
        if (real === undefined && typeof direct === "string" && !hasHeader(headers, "content-type")) {
          headers.push("content-type", "text/plain;charset=UTF-8");
        }
        return { status: real?.status ?? init?.status ?? 200, headers, body: direct, stream: null };
      }
    }
    return serializeNative(realize(response));
  }
  return serializeNative(response);
}

function serializeNative(response: Response): SerializedHead {
  return {
    status: response.status,
    headers: flattenHeaders(response.headers),
    body: null,
    stream: response.body,
  };
}

/** The body as a string or as bytes that own their whole buffer (posting a view copies all of it). */
function directBody(body: Body): string | Uint8Array | null | undefined {
  if (body === null || body === undefined) return null;
  if (typeof body === "string") return body;
  const bytes: unknown = unreadBytes(body) ?? body;
  if (bytes instanceof ArrayBuffer) return new Uint8Array(bytes);
  if (ArrayBuffer.isView(bytes)) {
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : view.slice();
  }
  return undefined;
}

function hasHeader(flat: string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) {
    if (flat[i]!.toLowerCase() === name) return true;
  }
  return false;
}

export function flattenHeaders(headers: HeadersInit | undefined): string[] {
  const flat: string[] = [];
  if (headers === undefined) return flat;
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (pair.length !== 2) throw new TypeError("Response headers: each pair must have a name and a value");
      flat.push(String(pair[0]), String(pair[1]));
    }
  } else if (!isPlainObject(headers) && headers instanceof nativeClass("Headers")) {
    // Iteration yields each set-cookie separately, as it must.
    for (const [name, value] of headers) flat.push(name, value);
  } else {
    for (const name of Object.keys(headers)) {
      const value = (headers as Record<string, string | undefined>)[name];
      if (value !== undefined) flat.push(name, value);
    }
  }
  return flat;
}

/** A `{ name: value }` literal: told apart from a Headers object without loading the native class. */
function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
