import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { CairnNode, type NodeOptions } from "../../src/host/node.js";

/** A throw-away app folder: file path → contents. */
export function makeApp(files: Record<string, string>, parent?: string): string {
  const dir = parent ?? mkdtempSync(join(tmpdir(), "cairn-test-"));
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
  return dir;
}

export function removeApp(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Log lines a test node wrote, parsed. */
export class LogCapture {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _encoding, done) => {
      for (const line of chunk.toString().split("\n"))
        if (line.trim()) this.lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });

  find(predicate: (line: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
    return this.lines.find(predicate);
  }

  text(): string {
    return this.lines.map((line) => JSON.stringify(line)).join("\n");
  }
}

export interface TestNode {
  node: CairnNode;
  url: string;
  logs: LogCapture;
  stop(): Promise<void>;
}

/** Start a node on a free port with its logs captured. */
export async function startNode(options: Partial<NodeOptions> & { dir: string }): Promise<TestNode> {
  const logs = new LogCapture();
  const node = await CairnNode.start({
    port: 0,
    logger: pino({ level: "debug", base: undefined }, logs.stream),
    spares: 1,
    ...options,
  });
  return { node, url: node.url, logs, stop: () => node.stop() };
}

export async function getJson(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body, headers: response.headers };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Poll until `check` returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(20);
  }
}
