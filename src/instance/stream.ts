import { serializeError } from "../sdk/errors.js";
import type { InstanceToHost } from "../shared/protocol.js";
import { IdMap } from "../shared/id-map.js";

/** Chunks a streamed body may have in flight to the host before it waits for credit. */
const window = 8;

interface Pump {
  outstanding: number;
  resume: (() => void) | undefined;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  cancelled: boolean;
}

const pumps = new IdMap<Pump>();

/** Send a response body to the host chunk by chunk, never more than `window` chunks ahead of it. */
export function pumpStream(
  id: number,
  stream: ReadableStream<Uint8Array>,
  post: (message: InstanceToHost) => void,
  onDone: () => void,
): void {
  const pump: Pump = { outstanding: 0, resume: undefined, reader: stream.getReader(), cancelled: false };
  pumps.set(id, pump);
  const run = async () => {
    try {
      for (;;) {
        if (pump.outstanding >= window) await new Promise<void>((resolve) => (pump.resume = resolve));
        if (pump.cancelled) break;
        const { done, value } = await pump.reader.read();
        if (done) break;
        const chunk = typeof value === "string" ? new TextEncoder().encode(value) : toBytes(value);
        if (chunk.byteLength === 0) continue;
        pump.outstanding++;
        post({ t: "chunk", i: id, b: chunk });
      }
      post({ t: "end", i: id });
    } catch (error) {
      post({ t: "end", i: id, e: serializeError(error) });
    } finally {
      pumps.delete(id);
      onDone();
    }
  };
  void run();
}

/** Chunks are copied to exact-size buffers: posting a view would copy the whole buffer behind it. */
function toBytes(value: unknown): Uint8Array {
  if (value instanceof ArrayBuffer) return new Uint8Array(value.slice(0));
  if (ArrayBuffer.isView(value)) {
    const view = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
    return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength ? view : view.slice();
  }
  throw new TypeError("a response body stream must yield Uint8Array chunks");
}

export function grantCredit(id: number): void {
  const pump = pumps.get(id);
  if (pump === undefined) return;
  pump.outstanding--;
  const resume = pump.resume;
  pump.resume = undefined;
  resume?.();
}

export function cancelStream(id: number): void {
  const pump = pumps.get(id);
  if (pump === undefined) return;
  pump.cancelled = true;
  pump.reader.cancel().catch(() => {});
  const resume = pump.resume;
  pump.resume = undefined;
  resume?.();
}
