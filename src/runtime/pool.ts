import type { SerializedError } from "../sdk/errors.js";
import type { CallMessage, LoadMessage, LogRecord } from "../shared/protocol.js";
import { Instance, type InstanceHost } from "./instance.js";
import type { PoolSettings } from "./settings.js";
import type { WorkerFactory } from "./workers.js";

/** Invocations that may wait for a free instance before new ones are turned away with 503. */
export const maxQueuedInvocations = 1024;

export interface PoolEvents {
  call(instance: Instance, message: CallMessage): Promise<unknown>;
  logs(instance: Instance, records: LogRecord[]): void;
  /** An instance could not load its function, or died unexpectedly. */
  problem(message: string, error?: SerializedError): void;
}

/** Work for one instance slot: an HTTP request, an event, a workflow step... */
export interface Job {
  run(instance: Instance): void;
  fail(error: SerializedError): void;
}

interface Waiting {
  job: Job;
  enqueued: number;
}

/**
 * The instances of one function. Invocations are packed onto the fewest instances (up to each
 * one's concurrency), which keeps the rest idle long enough to be stopped; new instances start
 * only when every running one is full.
 */
export class FunctionPool {
  readonly instances: Instance[] = [];
  private starting = 0;
  private waiting: Waiting[] = [];
  private closing = false;
  private readonly instanceHost: InstanceHost;
  private drained: (() => void) | undefined;

  constructor(
    readonly name: string,
    readonly settings: PoolSettings,
    private readonly factory: WorkerFactory,
    private readonly loadMessage: LoadMessage,
    private readonly events: PoolEvents,
  ) {
    this.instanceHost = {
      call: (instance, message) => events.call(instance, message),
      logs: (instance, records) => events.logs(instance, records),
      released: (instance) => this.released(instance),
      exited: (instance) => this.exited(instance),
    };
  }

  /** Start the minimum number of instances. */
  start(): void {
    this.topUp();
  }

  /** Run the job on an instance with a free slot, now or as soon as one is free. */
  dispatch(job: Job): void {
    if (this.closing) {
      job.fail({
        code: "shutting_down",
        message: "the server is shutting down",
        status: 503,
        retryable: true,
      });
      return;
    }
    const instance = this.waiting.length === 0 ? this.pick() : undefined;
    if (instance !== undefined) {
      this.use(instance, job);
      return;
    }
    if (this.waiting.length >= maxQueuedInvocations) {
      job.fail({
        code: "function_overloaded",
        message: `${this.name} has ${maxQueuedInvocations} invocations waiting for an instance; try again shortly`,
        status: 503,
        retryable: true,
      });
      return;
    }
    this.waiting.push({ job, enqueued: performance.now() });
    this.grow();
  }

  get busy(): number {
    let busy = 0;
    for (const instance of this.instances) busy += instance.busy;
    return busy;
  }

  /** Periodic upkeep: timeouts, invocations that waited too long, idle instances. */
  tick(now: number): void {
    const { timeoutMs, idleTimeoutMs, minInstances } = this.settings;
    for (const instance of [...this.instances]) instance.checkTimeout(now, timeoutMs);
    while (this.waiting.length > 0 && now - this.waiting[0]!.enqueued >= timeoutMs) {
      this.waiting.shift()!.job.fail({
        code: "function_timeout",
        message: `${this.name}: no instance became free within the timeout`,
        status: 504,
      });
    }
    let running = this.instances.filter((instance) => !instance.retiring).length;
    for (const instance of this.instances) {
      if (running <= minInstances) break;
      if (instance.retiring || instance.busy > 0 || instance.background > 0) continue;
      if (now - instance.lastUsed < idleTimeoutMs) continue;
      instance.stop("retired");
      running--;
    }
  }

  /** Stop taking invocations, let running ones finish (until the deadline), then stop every instance. */
  async close(deadline: number): Promise<void> {
    this.closing = true;
    for (const waiting of this.waiting.splice(0)) {
      waiting.job.fail({
        code: "shutting_down",
        message: "the server is shutting down",
        status: 503,
        retryable: true,
      });
    }
    if (this.instances.some((instance) => instance.busy > 0 || instance.background > 0)) {
      const remaining = deadline - performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, remaining));
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    for (const instance of [...this.instances]) instance.stop("stopped");
    this.instances.length = 0;
  }

  private pick(): Instance | undefined {
    const limit = this.settings.concurrency;
    for (const instance of this.instances) {
      if (instance.ready && !instance.retiring && instance.active < limit) return instance;
    }
    return undefined;
  }

  private use(instance: Instance, job: Job): void {
    job.run(instance);
    const { maxInvocations } = this.settings;
    if (maxInvocations > 0 && instance.served >= maxInvocations) {
      instance.retiring = true;
      // A strict pool starts the next fresh instance while this one works.
      this.grow();
    }
  }

  private grow(): void {
    const { maxInstances, concurrency, strict } = this.settings;
    const live = this.instances.filter((instance) => !instance.retiring).length;
    const wanted = Math.ceil(this.waiting.length / concurrency) + (strict ? 1 : 0);
    let toStart = Math.min(wanted - this.starting, maxInstances - live - this.starting);
    while (toStart-- > 0) this.spawn();
  }

  private topUp(): void {
    const live = this.instances.filter((instance) => !instance.retiring).length + this.starting;
    for (let n = live; n < this.settings.minInstances; n++) this.spawn();
  }

  private spawn(): void {
    if (this.closing) return;
    this.starting++;
    this.factory
      .take(this.settings.memoryMb)
      .then(async (worker) => {
        const instance = new Instance(worker, this.name, this.instanceHost);
        try {
          await instance.load(this.loadMessage);
        } catch (error) {
          instance.stop("load_failed");
          throw error;
        }
        return instance;
      })
      .then(
        (instance) => {
          this.starting--;
          if (this.closing) {
            instance.stop("stopped");
            return;
          }
          this.instances.push(instance);
          this.drain();
        },
        (error: SerializedError | Error) => {
          this.starting--;
          const serialized: SerializedError =
            "code" in error && typeof error.code === "string"
              ? error
              : { code: "load_failed", message: error.message };
          this.events.problem(`${this.name}: an instance failed to start: ${serialized.message}`, serialized);
          // Without any instance to come, waiting invocations would only time out.
          if (
            this.starting === 0 &&
            !this.instances.some((instance) => instance.ready && !instance.retiring)
          ) {
            for (const waiting of this.waiting.splice(0)) waiting.job.fail({ ...serialized, status: 500 });
          }
        },
      );
  }

  private drain(): void {
    while (this.waiting.length > 0) {
      const instance = this.pick();
      if (instance === undefined) break;
      this.use(instance, this.waiting.shift()!.job);
    }
    if (this.waiting.length > 0) this.grow();
  }

  private released(instance: Instance): void {
    if (
      instance.retiring &&
      instance.busy === 0 &&
      instance.background === 0 &&
      instance.exitReason === undefined
    ) {
      instance.stop("retired");
    }
    if (!instance.retiring) this.drain();
    if (this.drained !== undefined && this.busy === 0 && this.instances.every((i) => i.background === 0)) {
      this.drained();
    }
  }

  private exited(instance: Instance): void {
    const index = this.instances.indexOf(instance);
    if (index !== -1) this.instances.splice(index, 1);
    if (instance.exitReason === "crash" || instance.exitReason === "memory") {
      this.events.problem(
        `${this.name}: instance ${instance.id} exited (${instance.exitReason}); replacing it`,
      );
    }
    if (this.closing) {
      if (this.drained !== undefined && this.busy === 0) this.drained();
      return;
    }
    this.topUp();
    if (this.waiting.length > 0) this.grow();
  }
}
