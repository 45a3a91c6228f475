import type { TriggerOutcome } from "../events/dispatcher.js";
import type { HostLogger } from "../log/logger.js";
import type { SerializedError } from "../sdk/errors.js";
import type { TriggerInput, TriggerResult } from "../shared/protocol.js";
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
  ) {
    this.outcome = new Promise((resolve) => (this.settle = resolve));
  }

  run(instance: Instance): void {
    instance.invokeTrigger(this.requestId, this.input, this);
  }

  done(result: TriggerResult): void {
    this.record("ok");
    this.settle({ ok: true, result });
  }

  fail(error: SerializedError, result?: TriggerResult): void {
    this.record(error.code);
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

  private record(outcome: string): void {
    if (!this.log.isLevelEnabled("info")) return;
    const ms = Math.round((performance.now() - this.started) * 1000) / 1000;
    this.log.info({ req: this.requestId, kind: this.input.kind, outcome, ms }, "delivery");
  }
}
