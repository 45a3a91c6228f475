import type { Queue, SendOptions, SendResult } from "../../events/types.js";
import { registerClient, type HostCall } from "./index.js";

/** ctx.queues: one handle per declared queue. */
registerClient("queues", (spec, call: HostCall) => {
  const { names } = spec as { names: string[] };
  const queues: Record<string, Queue> = {};
  for (const name of names) {
    queues[name] = {
      send: (body, options?: SendOptions) =>
        call("queues.send", [name, body, options]) as Promise<SendResult>,
      sendBatch: (messages) => call("queues.sendBatch", [name, messages]) as Promise<SendResult[]>,
    };
  }
  return Object.freeze(queues);
});
