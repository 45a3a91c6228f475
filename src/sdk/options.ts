import type { Duration } from "../shared/duration.js";

/** Settings of a function's instance pool; each may be set app-wide in the config or per function. */
export interface FunctionOptions {
  /** Longest an invocation may run before its instance is terminated (default 30s). */
  timeout?: Duration;
  /** Heap cap per instance in MB (default 256); exceeding it fails the invocation and replaces the instance. */
  memory?: number;
  /** Instances kept warm even when idle (default 0). */
  minInstances?: number;
  /** Most instances of this function at once (default 4). */
  maxInstances?: number;
  /** Invocations one instance runs at the same time (default 64). */
  concurrency?: number;
  /** An instance idle this long is stopped, down to minInstances (default 5m). */
  idleTimeout?: Duration;
  /** Invocations after which an instance is recycled; 0 means never (default 0). */
  maxInvocations?: number;
  /** Run every invocation in a fresh instance, so module state is never shared (default false). */
  strict?: boolean;
}
