import { spawn, type ChildProcessByStdio } from "node:child_process";
import type { Readable } from "node:stream";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * An S3-compatible server for tests: s3rver (npm) in a child process of its own, on a free
 * loopback port, over its own temporary folder, with one bucket. A separate process keeps its
 * memory out of the memory checks of the tests and lets a test pause it (SIGSTOP: a server that
 * accepts connections and never answers) or kill it.
 *
 * s3rver's file store resolves a PUT once its bytes went into the file stream, not once they are
 * in the file, so a read right after may see a short file; the launcher below replaces its two
 * writers with ones that finish the file (and move it into place) before answering.
 */
const launcher = String.raw`
const { createHash, randomBytes } = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const { Transform } = require("node:stream");
const { pipeline } = require("node:stream/promises");
const S3rver = require("s3rver");
const FilesystemStore = require("s3rver/lib/stores/filesystem");

async function writeFile(content, file) {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const temp = file + ".tmp-" + randomBytes(6).toString("hex");
  const md5 = createHash("md5");
  let size = 0;
  const count = new Transform({
    transform(chunk, _encoding, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    if (Buffer.isBuffer(content)) await pipeline([content], count, fs.createWriteStream(temp));
    else await pipeline(content, count, fs.createWriteStream(temp));
    await fs.promises.rename(temp, file);
  } catch (error) {
    await fs.promises.rm(temp, { force: true });
    throw error;
  }
  return { size, md5: md5.digest("hex") };
}

class CompleteWrites extends FilesystemStore {
  async putObject(object) {
    const file = this.getResourcePath(object.bucket, object.key, "object");
    const { size, md5 } = await writeFile(object.content, file);
    await this.putMetadata(object.bucket, object.key, object.metadata, md5);
    return { size, md5 };
  }
  async putPart(bucket, uploadId, partNumber, content) {
    const file = path.join(this.getResourcePath(bucket, undefined, "uploads"), uploadId, String(partNumber));
    const { size, md5 } = await writeFile(content, file);
    await fs.promises.writeFile(file + ".md5", md5);
    return { size, md5 };
  }
}

const [directory, bucket, port] = process.argv.slice(1);
const server = new S3rver({ directory, address: "127.0.0.1", port: Number(port), silent: true, configureBuckets: [{ name: bucket }] });
server.store = server.context.store = new CompleteWrites(directory);
server.run().then(({ port }) => process.stdout.write("listening " + port + "\n"), (error) => {
  console.error(error);
  process.exit(1);
});
process.on("SIGTERM", () => process.exit(0));
`;

export interface S3TestServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  bucket: string;
  /** A CAIRN_BLOBS_URL for this server (s3rver's fixed credentials in the URL). */
  url(prefix: string, extra?: Record<string, string>): string;
  /** Stop answering without closing anything (SIGSTOP), and carry on (SIGCONT). */
  pause(): void;
  resume(): void;
  /** Kill the server (SIGKILL: connections reset, then refused), keeping its files. */
  kill(): Promise<void>;
  /** Start it again on the same port over the same files. */
  restart(): Promise<void>;
  /** Stop it and remove its files. */
  stop(): Promise<void>;
}

export const s3rverCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };

interface Running {
  child: ChildProcessByStdio<null, Readable, Readable>;
  port: number;
  exited: Promise<void>;
}

async function launch(dir: string, bucket: string, port: number): Promise<Running> {
  const child = spawn(process.execPath, ["-e", launcher, dir, bucket, String(port)], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const actual = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`s3rver did not start: ${stderr}`)), 20_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening (\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code}: ${stderr}`));
    });
  });
  return { child, port: actual, exited };
}

async function end(running: Running, signal: NodeJS.Signals): Promise<void> {
  const { child } = running;
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGCONT");
    child.kill(signal);
  }
  await running.exited;
}

export async function startS3Server(bucket = "cairn-test"): Promise<S3TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "cairn-s3-"));
  let running = await launch(dir, bucket, 0);
  const { port } = running;
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    url(prefix, extra = {}) {
      const query = new URLSearchParams({ endpoint, region: "us-east-1", ...s3rverCredentials, ...extra });
      return `s3://${bucket}/${prefix}?${query.toString()}`;
    },
    pause: () => void running.child.kill("SIGSTOP"),
    resume: () => void running.child.kill("SIGCONT"),
    kill: () => end(running, "SIGKILL"),
    async restart() {
      await end(running, "SIGKILL");
      running = await launch(dir, bucket, port);
    },
    async stop() {
      await end(running, "SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
