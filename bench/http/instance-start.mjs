// How long a new function instance takes to become ready: from a booted spare (the usual case)
// and from nothing (a new worker thread). Prints one JSON line.
import { join } from "node:path";
import { WorkerFactory, boot } from "../../dist/runtime/workers.js";
import { Instance } from "../../dist/runtime/instance.js";
import { instanceRuntime } from "../../dist/runtime/own-files.js";
import { buildApp, functionSources } from "../../dist/runtime/build.js";

const samples = Number(process.argv[2] ?? 20);
const appDir = join(new URL(".", import.meta.url).pathname, "app");
const build = await buildApp(
  appDir,
  functionSources(appDir),
  [],
  join(appDir, ".cairn", "bench-instance-start"),
);
const script = await instanceRuntime();
const host = { call: async () => undefined, logs: () => {}, released: () => {}, exited: () => {} };
const loadMessage = {
  t: "load",
  module: build.modules[0].url,
  exportName: "hello",
  functionName: "hello",
  env: {},
  secrets: {},
  services: {},
};

async function ready(worker) {
  const instance = new Instance(worker, "hello", host);
  await instance.load(loadMessage);
  return instance;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const fromSpare = [];
const cold = [];
const factory = new WorkerFactory(script, 1, 256);
for (let i = 0; i < samples; i++) {
  factory.warm();
  await new Promise((resolve) => setTimeout(resolve, 150)); // let the spare finish booting
  let started = performance.now();
  const a = await ready(await factory.take(256));
  fromSpare.push(performance.now() - started);
  a.stop("stopped");
  started = performance.now();
  const b = await ready(await boot(script, 256));
  cold.push(performance.now() - started);
  b.stop("stopped");
}
await factory.close();
const { rmSync } = await import("node:fs");
rmSync(build.dir, { recursive: true, force: true });
console.log(JSON.stringify({ fromSpareP50: median(fromSpare), coldP50: median(cold) }));
process.exit(0);
