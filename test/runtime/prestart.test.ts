import type { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { instanceRuntime } from "../../src/runtime/own-files.js";
import { WorkerFactory, defaultInstanceMemoryMb, prestart } from "../../src/runtime/workers.js";

const slot = Symbol.for("cairn.prestartedWorker");
const prestarted = () => (globalThis as Record<symbol, { worker: Promise<unknown> } | undefined>)[slot];

describe("the worker booted before the CLI loads", () => {
  it("becomes the first spare of a factory with the same runtime and heap cap", async () => {
    const script = await instanceRuntime();
    prestart(script, defaultInstanceMemoryMb);
    const early = await prestarted()!.worker;
    const factory = new WorkerFactory(script, 1, defaultInstanceMemoryMb);
    try {
      factory.warm();
      expect(prestarted()).toBeUndefined();
      expect(await factory.take(defaultInstanceMemoryMb)).toBe(early);
    } finally {
      await factory.close();
    }
  });

  it("is stopped, not used, when the factory's heap cap differs", async () => {
    const script = await instanceRuntime();
    prestart(script, defaultInstanceMemoryMb);
    const early = (await prestarted()!.worker) as Worker;
    const exited = new Promise((resolve) => early.once("exit", resolve));
    const factory = new WorkerFactory(script, 1, 128);
    try {
      factory.warm();
      expect(prestarted()).toBeUndefined();
      await exited;
      const taken = await factory.take(128);
      expect(taken).not.toBe(early);
      await taken.terminate();
    } finally {
      await factory.close();
    }
  });
});
