import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeApp, sleep } from "../helpers/app.js";
import { startCli, type CliProcess } from "../helpers/cli.js";
import { makeJpeg, makePng } from "../helpers/images.js";

/**
 * The events issue's crash test. The file-pipeline example and a queue app run in one `cairn start`
 * process, which is killed with SIGKILL at random moments while clients upload files through
 * presigned URLs and send queue messages, and restarted on the same data folder. Afterwards, seen
 * from outside over HTTP: every acknowledged upload has exactly one metadata row, matching its
 * bytes, and the status `done`; every acknowledged message was handled at least once.
 */
const fileCount = 500;
const messageCount = 2000;
const messagesPerSend = 50;
const kills = 10;
const token = "crash-admin-token";

const example = join(import.meta.dirname, "..", "..", "examples", "file-pipeline");

/** Only in the test's copy of the example: a way to see every metadata row from outside. */
const metadataScan = `
  import { http } from "cairn";
  export const allMetadata = http("GET /crash/metadata", async (request, ctx) => {
    const cursor = new URL(request.url).searchParams.get("cursor") ?? undefined;
    return Response.json(await ctx.tables.metadata.scan({ limit: 1000, cursor }));
  });
`;

const jobsApp = {
  "cairn.config.ts": `
    import { defineConfig, queue } from "cairn";
    export default defineConfig({
      tables: { handled: { partitionKey: "id" } },
      queues: { jobs: queue<{ id: string }>({ batchSize: 25, backoff: "100ms" }) },
    });
  `,
  "functions/jobs.ts": `
    import { http, on } from "cairn";
    export const send = http("POST /jobs", async (request, ctx) => {
      const { ids } = (await request.json()) as { ids: string[] };
      await ctx.queues.jobs.sendBatch(ids.map((id) => ({ body: { id }, idempotencyKey: id })));
      return new Response(null, { status: 204 });
    });
    export const handled = http("GET /jobs/handled", async (request, ctx) => {
      const cursor = new URL(request.url).searchParams.get("cursor") ?? undefined;
      return Response.json(await ctx.tables.handled.scan({ limit: 1000, cursor }));
    });
    // Handling is recording the message's id: a repeat changes nothing but the delivery count.
    export const worker = on.queue<{ id: string }>("jobs", async (batch, ctx) => {
      const ids = new Map(batch.messages.map((message) => [message.body.id, message.id]));
      await ctx.tables.transact([...ids].map(([id, messageId]) => ({
        update: { table: "handled", key: { id }, changes: { set: { messageId }, increment: { deliveries: 1 } } },
      })));
    });
  `,
};

interface FileTask {
  kind: "file";
  name: string;
  type: string;
  bytes: Uint8Array;
  sha256: string;
  fileId?: string;
  uploadUrl?: string;
  busy: boolean;
  acked: boolean;
}

interface SendTask {
  kind: "send";
  ids: string[];
  busy: boolean;
  acked: boolean;
}

type Task = FileTask | SendTask;

function makeFiles(): FileTask[] {
  const files: FileTask[] = [];
  for (let i = 0; i < fileCount; i++) {
    let name: string;
    let type: string;
    let bytes: Buffer;
    switch (i % 4) {
      case 0:
        name = `f${i}.txt`;
        type = "text/plain";
        bytes = Buffer.from(`file ${i}\n${"lorem ipsum dolor\n".repeat(1 + (i % 300))}`);
        break;
      case 1:
        name = `f${i}.png`;
        type = "image/png";
        bytes = makePng(8 + (i % 64), 8 + (i % 37));
        break;
      case 2:
        name = `f${i}.jpg`;
        type = "image/jpeg";
        bytes = makeJpeg(100 + i, 50 + i, { exifBytes: (i * 97) % 30_000 });
        break;
      default:
        name = `f${i}.bin`;
        type = "application/octet-stream";
        bytes = randomBytes(1000 + ((i * 131) % 40_000));
    }
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    files.push({ kind: "file", name, type, bytes, sha256, busy: false, acked: false });
  }
  return files;
}

const log = (message: string) => process.stderr.write(`  [events-crash] ${message}\n`);

/** A presigned URL names the server it came from; the same URL on the restarted server. */
const rebase = (url: string, base: string) => {
  const parsed = new URL(url);
  return `${base}${parsed.pathname}${parsed.search}`;
};

async function upload(base: string, file: FileTask): Promise<void> {
  if (file.uploadUrl === undefined) {
    const response = await fetch(`${base}/files`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name: file.name, contentType: file.type }),
    });
    if (response.status !== 201) throw new Error(`POST /files answered ${response.status}`);
    const body = (await response.json()) as { fileId: string; uploadUrl: string };
    file.fileId = body.fileId;
    file.uploadUrl = body.uploadUrl;
  }
  // A retried upload goes to the URL it was given (the same file id), on the server now running.
  const put = await fetch(rebase(file.uploadUrl, base), {
    method: "PUT",
    body: Buffer.from(file.bytes),
    headers: { "content-type": file.type },
  });
  await put.arrayBuffer();
  if (put.status !== 200 && put.status !== 201) throw new Error(`the upload answered ${put.status}`);
}

async function send(base: string, task: SendTask): Promise<void> {
  const response = await fetch(`${base}/jobs`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ids: task.ids }),
  });
  await response.arrayBuffer();
  if (response.status !== 204) throw new Error(`POST /jobs answered ${response.status}`);
}

/** Work through the tasks in order until none is left or the server goes away under us. */
async function client(base: string, tasks: Task[], onAck: () => void): Promise<void> {
  for (;;) {
    const task = tasks.find((candidate) => !candidate.acked && !candidate.busy);
    if (task === undefined) return;
    task.busy = true;
    try {
      await (task.kind === "file" ? upload(base, task) : send(base, task));
      task.acked = true;
      onAck();
    } catch {
      return; // killed: whatever was not acknowledged is tried again on the next server
    } finally {
      task.busy = false;
    }
  }
}

async function scanAll<T>(url: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const response = await fetch(`${url}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
    const page = (await response.json()) as { items: T[]; cursor?: string };
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}

describe("crash safety of uploads, blob events and queue messages", () => {
  let root: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "cairn-events-crash-"));
    cpSync(example, join(root, "pipeline"), {
      recursive: true,
      filter: (source) => !/[/\\](\.cairn|node_modules)$/.test(source),
    });
    makeApp({ "functions/crash-metadata.ts": metadataScan }, join(root, "pipeline"));
    makeApp(jobsApp, join(root, "jobs"));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("loses no acknowledged upload or message across repeated SIGKILLs", async () => {
    const started = Date.now();
    const files = makeFiles();
    // The messages go out between the uploads, so kills land among both.
    const tasks: Task[] = [];
    const sends: SendTask[] = [];
    const filesPerSend = Math.floor(fileCount / (messageCount / messagesPerSend));
    files.forEach((file, i) => {
      tasks.push(file);
      if (i % filesPerSend === filesPerSend - 1 && sends.length * messagesPerSend < messageCount) {
        const first = sends.length * messagesPerSend;
        const task: SendTask = {
          kind: "send",
          ids: Array.from({ length: messagesPerSend }, (_, n) => `m${first + n}`),
          busy: false,
          acked: false,
        };
        sends.push(task);
        tasks.push(task);
      }
    });
    expect(sends.length * messagesPerSend).toBe(messageCount);

    let acks = 0;
    const start = () => startCli(["start", root, "--data", join(root, "data")], { CAIRN_ADMIN_TOKEN: token });
    const work = (cli: CliProcess) =>
      Promise.all(Array.from({ length: 6 }, () => client(cli.url, tasks, () => acks++)));
    const acked = () =>
      `${files.filter((file) => file.acked).length}/${fileCount} uploads, ` +
      `${sends.filter((task) => task.acked).length * messagesPerSend}/${messageCount} messages acknowledged`;

    for (let cycle = 1; cycle <= kills; cycle++) {
      const cli = await start();
      const working = work(cli);
      // Mostly after some progress (whatever the machine's speed), sometimes while still recovering.
      const target = acks + 10 + Math.floor(Math.random() * 50);
      const deadline = Date.now() + (cycle % 4 === 0 ? Math.random() * 300 : 3000);
      while (acks < target && Date.now() < deadline) await sleep(5);
      cli.child.kill("SIGKILL");
      await Promise.all([working, cli.exited]);
      log(`kill ${cycle}/${kills} after ${Date.now() - started} ms: ${acked()}`);
    }

    const cli = await start();
    try {
      await work(cli);
      expect(tasks.every((task) => task.acked)).toBe(true);
      log(`all acknowledged after ${Date.now() - started} ms; waiting for processing`);

      // Every upload ends done, with the metadata of its own bytes.
      const waiting = new Set(files);
      const deadline = Date.now() + 60_000;
      while (waiting.size > 0 && Date.now() < deadline) {
        const batch = [...waiting].slice(0, 32);
        await Promise.all(
          batch.map(async (file) => {
            const view = (await (await fetch(`${cli.url}/files/${file.fileId}`)).json()) as {
              status: string;
              metadata: { sha256: string; size: number; name: string } | null;
            };
            if (view.status !== "done") return;
            expect(view.metadata).toMatchObject({
              sha256: file.sha256,
              size: file.bytes.length,
              name: file.name,
            });
            waiting.delete(file);
          }),
        );
        if (waiting.size > 0 && batch.every((file) => waiting.has(file))) await sleep(100);
      }
      expect([...waiting].map((file) => file.fileId)).toEqual([]);

      // Exactly one metadata row per acknowledged upload (and none for anything else).
      const rows = await scanAll<{ fileId: string; sha256: string }>(`${cli.url}/crash/metadata`);
      const byFile = new Map<string, number>();
      for (const row of rows) byFile.set(row.fileId, (byFile.get(row.fileId) ?? 0) + 1);
      for (const file of files) expect(byFile.get(file.fileId!), file.name).toBe(1);
      expect(rows).toHaveLength(fileCount);

      // Every acknowledged message handled at least once.
      let handled = new Map<string, number>();
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        const items = await scanAll<{ id: string; deliveries: number }>(`${cli.url}/jobs/handled`);
        handled = new Map(items.map((item) => [item.id, item.deliveries]));
        if (handled.size >= messageCount) break;
        await sleep(200);
      }
      const missing = sends.flatMap((send) => send.ids).filter((id) => !handled.has(id));
      expect(missing).toEqual([]);
      const repeats = [...handled.values()].filter((count) => count > 1).length;

      // Nothing is left waiting, retrying or dead.
      const queues = (await (
        await fetch(`${cli.url}/_cairn/queues`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as { apps: Array<{ consumers: Array<Record<string, number | string>> }> };
      for (const stats of queues.apps.flatMap((app) => app.consumers)) {
        expect(stats).toMatchObject({ ready: 0, delayed: 0, inflight: 0, dead: 0 });
      }
      log(
        `verified after ${Date.now() - started} ms: ${fileCount} files done with one metadata row each, ` +
          `${messageCount} messages handled (${repeats} more than once, after a kill)`,
      );
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exited;
    }
  }, 120_000);
});
