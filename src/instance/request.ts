/**
 * A Request built lazily from what the host sent. Method, URL, headers and the common body readers
 * are answered directly; anything else creates the native Request on first use. The object is an
 * instance of the global Request, so frameworks that check for it accept it.
 */
import { forwardToNative, nativeClass } from "./web-classes.js";

const decoder = new TextDecoder();

const kState = Symbol("cairn.request");

interface RequestState {
  method: string;
  url: string;
  rawHeaders: string[];
  body: Uint8Array | undefined;
  headers: Headers | undefined;
  real: Request | undefined;
  used: boolean;
}

interface LazyRequest {
  [kState]: RequestState;
}

function state(request: unknown): RequestState {
  return (request as LazyRequest)[kState];
}

function headersOf(s: RequestState): Headers {
  if (s.headers === undefined) {
    const headers = new (nativeClass("Headers"))();
    const raw = s.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!);
    s.headers = headers;
  }
  return s.headers;
}

function realize(s: RequestState): Request {
  if (s.real === undefined) {
    const hasBody = s.body !== undefined && s.method !== "GET" && s.method !== "HEAD";
    s.real = new (nativeClass("Request"))(s.url, {
      method: s.method,
      headers: headersOf(s),
      body: hasBody && !s.used ? (s.body as BodyInit) : null,
    });
  }
  return s.real;
}

function takeBody(s: RequestState): Uint8Array {
  if (s.used) throw new TypeError("Body is unusable: Body has already been read");
  s.used = true;
  return s.body ?? new Uint8Array(0);
}

const prototype: object = {};

const own: PropertyDescriptorMap = {
  method: {
    get(this: LazyRequest) {
      return this[kState].method;
    },
  },
  url: {
    get(this: LazyRequest) {
      return this[kState].url;
    },
  },
  headers: {
    get(this: LazyRequest) {
      const s = this[kState];
      return s.real ? s.real.headers : headersOf(s);
    },
  },
  bodyUsed: {
    get(this: LazyRequest) {
      const s = this[kState];
      return s.real ? s.real.bodyUsed : s.used;
    },
  },
  text: {
    async value(this: LazyRequest): Promise<string> {
      const s = this[kState];
      if (s.real) return s.real.text();
      return decoder.decode(takeBody(s));
    },
  },
  json: {
    async value(this: LazyRequest): Promise<unknown> {
      const s = this[kState];
      if (s.real) return s.real.json();
      return JSON.parse(decoder.decode(takeBody(s))) as unknown;
    },
  },
  arrayBuffer: {
    async value(this: LazyRequest): Promise<ArrayBuffer> {
      const s = this[kState];
      if (s.real) return s.real.arrayBuffer();
      const body = takeBody(s);
      return body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength) as ArrayBuffer;
    },
  },
  bytes: {
    async value(this: LazyRequest): Promise<Uint8Array> {
      const s = this[kState];
      if (s.real) return new Uint8Array(await s.real.arrayBuffer());
      return takeBody(s);
    },
  },
};
for (const [name, descriptor] of Object.entries(own)) {
  Object.defineProperty(prototype, name, { ...descriptor, configurable: true });
}

// The rest of the Request interface is forwarded to the native object, wired in on the first
// look-up of such a member, or the first instanceof test that reaches it.
forwardToNative<LazyRequest>(prototype, "Request", (self) => realize(self[kState]));
Object.defineProperty(prototype, Symbol.toStringTag, { value: "Request", configurable: true });

export function createRequest(
  method: string,
  url: string,
  rawHeaders: string[],
  body: Uint8Array | undefined,
): Request {
  const request = Object.create(prototype) as LazyRequest;
  request[kState] = { method, url, rawHeaders, body, headers: undefined, real: undefined, used: false };
  return request as unknown as Request;
}

/** The same request with a different URL (a mounted app that strips its prefix). */
export function withUrl(request: Request, url: string): Request {
  const s = state(request);
  if (s === undefined || s.real !== undefined || s.used) return new (nativeClass("Request"))(url, request);
  return createRequest(s.method, url, s.rawHeaders, s.body);
}
