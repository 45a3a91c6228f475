/**
 * Messages between the host and a function instance (a worker thread). Keys are short because
 * every HTTP invocation crosses this boundary twice.
 */
import type { SerializedError } from "../sdk/errors.js";

export type LogLevel = "debug" | "info" | "warn" | "error";

export interface LogRecord {
  level: LogLevel;
  msg: string;
  time: number;
  fields?: Record<string, unknown>;
  /** Request id of the invocation that logged, when known. */
  req?: string;
}

/** Sent once, right after the worker starts: what the instance must load and expose. */
export interface LoadMessage {
  t: "load";
  /** File URL of the bundled module that declares the function. */
  module: string;
  exportName: string;
  functionName: string;
  env: Record<string, string>;
  secrets: Record<string, string>;
  /** Names of the service clients to put on ctx, with what each needs to know. */
  services: Record<string, unknown>;
}

export interface HttpInvokeMessage {
  t: "http";
  /** Invocation id, unique within the instance. */
  i: number;
  /** Request id. */
  r: string;
  m: string;
  /** Absolute URL. */
  u: string;
  /** Raw headers: name, value, name, value... */
  h: string[];
  b?: Uint8Array;
  p: Record<string, string>;
  /** W3C traceparent of the invocation's span (only while tracing: the string form has no room for it). */
  tp?: string;
}

export interface ReplyMessage {
  t: "reply";
  c: number;
  v?: unknown;
  /** Properties of `v` that hold stream ids: each becomes a ReadableStream fed by stream messages. */
  st?: string[];
  e?: SerializedError;
}

/** The host wrote one streamed chunk out; the instance may send another. */
export interface CreditMessage {
  t: "credit";
  i: number;
}

/** The client went away: stop streaming this invocation's body. */
export interface CancelMessage {
  t: "cancel";
  i: number;
}

/** Load every module of some apps and report their declarations (once per build, at start). */
export interface DiscoverMessage {
  t: "discover";
  /** Per app: its modules, and the vars and secrets its code sees in process.env. */
  groups: Array<{ modules: string[]; env: Record<string, string> }>;
}

export type HostToInstance =
  | TriggerInvokeMessage
  | LoadMessage
  | DiscoverMessage
  | HttpInvokeMessage
  | ReplyMessage
  | CreditMessage
  | CancelMessage
  | StreamMessage;

/**
 * Byte streams that go with service calls (a blob body), in either direction. Each side numbers
 * the streams it sends; the sender waits for credit before each chunk ("sc" grants n more), and
 * the receiver may cancel ("sx"). See shared/stream-channel.ts.
 */
export type StreamMessage = StreamDataMessage | StreamEndMessage | StreamCreditMessage | StreamCancelMessage;

export interface StreamDataMessage {
  t: "sd";
  s: number;
  b: Uint8Array;
}

export interface StreamEndMessage {
  t: "se";
  s: number;
  /** The stream failed: the receiver's reads reject with this. */
  e?: SerializedError;
}

export interface StreamCreditMessage {
  t: "sc";
  s: number;
  n: number;
}

export interface StreamCancelMessage {
  t: "sx";
  s: number;
}

/** The worker has started and can take a load or discover message. */
export interface BootedMessage {
  t: "booted";
}

export interface ReadyMessage {
  t: "ready";
}

/** A trigger function's subscription, as discovery reports it. */
export type DiscoveredTrigger =
  | {
      kind: "event";
      topic: string;
      filter: { prefix?: string; suffix?: string };
      retry: Record<string, unknown>;
    }
  | { kind: "queue"; queue: string }
  | { kind: "schedule"; cron: string; timezone: string; catchUp: boolean; retry: Record<string, unknown> }
  | { kind: "workflow"; workflow: string };

/** What a trigger invocation receives. Payloads travel as JSON text and are parsed in the instance. */
export type TriggerInput =
  | {
      kind: "event";
      event: {
        id: string;
        topic: string;
        key?: string;
        payload: string;
        attempt: number;
        createdAt: number;
        maxAttempts: number;
      };
    }
  | {
      kind: "queue";
      queue: string;
      messages: Array<{ id: string; body: string; attempt: number; sentAt: number }>;
    }
  | { kind: "schedule"; tick: { id: string; scheduledAt: number; cron: string } }
  | {
      kind: "workflow";
      runId: string;
      /** The activation message: a suspended run reschedules it; an ended one deletes it. */
      messageId: string;
      /** The run's journal and inputs, when the host had them at hand (else the instance loads them). */
      activation?: Activation;
      /** The W3C traceparent of the call that started the run (only when tracing was on then). */
      trace?: string;
    };

/** Everything a workflow activation replays from. JSON values travel as text. */
export interface Activation {
  runId: string;
  name: string;
  /** Stale activations (a second one after a lease ran out) are recognised by this token. */
  token: number;
  input: string;
  state: string | null;
  now: number;
  cancelRequested: boolean;
  journal: JournalRecord[];
  /** Signals not consumed yet, oldest first. */
  signals: Array<{ id: string; name: string; payload: string }>;
  /** Children this run started, with how they ended (or status "running"). */
  children: Record<string, { status: string; output: string | null; error: string | null }>;
}

/** One entry of a run's journal: a step, a sleep, a signal wait, a child, a deterministic value. */
export interface JournalRecord {
  seq: number;
  name: string;
  kind: "step" | "sleep" | "signal" | "child" | "value" | "compensation";
  status: "completed" | "failed" | "retrying" | "waiting";
  attempts: number;
  /** JSON text of the result (completed) */
  result?: string | null;
  /** JSON text of a serialized error (failed, retrying) */
  error?: string | null;
  startedAt: number;
  endedAt?: number | null;
  /** wakeAt (sleep), deadline (signal), retryAt (retrying step), childId, signalId */
  data?: Record<string, unknown> | null;
}

/** What a trigger invocation reports besides success or failure (queue batches: per-message outcomes). */
export interface TriggerResult {
  acked?: string[];
  /** A delay of -1 means "the consumer's backoff". */
  retried?: Array<{ id: string; delayMs: number }>;
}

export interface TriggerInvokeMessage {
  t: "trigger";
  i: number;
  r: string;
  d: TriggerInput;
  /** W3C traceparent of the invocation's span, while tracing. */
  tp?: string;
}

/** A trigger invocation finished: `v` holds its outcome (also sent with a failure, as `v` of "fail"). */
export interface DoneMessage {
  t: "done";
  i: number;
  v: TriggerResult;
  l?: LogRecord[];
  bg?: true;
}

export interface DiscoveredFunction {
  module: string;
  exportName: string;
  kind: "http" | "mount" | "event" | "queue" | "schedule" | "workflow";
  trigger?: DiscoveredTrigger;
  methods?: string[] | "*";
  path?: string;
  prefix?: string;
  stripPrefix?: boolean;
  options: Record<string, unknown>;
  /** "file:///...ts:line:column" of the declaration. */
  site: string | undefined;
}

export interface DiscoveredMessage {
  t: "discovered";
  functions: DiscoveredFunction[];
}

export interface LoadErrorMessage {
  t: "load-error";
  e: SerializedError;
}

/** An HTTP response head, with the whole body when it is small and already at hand. */
export interface ResponseMessage {
  t: "res";
  i: number;
  s: number;
  h: string[];
  b?: string | Uint8Array;
  /** The body follows as "chunk" messages and an "end". */
  st?: true;
  /** The body is a stream the host sent this instance and nothing of it was read: send it on directly. */
  hs?: number;
  l?: LogRecord[];
  /** Background work (waitUntil) is still running; a "settled" message follows. */
  bg?: true;
}

export interface ChunkMessage {
  t: "chunk";
  i: number;
  b: Uint8Array;
}

export interface EndMessage {
  t: "end";
  i: number;
  e?: SerializedError;
  l?: LogRecord[];
}

export interface FailMessage {
  t: "fail";
  i: number;
  e: SerializedError;
  /** A trigger's outcome so far (queue messages acknowledged before the failure). */
  v?: TriggerResult;
  l?: LogRecord[];
  bg?: true;
}

export interface CallMessage {
  t: "call";
  c: number;
  /** Invocation id the call belongs to, or 0 outside any invocation. */
  i: number;
  /** Service operation, such as "tables.get". */
  s: string;
  a: unknown[];
  /** Indexes of `a` that hold stream ids (a streamed blob body). */
  st?: number[];
}

export interface LogsMessage {
  t: "logs";
  l: LogRecord[];
}

/** Background work (waitUntil) of an invocation has settled. */
export interface SettledMessage {
  t: "settled";
  i: number;
}

export type InstanceToHost =
  | DoneMessage
  | BootedMessage
  | DiscoveredMessage
  | ReadyMessage
  | LoadErrorMessage
  | ResponseMessage
  | ChunkMessage
  | EndMessage
  | FailMessage
  | CallMessage
  | LogsMessage
  | SettledMessage
  | StreamMessage;
