import type { LogLevel } from "../shared/protocol.js";
import type { FunctionMeter } from "./function-meter.js";

/** The most recent invocations a node keeps in memory (for the console), and the most recent log lines. */
export const recentInvocations = 1000;
export const recentLogs = 5000;
/**
 * Invocations kept per second at most, successful and failed apiece: below that rate the ring holds
 * every invocation; above it, a sample. Keeping every one at thousands a second would only make the
 * garbage collector move strings nobody reads (the ring would turn over in a fraction of a second).
 */
export const recentPerSecond = 100;

export interface RecentLog {
  req: string | undefined;
  app: string;
  function: string;
  level: LogLevel;
  msg: string;
  time: number;
  fields?: Record<string, unknown>;
}

export interface RecentInvocation {
  requestId: string;
  app: string;
  function: string;
  kind: string;
  /** HTTP method, or the trigger's kind. */
  method: string;
  /** HTTP path, or what the trigger delivered (a queue, a topic, a workflow run). */
  target: string;
  /** HTTP status (0 for triggers). */
  status: number;
  /** Error code when the invocation failed. */
  code: string | null;
  ms: number;
  /** When it ended, in ms since the epoch. */
  at: number;
  logs: RecentLog[];
}

export interface RecentFilter {
  app?: string;
  function?: string;
  requestId?: string;
  errors?: boolean;
  limit?: number;
}

/**
 * Bounded rings of the node's latest invocations and function log lines, in memory only: they start
 * empty on every start and every node has its own. The invocation ring is columns of preallocated
 * arrays, so recording one (on the hot path) allocates nothing, and it keeps at most
 * `recentPerSecond` successful and as many failed invocations a second.
 */
export class RecentActivity {
  private next = 0;
  private readonly ids = new Array<string>(recentInvocations);
  private readonly meters = new Array<FunctionMeter>(recentInvocations);
  private readonly methods = new Array<string>(recentInvocations);
  private readonly targets = new Array<string>(recentInvocations);
  private readonly codes = new Array<string | undefined>(recentInvocations);
  private readonly statuses = new Uint16Array(recentInvocations);
  private readonly durations = new Float64Array(recentInvocations);
  private readonly ends = new Float64Array(recentInvocations);
  private logs: RecentLog[] = [];
  private logsAt = 0;
  private second = -1;
  private okBudget = recentPerSecond;
  private errorBudget = recentPerSecond;

  invocation(
    meter: FunctionMeter,
    requestId: string,
    method: string,
    target: string,
    status: number,
    code: string | undefined,
    ms: number,
    end: number,
  ): void {
    const second = Math.floor(end / 1000);
    if (second !== this.second) {
      this.second = second;
      this.okBudget = recentPerSecond;
      this.errorBudget = recentPerSecond;
    }
    if (code === undefined ? this.okBudget-- <= 0 : this.errorBudget-- <= 0) return;
    const i = this.next++ % recentInvocations;
    this.ids[i] = requestId;
    this.meters[i] = meter;
    this.methods[i] = method;
    this.targets[i] = target;
    this.statuses[i] = status;
    this.codes[i] = code;
    this.durations[i] = ms;
    this.ends[i] = end;
  }

  log(entry: RecentLog): void {
    if (this.logs.length < recentLogs) this.logs.push(entry);
    else this.logs[this.logsAt++ % recentLogs] = entry;
  }

  /** Newest first, each with its log lines. */
  list(filter: RecentFilter = {}): RecentInvocation[] {
    const limit = Math.min(Math.max(filter.limit ?? 100, 1), recentInvocations);
    const out: RecentInvocation[] = [];
    const count = Math.min(this.next, recentInvocations);
    for (let n = 1; n <= count && out.length < limit; n++) {
      const i = (this.next - n) % recentInvocations;
      const meter = this.meters[i]!;
      if (filter.app !== undefined && meter.app !== filter.app) continue;
      if (filter.function !== undefined && meter.name !== filter.function) continue;
      if (filter.requestId !== undefined && !this.ids[i]!.includes(filter.requestId)) continue;
      if (filter.errors === true && this.codes[i] === undefined) continue;
      out.push({
        requestId: this.ids[i]!,
        app: meter.app,
        function: meter.name,
        kind: meter.kind,
        method: this.methods[i]!,
        target: this.targets[i]!,
        status: this.statuses[i]!,
        code: this.codes[i] ?? null,
        ms: Math.round(this.durations[i]! * 1000) / 1000,
        at: Math.round(performance.timeOrigin + this.ends[i]!),
        logs: [],
      });
    }
    const byId = new Map(out.map((entry) => [`${entry.app}\0${entry.requestId}`, entry]));
    for (const log of this.orderedLogs()) {
      if (log.req === undefined) continue;
      byId.get(`${log.app}\0${log.req}`)?.logs.push(log);
    }
    return out;
  }

  /** Log lines (oldest first), optionally of one request id or function. */
  logLines(
    filter: { requestId?: string; app?: string; function?: string; limit?: number } = {},
  ): RecentLog[] {
    const limit = Math.min(Math.max(filter.limit ?? 200, 1), recentLogs);
    const lines = this.orderedLogs().filter(
      (log) =>
        (filter.requestId === undefined || (log.req ?? "").includes(filter.requestId)) &&
        (filter.app === undefined || log.app === filter.app) &&
        (filter.function === undefined || log.function === filter.function),
    );
    return lines.slice(-limit);
  }

  private orderedLogs(): RecentLog[] {
    if (this.logs.length < recentLogs) return this.logs;
    const at = this.logsAt % recentLogs;
    return [...this.logs.slice(at), ...this.logs.slice(0, at)];
  }
}
