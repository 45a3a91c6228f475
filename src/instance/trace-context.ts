import { current } from "./invocation.js";

/**
 * While the host exports traces, each invocation knows its span's W3C `traceparent`; a `fetch` made
 * during the invocation sends it along (unless the request sets its own), so a call to another
 * service, or back to Cairn, continues the same trace. Without tracing this adds one lookup per fetch.
 */
export function propagateTraceContext(): void {
  // Node defines fetch as a getter that loads its HTTP client on first use: keep it lazy, so an
  // instance that never fetches never loads it.
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "fetch");
  if (descriptor === undefined) return;
  let original: typeof fetch | undefined;
  const load = (): typeof fetch =>
    (original ??= (
      descriptor.get !== undefined ? descriptor.get.call(globalThis) : descriptor.value
    ) as typeof fetch);
  const traced: typeof fetch = (input, init) => {
    const traceparent = current.getStore()?.traceparent;
    if (traceparent === undefined) return load()(input, init);
    const request = new Request(input, init);
    if (!request.headers.has("traceparent")) request.headers.set("traceparent", traceparent);
    return load()(request);
  };
  Object.defineProperty(globalThis, "fetch", {
    value: traced,
    writable: true,
    configurable: true,
    enumerable: descriptor.enumerable ?? true,
  });
}
