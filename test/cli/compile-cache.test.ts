import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const loader = pathToFileURL(join(import.meta.dirname, "..", "..", "dist", "cli", "compile-cache.js")).href;

// A bundle in the shape of dist/cli.cjs: CommonJS, with its import() calls going through __cairnImport.
const bundle = (value: number) => `
  const { join } = require("node:path");
  globalThis.probe = {
    value: ${value} + join("a", "b").length - 3,
    imported: __cairnImport("node:os").then((os) => typeof os.cpus),
  };
`;

interface Run {
  cached: boolean;
  value: number;
  imported: string;
}

/**
 * Each run is a new process, as each `cairn` command is: within one process V8 keeps compiled
 * scripts by their source and would not even look at the cache.
 */
function run(file: string, writeAfterMs?: number): Run {
  const script = `
    import { runCached } from ${JSON.stringify(loader)};
    const { cached } = runCached(${JSON.stringify(file)}, { writeAfterMs: ${writeAfterMs ?? "undefined"} });
    const imported = await globalThis.probe.imported;
    console.log(JSON.stringify({ cached, value: globalThis.probe.value, imported }));
    // Stay until the cache is written.
    if (${writeAfterMs !== undefined}) await new Promise((resolve) => setTimeout(resolve, ${(writeAfterMs ?? 0) + 200}));
  `;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
  return JSON.parse(out.trim()) as Run;
}

describe("the CLI's code cache", () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-code-cache-"));
  const file = join(dir, "bundle.cjs");
  const cache = `${file}.v8-cache`;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("compiles without a cache, writes one, and runs from it next time", () => {
    writeFileSync(file, bundle(1));
    expect(run(file, 0)).toEqual({ cached: false, value: 1, imported: "function" });
    expect(existsSync(cache)).toBe(true);
    // import() works from cached code too (Node 20 cannot run it inside a vm.Script by itself).
    expect(run(file)).toEqual({ cached: true, value: 1, imported: "function" });
  });

  it("never uses a cache made for other source, even of the same length", () => {
    writeFileSync(file, bundle(2));
    expect(run(file, 0)).toEqual({ cached: false, value: 2, imported: "function" });
    expect(run(file)).toEqual({ cached: true, value: 2, imported: "function" });
  });

  it("runs, and writes the cache again, when V8 rejects it", () => {
    // V8's own header (magic number, version and flag hashes) follows the line that keys the cache.
    const data = readFileSync(cache);
    const header = data.indexOf(0x0a) + 1;
    data.fill(0x5a, header, header + 12);
    writeFileSync(cache, data);
    expect(run(file, 0)).toEqual({ cached: false, value: 2, imported: "function" });
    expect(run(file)).toEqual({ cached: true, value: 2, imported: "function" });
  });

  it("only reads the cache unless asked to write it", () => {
    rmSync(cache);
    expect(run(file)).toEqual({ cached: false, value: 2, imported: "function" });
    expect(existsSync(cache)).toBe(false);
  });
});
