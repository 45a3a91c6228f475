import type { TriggerOutcome } from "../events/dispatcher.js";
import type { HostLogger } from "../log/logger.js";
import type { SerializedError } from "../sdk/errors.js";
import type { TriggerInput, TriggerResult } from "../shared/protocol.js";
import type { FunctionMeter } from "../telemetry/function-meter.js";
import type { Span } from "../telemetry/tracing.js";
import type { Instance, InvocationSink } from "./instance.js";
import type { Job } from "./pool.js";

/** One delivery to a trigger function: the job its pool runs, and where the outcome lands. */
export class TriggerJob implements Job, InvocationSink {
  readonly outcome: Promise<TriggerOutcome>;
  private settle!: (outcome: TriggerOutcome) => void;
  private readonly started = performance.now();

  constructor(
    private readonly requestId: string,
    private readonly input: TriggerInput,
    private readonly log: HostLogger,
    private readonly meter: FunctionMeter,
    /** The invocation's span, while tracing (its service calls and workflow steps hang below it). */
    readonly span?: Span,
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
  }

  run(instance: Instance): void {
    this.span?.set("cairn.instance", instance.id);
    instance.invokeTrigger(this.requestId, this.input, this, this.span?.traceparent());
  }

  done(result: TriggerResult): void {
    this.record(undefined);
    this.settle({ ok: true, result });
  }

  fail(error: SerializedError, result?: TriggerResult): void {
    this.record(error);
    this.settle(result === undefined ? { ok: false, error } : { ok: false, error, result });
  }

  respond(): void {
    this.fail({ code: "internal_error", message: "a trigger function answered like an HTTP function" });
  }

  head(): void {
    this.respond();
  }

  chunk(): void {}

  end(error?: SerializedError): void {
    if (error !== undefined) this.fail(error);
  }

  private record(error: SerializedError | undefined): void {
    const code = error?.code;
    const elapsed = this.meter.finish(
      this.requestId,
      this.input.kind,
      triggerTarget(this.input),
      0,
      code,
      this.started,
    );
    if (this.span !== undefined) {
      if (error !== undefined) this.span.fail(error.code, error.message);
      this.span.end();
    }
    if (!this.log.isLevelEnabled("info")) return;
    const ms = Math.round(elapsed * 1000) / 1000;
    this.log.info({ req: this.requestId, kind: this.input.kind, outcome: code ?? "ok", ms }, "delivery");
  }
}

/** What a delivery was about, in a few words (the console's invocation list). */
export function triggerTarget(input: TriggerInput): string {
  switch (input.kind) {
    case "queue":
      return `${input.queue} (${input.messages.length} message${input.messages.length === 1 ? "" : "s"})`;
    case "event":
      return input.event.topic;
    case "schedule":
      return input.tick.cron;
    case "workflow":
      return input.runId;
  }
}
