import type { WorkflowsClient } from "../../workflows/types.js";
import { registerClient, type HostCall } from "./index.js";

/** ctx.workflows: start runs, read them, signal, cancel and wait for results. */
registerClient("workflows", (_spec, call: HostCall) => {
  const client: WorkflowsClient = {
    start: (name, input, options) =>
      call("workflows.start", [name, input, options]) as ReturnType<WorkflowsClient["start"]>,
    get: (id) => call("workflows.get", [id]) as ReturnType<WorkflowsClient["get"]>,
    list: (filter) => call("workflows.list", [filter]) as ReturnType<WorkflowsClient["list"]>,
    signal: (id, signal, payload) => call("workflows.signal", [id, signal, payload]) as Promise<void>,
    cancel: (id) => call("workflows.cancel", [id]) as Promise<void>,
    result: (id, options) => call("workflows.result", [id, options]) as ReturnType<WorkflowsClient["result"]>,
  };
  return Object.freeze(client);
});
