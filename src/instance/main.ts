/**
 * Entry point of a function instance (a worker thread). It boots, waits to be told which function
 * to load (or, once per build, to discover an app's declarations), then serves invocations.
 */
import { parentPort } from "node:worker_threads";
import { isDeclaration, type Declaration } from "../sdk/declarations.js";
import type { Context } from "../sdk/context.js";
import { CairnError, serializeError } from "../sdk/errors.js";
import type {
  DiscoverMessage,
  DiscoveredFunction,
  HostToInstance,
  HttpInvokeMessage,
  TriggerInvokeMessage,
  TriggerResult,
  InstanceToHost,
  LoadMessage,
  LogRecord,
} from "../shared/protocol.js";
import { Batcher, unbatch } from "../shared/batcher.js";
import { decodeRequest, encodeResponse } from "../shared/wire.js";
import { captureConsole } from "./console.js";
import { propagateTraceContext } from "./trace-context.js";
import { createContextFactory, fetchContext } from "./context.js";
import { current, emitLate, Invocation, setLateLogSink } from "./invocation.js";
import { createRequest, withUrl } from "./request.js";
import { installLightResponse, isResponse, serializeResponse } from "./response.js";
import {
  callHost,
  connectHostCalls,
  connectStreams,
  handBack,
  onReply,
  onStreamMessage,
  releaseInvocation,
} from "./services.js";
import { createClients } from "./clients/index.js";
import { cancelStream, grantCredit, pumpStream } from "./stream.js";
import { describeTrigger, runTrigger } from "./triggers.js";
import type { TriggerDeclaration } from "../sdk/triggers.js";
import type { WorkflowDeclaration } from "../sdk/workflow.js";
import "./clients/all.js";
import { IdMap } from "../shared/id-map.js";

const port = parentPort!;
const outbox = new Batcher<InstanceToHost | string>((payload, transfer) =>
  port.postMessage(payload, transfer),
);
const post = (message: InstanceToHost) => outbox.push(message);
connectHostCalls(post);
connectStreams((message, transfer) => outbox.push(message, transfer));

process.setSourceMapsEnabled(true);
installLightResponse();
captureConsole();
propagateTraceContext();

// A function must not end the instance for everyone else sharing it.
process.exit = (code?: number) => {
  throw new CairnError("process_exit", `process.exit(${code ?? ""}) is not allowed inside a function`);
};

let lateLogs: LogRecord[] = [];
setLateLogSink((record) => {
  if (lateLogs.length === 0) setImmediate(flushLateLogs);
  lateLogs.push(record);
});
function flushLateLogs(): void {
  const l = lateLogs;
  lateLogs = [];
  if (l.length > 0) post({ t: "logs", l });
}

function escaped(kind: string) {
  return (error: unknown) => {
    const invocation = current.getStore();
    if (invocation?.escape(error)) return;
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    emitLate({ level: "error", msg: `${kind}: ${detail}`, time: Date.now() });
  };
}
process.on("unhandledRejection", escaped("unhandled rejection"));
process.on("uncaughtException", escaped("uncaught exception"));

type Invoke = (request: Request, ctx: Context) => unknown;
let invoke: Invoke | undefined;
let makeContext: ReturnType<typeof createContextFactory> | undefined;
const open = new IdMap<Invocation>();

port.on("message", (payload: Incoming | Incoming[]) => unbatch(payload, onMessage));

/** Messages arrive as objects, or as the compact string form of a body-less HTTP request. */
type Incoming = HostToInstance | string;

function onMessage(incoming: Incoming): void {
  const message: HostToInstance =
    typeof incoming === "string" ? { t: "http", ...decodeRequest(incoming) } : incoming;
  switch (message.t) {
    case "http":
      onHttp(message);
      break;
    case "trigger":
      onTrigger(message);
      break;
    case "reply":
      onReply(message);
      break;
    case "credit":
      grantCredit(message.i);
      break;
    case "cancel":
      cancelStream(message.i);
      break;
    case "sd":
    case "se":
    case "sc":
    case "sx":
      onStreamMessage(message);
      break;
    case "load":
      load(message).then(
        () => post({ t: "ready" }),
        (error: unknown) => post({ t: "load-error", e: serializeError(error) }),
      );
      break;
    case "discover":
      discover(message.groups).then(
        (functions) => post({ t: "discovered", functions }),
        (error: unknown) => post({ t: "load-error", e: serializeError(error) }),
      );
      break;
  }
}
post({ t: "booted" });

async function load(message: LoadMessage): Promise<void> {
  Object.assign(process.env, message.env, message.secrets);
  const module = (await import(message.module)) as Record<string, unknown>;
  const declaration = module[message.exportName];
  if (!isDeclaration(declaration)) {
    throw new CairnError(
      "load_failed",
      `export "${message.exportName}" of ${message.module} is not a function declaration`,
    );
  }
  const services = createClients(message.services, callHost);
  makeContext = createContextFactory({
    functionName: message.functionName,
    env: Object.freeze({ ...message.env }),
    secrets: Object.freeze({ ...message.secrets }),
    services,
    onSettled: (invocation) => {
      closeInvocation(invocation);
      post({ t: "settled", i: invocation.id });
    },
  });
  invoke = entryFor(declaration, message, services);
}

/** Set when the loaded function is a trigger (event, queue or schedule consumer). */
let trigger: TriggerDeclaration | WorkflowDeclaration | undefined;

function entryFor(declaration: Declaration, message: LoadMessage, services: Record<string, unknown>): Invoke {
  if (declaration.kind === "http") return declaration.handler;
  if (declaration.kind !== "mount") {
    trigger = declaration;
    return () => {
      throw new CairnError(
        "internal_error",
        `${message.functionName} is a ${declaration.kind} function, not an HTTP one`,
      );
    };
  }
  const { fetch, prefix, stripPrefix } = declaration;
  const envBase = Object.freeze({ ...message.env, ...message.secrets, ...services });
  return (request, ctx) => {
    const env = Object.create(envBase) as Record<string, unknown>;
    env.cairn = ctx;
    const seen = stripPrefix ? withUrl(request, strip(request.url, prefix)) : request;
    return fetch(seen, env, fetchContext(ctx));
  };
}

function strip(url: string, prefix: string): string {
  const parsed = new URL(url);
  const rest = parsed.pathname.slice(prefix.length);
  parsed.pathname = rest.startsWith("/") ? rest : `/${rest}`;
  return parsed.href;
}

/** An event, a queue batch or a schedule tick for a trigger function. */
function onTrigger(message: TriggerInvokeMessage): void {
  const invocation = new Invocation(message.i, message.r, "");
  if (message.tp !== undefined) invocation.traceparent = message.tp;
  open.set(message.i, invocation);
  invocation.onEscape((error) => fail(invocation, error));
  if (trigger === undefined || makeContext === undefined) {
    fail(invocation, new CairnError("internal_error", "this instance does not hold a trigger function"));
    return;
  }
  const declaration = trigger;
  const ctx = makeContext(invocation, {});
  let run: ReturnType<typeof runTrigger>;
  try {
    run = current.run(invocation, runTrigger, declaration, message.d, ctx);
  } catch (error) {
    fail(invocation, error);
    return;
  }
  Promise.resolve(run.result).then(
    () => finishTrigger(invocation, run.outcome()),
    (error: unknown) => fail(invocation, error, run.outcome()),
  );
}

function finishTrigger(invocation: Invocation, result: TriggerResult): void {
  if (invocation.finished) return;
  invocation.finished = true;
  const l = invocation.takeLogs();
  const bg = invocation.background > 0 ? true : undefined;
  post({ t: "done", i: invocation.id, v: result, l, bg });
  if (bg === undefined) closeInvocation(invocation);
}

function onHttp(message: HttpInvokeMessage): void {
  const invocation = new Invocation(message.i, message.r, message.u);
  if (message.tp !== undefined) invocation.traceparent = message.tp;
  open.set(message.i, invocation);
  invocation.onEscape((error) => fail(invocation, error));
  if (invoke === undefined || makeContext === undefined) {
    fail(
      invocation,
      new CairnError("internal_error", "instance received an invocation before it was loaded"),
    );
    return;
  }
  const request = createRequest(message.m, message.u, message.h, message.b);
  const ctx = makeContext(invocation, message.p);
  let result: unknown;
  try {
    result = current.run(invocation, invoke, request, ctx);
  } catch (error) {
    fail(invocation, error);
    return;
  }
  // Not instanceof Promise: that walks the prototype chain of a returned Response, which would load
  // the native class (see web-classes.ts).
  if (isThenable(result)) {
    result.then(
      (response) => respond(invocation, response),
      (error: unknown) => fail(invocation, error),
    );
  } else {
    respond(invocation, result);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function respond(invocation: Invocation, response: unknown): void {
  if (invocation.finished) return;
  if (!isResponse(response)) {
    fail(
      invocation,
      new CairnError("invalid_response", `the function returned ${typeName(response)} instead of a Response`),
    );
    return;
  }
  let head;
  try {
    head = serializeResponse(response);
  } catch (error) {
    fail(invocation, error);
    return;
  }
  invocation.finished = true;
  const l = invocation.takeLogs();
  const bg = invocation.background > 0 ? true : undefined;
  if (head.stream === null) {
    const body = head.body;
    if (
      l === undefined &&
      bg === undefined &&
      (body === null || typeof body === "string") &&
      plain(head.headers)
    ) {
      outbox.push(encodeResponse(invocation.id, head.status, head.headers, body ?? ""));
    } else {
      post({ t: "res", i: invocation.id, s: head.status, h: head.headers, b: body ?? undefined, l, bg });
    }
    if (bg === undefined) closeInvocation(invocation);
    return;
  }
  const hostStream = handBack(head.stream);
  if (hostStream !== undefined) {
    post({ t: "res", i: invocation.id, s: head.status, h: head.headers, hs: hostStream, l, bg });
    if (bg === undefined) closeInvocation(invocation);
    return;
  }
  post({ t: "res", i: invocation.id, s: head.status, h: head.headers, st: true, l, bg });
  streamingResponses.add(invocation.id);
  pumpStream(invocation.id, head.stream, post, () => {
    streamingResponses.delete(invocation.id);
    if (invocation.background === 0) closeInvocation(invocation);
  });
}

/** Invocations whose response body is still streaming out. */
const streamingResponses = new Set<number>();

/** The invocation is over (response sent, background work settled): drop what it still holds. */
function closeInvocation(invocation: Invocation): void {
  open.delete(invocation.id);
  if (!streamingResponses.has(invocation.id)) releaseInvocation(invocation.id);
}

function fail(invocation: Invocation, error: unknown, v?: TriggerResult): void {
  if (invocation.finished) return;
  invocation.finished = true;
  const l = invocation.takeLogs();
  const bg = invocation.background > 0 ? true : undefined;
  post({ t: "fail", i: invocation.id, e: serializeError(error), l, bg, v });
  if (bg === undefined) closeInvocation(invocation);
}

/** Headers that the compact response form can carry (no NUL, which Node would refuse anyway). */
function plain(headers: string[]): boolean {
  for (let n = 0; n < headers.length; n++) if (headers[n]!.includes("\0")) return false;
  return true;
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object") return `an object (${value.constructor?.name ?? "Object"})`;
  return `a ${typeof value}`;
}

async function discover(groups: DiscoverMessage["groups"]): Promise<DiscoveredFunction[]> {
  const found: DiscoveredFunction[] = [];
  const baseEnv = { ...process.env };
  for (const { modules, env } of groups) {
    for (const key of Object.keys(process.env)) delete process.env[key];
    Object.assign(process.env, baseEnv, env);
    found.push(...(await discoverModules(modules)));
  }
  return found;
}

async function discoverModules(modules: string[]): Promise<DiscoveredFunction[]> {
  const found: DiscoveredFunction[] = [];
  for (const url of modules) {
    const module = (await import(url)) as Record<string, unknown>;
    for (const [exportName, value] of Object.entries(module)) {
      if (!isDeclaration(value)) continue;
      const base = { module: url, exportName, options: { ...value.options }, site: callerFrame(value.site) };
      if (value.kind === "http") {
        found.push({
          ...base,
          kind: "http",
          methods: value.methods === "*" ? "*" : [...value.methods],
          path: value.path,
        });
      } else if (value.kind === "mount") {
        found.push({ ...base, kind: "mount", prefix: value.prefix, stripPrefix: value.stripPrefix });
      } else {
        found.push({ ...base, kind: value.kind, trigger: describeTrigger(value) });
      }
    }
  }
  return found;
}

/** The location of whoever called http()/mount(): the second frame of the captured stack. */
function callerFrame(site: Error): string | undefined {
  const frames = (site.stack ?? "").split("\n").filter((line) => line.trimStart().startsWith("at "));
  const frame = frames[1];
  if (frame === undefined) return undefined;
  const match =
    /\(?((?:file|node):[^()\s]+?:\d+:\d+)\)?\s*$/.exec(frame) ??
    /\(?(\/[^()\s]+?:\d+:\d+)\)?\s*$/.exec(frame);
  return match?.[1];
}
