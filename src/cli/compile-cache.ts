import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import vm from "node:vm";

/**
 * Runs the bundled CLI (one CommonJS file) through V8's code cache. Compiling the bundle and the
 * functions that start-up calls costs ~70 ms of `cairn start` on a small machine; with the cache V8
 * only deserializes them. Node 22 has module.enableCompileCache() for this; Node 20 has only
 * vm.Script's cachedData, so this does the same by hand: the cache is written once a run has been
 * up for a while (so it holds the start-up functions), keyed by the bundle's content and the Node
 * build, and a cache V8 rejects is simply written again.
 */
export function runCached(file: string, options: { writeAfterMs?: number } = {}): { cached: boolean } {
  const source = readFileSync(file, "utf8");
  const key = `${process.version} ${process.arch} ${createHash("sha1").update(source).digest("hex")}\n`;
  const cachePath = cacheFile(file);
  const cachedData = readCache(cachePath, key);
  // The bundle's own import() calls go through __cairnImport (shared/import-module.ts): inside a
  // vm.Script, Node 20 runs import() only behind --experimental-vm-modules.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, __cairnImport) {${source}\n})`,
    { filename: file, cachedData },
  );
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(
    module.exports,
    createRequire(file),
    module,
    file,
    dirname(file),
    (specifier: string) => import(specifier),
  );
  if (
    options.writeAfterMs !== undefined &&
    (cachedData === undefined || script.cachedDataRejected === true)
  ) {
    setTimeout(() => writeCache(cachePath, key, script.createCachedData()), options.writeAfterMs).unref();
  }
  return { cached: cachedData !== undefined && script.cachedDataRejected === false };
}

function cacheFile(file: string): string {
  return `${file}.v8-cache`;
}

function readCache(path: string, key: string): Buffer | undefined {
  for (const candidate of [path, fallbackPath(path)]) {
    let data: Buffer;
    try {
      data = readFileSync(candidate);
    } catch {
      continue;
    }
    const header = Buffer.from(key);
    if (data.length > header.length && data.subarray(0, header.length).equals(header)) {
      return data.subarray(header.length);
    }
  }
  return undefined;
}

/** Next to the bundle; in the temp folder when the package's folder is read-only (a global install). */
function writeCache(path: string, key: string, data: Buffer): void {
  for (const target of [path, fallbackPath(path)]) {
    const temporary = `${target}.${process.pid}.tmp`;
    try {
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(temporary, Buffer.concat([Buffer.from(key), data]));
      // A rename is atomic: processes starting side by side never read half a cache.
      renameSync(temporary, target);
      return;
    } catch {
      // try the next place; a start-up cache is never worth failing for
    }
  }
}

function fallbackPath(path: string): string {
  const id = createHash("sha1").update(path).digest("hex").slice(0, 16);
  return join(tmpdir(), "cairn-v8-cache", `${id}.v8-cache`);
}
