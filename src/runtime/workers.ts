import { Worker } from "node:worker_threads";
import type { InstanceToHost } from "../shared/protocol.js";

/**
 * Starts worker threads for instances. Booting a thread (a new isolate and Node's bootstrap) is the
 * bulk of a cold start, so a few booted, still generic workers are kept as spares: a pool that
 * needs an instance takes one and only has to load its function's module.
 */
export class WorkerFactory {
  private readonly spares = new Map<number, Array<Promise<Worker>>>();
  private closed = false;

  constructor(
    private readonly script: string,
    private readonly spareCount: number,
    private readonly spareMemoryMb: number,
  ) {}

  /** Top up the spares for the common memory size. */
  warm(): void {
    if (this.closed || this.spareCount === 0) return;
    const list = this.sparesFor(this.spareMemoryMb);
    const early = adoptPrestarted(this.script, this.spareMemoryMb);
    if (early !== undefined && list.length < this.spareCount) {
      early.catch(() => this.discard(this.spareMemoryMb, early));
      list.push(early);
    }
    while (list.length < this.spareCount) {
      const booting = boot(this.script, this.spareMemoryMb);
      booting.catch(() => this.discard(this.spareMemoryMb, booting));
      list.push(booting);
    }
  }

  /** A booted worker with the given heap cap; a spare if one is at hand. */
  async take(memoryMb: number): Promise<Worker> {
    if (this.closed) throw new Error("worker factory is closed");
    const list = this.sparesFor(memoryMb);
    const spare = list.shift();
    // The replacement boots a little later: started at once, its bootstrap would compete for the
    // CPU with the instance that is about to load its function and serve.
    if (memoryMb === this.spareMemoryMb) setTimeout(() => this.warm(), spareRefillDelayMs).unref();
    if (spare !== undefined) {
      try {
        const worker = await spare;
        worker.ref();
        return worker;
      } catch {
        // a spare that failed to boot is replaced by a fresh start below
      }
    }
    const worker = await boot(this.script, memoryMb);
    worker.ref();
    return worker;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.spares.values()].flat();
    this.spares.clear();
    await Promise.all(
      all.map((spare) =>
        spare.then(
          (worker) => worker.terminate(),
          () => undefined,
        ),
      ),
    );
  }

  private sparesFor(memoryMb: number): Array<Promise<Worker>> {
    let list = this.spares.get(memoryMb);
    if (list === undefined) {
      list = [];
      this.spares.set(memoryMb, list);
    }
    return list;
  }

  private discard(memoryMb: number, spare: Promise<Worker>): void {
    const list = this.sparesFor(memoryMb);
    const index = list.indexOf(spare);
    if (index !== -1) void list.splice(index, 1);
  }
}

const spareRefillDelayMs = 50;

/** The heap cap of an instance whose function sets none. */
export const defaultInstanceMemoryMb = 256;

const prestartedKey = Symbol.for("cairn.prestartedWorker");
interface Prestarted {
  script: string;
  memoryMb: number;
  worker: Promise<Worker>;
}

/**
 * Boot one spare before the rest of the CLI loads (bin/cairn.js calls this for start and dev), so
 * the worker's bootstrap runs on another core while the host loads, instead of after it. It lives
 * on globalThis because the CLI bundle holds its own copy of this module.
 */
export function prestart(script: string, memoryMb: number): void {
  const worker = boot(script, memoryMb);
  // Adopted by the first factory, or left unref()ed to be dropped at exit.
  worker.catch(() => undefined);
  (globalThis as Record<symbol, Prestarted | undefined>)[prestartedKey] = { script, memoryMb, worker };
}

function adoptPrestarted(script: string, memoryMb: number): Promise<Worker> | undefined {
  const slot = globalThis as Record<symbol, Prestarted | undefined>;
  const early = slot[prestartedKey];
  slot[prestartedKey] = undefined;
  if (early === undefined) return undefined;
  if (early.script === script && early.memoryMb === memoryMb) return early.worker;
  void early.worker.then(
    (worker) => worker.terminate(),
    () => undefined,
  );
  return undefined;
}

/** Start a worker and wait until its runtime is up; it does not keep the process alive until ref()ed. */
export function boot(script: string, memoryMb: number): Promise<Worker> {
  const worker = new Worker(script, {
    resourceLimits: { maxOldGenerationSizeMb: memoryMb },
    // Functions see their app's vars and secrets (set at load), never the host's environment.
    env: { NODE_ENV: process.env.NODE_ENV ?? "production" },
    stdout: false,
    stderr: false,
  });
  worker.unref();
  return new Promise((resolve, reject) => {
    const onMessage = (payload: InstanceToHost | InstanceToHost[]) => {
      const messages = Array.isArray(payload) ? payload : [payload];
      if (!messages.some((message) => message.t === "booted")) return;
      cleanup();
      resolve(worker);
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`instance worker exited with code ${code} while booting`));
    };
    const cleanup = () => {
      worker.off("message", onMessage);
      worker.off("error", onError);
      worker.off("exit", onExit);
    };
    worker.on("message", onMessage);
    worker.on("error", onError);
    worker.on("exit", onExit);
  });
}
