import { createHash, randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { makeApp, sleep } from "../helpers/app.js";
import { Balancer } from "../helpers/balancer.js";
import { startCli, type CliProcess } from "../helpers/cli.js";
import { makeJpeg, makePng } from "../helpers/images.js";
import { privatePostgresUnavailable, startPrivatePostgres } from "../helpers/private-postgres.js";
import { freePort, TcpProxy } from "../helpers/proxy.js";
import { startS3Server, type S3TestServer } from "../blobs/s3-server.js";
import {
  checkInvariants,
  ended,
  getInventory,
  getLedger,
  getOrder,
  placeOrder,
  type OrderView,
} from "../examples/checkout-client.js";

/**
 * The scale-out chaos test. Three nodes serve the checkout and file-pipeline examples and a queue
 * and schedule app over one PostgreSQL, Redis and S3-compatible server, behind a round-robin
 * balancer. Clients place orders, upload files and send messages through the balancer while a
 * random node is killed with SIGKILL every few seconds (and restarted), and PostgreSQL is restarted
 * once. Afterwards, seen from outside: every acknowledged order completed or was compensated, with
 * stock and payments exact; every acknowledged upload was processed into its metadata; every
 * acknowledged message was handled; and no schedule tick fired with two identities.
 *
 * PostgreSQL is a private server the test starts and restarts (as root, with the server binaries
 * installed); elsewhere (or with CAIRN_TEST_PRIVATE_POSTGRES=0) it is a fresh database on
 * CAIRN_TEST_DATABASE_URL behind a proxy that the test cuts for the restart.
 */
const databaseUrl = process.env.CAIRN_TEST_DATABASE_URL;
const redisUrl = process.env.CAIRN_TEST_REDIS_URL;
const nodeCount = 3;
const orderCount = 150;
const fileCount = 60;
const sendCount = 75;
const messagesPerSend = 20;
const chaosMs = 30_000;
const token = "chaos-admin-token";

const log = (message: string) => process.stderr.write(`  [cluster chaos] ${message}\n`);

const examples = join(import.meta.dirname, "..", "..", "examples");

const tickApp = {
  "cairn.config.ts": `
    import { defineConfig, queue } from "cairn";
    export default defineConfig({
      tables: { handled: { partitionKey: "id" }, ticks: { partitionKey: "at" } },
      queues: { work: queue<{ id: string }>({ batchSize: 5, backoff: "200ms", maxAttempts: 50 }) },
    });
  `,
  "functions/chaos.ts": `
    import { http, on } from "cairn";
    export const send = http("POST /chaos/work", async (request, ctx) => {
      const { ids } = (await request.json()) as { ids: string[] };
      await ctx.queues.work.sendBatch(ids.map((id) => ({ body: { id }, idempotencyKey: id })));
      return new Response(null, { status: 204 });
    });
    const scan = (table: "handled" | "ticks") => async (request: Request, ctx: any) => {
      const cursor = new URL(request.url).searchParams.get("cursor") ?? undefined;
      return Response.json(await ctx.tables[table].scan({ limit: 1000, cursor }));
    };
    export const handled = http("GET /chaos/handled", scan("handled"));
    export const ticks = http("GET /chaos/ticks", scan("ticks"));
    // Recording a message's id: a repeated delivery changes only the count and the list of nodes.
    // Slow, one batch at a time per node, so a backlog builds and every kill lands mid-delivery;
    // a timeout of minutes, so only the heartbeat takeover brings a killed node's batch back soon.
    export const worker = on.queue<{ id: string }>("work", async (batch, ctx) => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      await ctx.tables.transact(batch.messages.map((message) => ({
        update: {
          table: "handled",
          key: { id: message.body.id },
          changes: { increment: { deliveries: 1 }, append: { nodes: [process.pid], attempts: [message.attempt] } },
        },
      })));
    }, { timeout: "5m", maxInstances: 1, concurrency: 1 });
    // Every second: the tick's id per scheduled time (one id per time, however often delivered).
    export const everySecond = on.schedule("* * * * * *", async (tick, ctx) => {
      await ctx.tables.ticks.update(
        { at: String(tick.scheduledAt) },
        { increment: { deliveries: 1 }, append: { ids: [tick.id], nodes: [process.pid] } },
      );
    });
  `,
};

/** Where the nodes' PostgreSQL is, and how to take it down and bring it back once. */
interface Database {
  url: string;
  restart(): Promise<void>;
  close(): Promise<void>;
}

async function privateDatabase(): Promise<Database> {
  const server = await startPrivatePostgres();
  return { url: server.url, restart: () => server.restart(), close: () => server.stop() };
}

/** A fresh database on the shared server, behind a proxy whose cut stands in for the restart. */
async function sharedDatabase(url: string): Promise<Database> {
  const name = `cairn_chaos_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const target = new URL(url);
  const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) }, await freePort());
  await proxy.open();
  const proxied = new URL(url);
  proxied.host = `127.0.0.1:${proxy.port}`;
  proxied.pathname = `/${name}`;
  return {
    url: proxied.toString(),
    async restart() {
      await proxy.cut();
      await sleep(2000);
      await proxy.open();
    },
    async close() {
      await proxy.cut();
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

/** A small seeded generator, so a failing run can be repeated with CAIRN_CHAOS_SEED. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Upload {
  name: string;
  type: string;
  bytes: Buffer;
  sha256: string;
  fileId?: string;
  uploadUrl?: string;
  acked: boolean;
}

function makeUploads(): Upload[] {
  return Array.from({ length: fileCount }, (_, i) => {
    const [name, type, bytes] =
      i % 3 === 0
        ? [`f${i}.png`, "image/png", makePng(8 + i, 8 + (i % 17))]
        : i % 3 === 1
          ? [`f${i}.jpg`, "image/jpeg", makeJpeg(64 + i, 48 + i, { exifBytes: i * 101 })]
          : [`f${i}.bin`, "application/octet-stream", randomBytes(2000 + i * 997)];
    const buffer = Buffer.from(bytes);
    return {
      name,
      type,
      bytes: buffer,
      sha256: createHash("sha256").update(buffer).digest("hex"),
      acked: false,
    };
  });
}

/** Retry `attempt` (a request through the balancer) until it says it was acknowledged. */
async function untilAcknowledged(
  attempt: () => Promise<boolean>,
  counter: { retries: number },
): Promise<void> {
  for (;;) {
    try {
      if (await attempt()) return;
    } catch {
      // the node went away mid-request, or the balancer found none: try again
    }
    counter.retries++;
    await sleep(100);
  }
}

async function scanAll<T>(url: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const response = await fetch(`${url}${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as { items: T[]; cursor?: string };
    items.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return items;
}

const unavailable =
  redisUrl === undefined
    ? "Redis (set CAIRN_TEST_REDIS_URL or run npm test with Redis up)"
    : privatePostgresUnavailable() !== undefined && databaseUrl === undefined
      ? "PostgreSQL (set CAIRN_TEST_DATABASE_URL or run npm test with PostgreSQL up)"
      : undefined;

if (unavailable !== undefined) {
  describe.skip(`a three-node cluster under chaos: needs ${unavailable}`, () => {
    it("skipped", () => {});
  });
} else {
  describe("a three-node cluster under chaos", () => {
    const root = mkdtempSync(join(tmpdir(), "cairn-chaos-"));
    const redisPrefix = `cairn-chaos-${randomBytes(4).toString("hex")}:`;
    let database: Database | undefined;
    let s3: S3TestServer | undefined;
    let balancer: Balancer | undefined;
    const nodes: Array<CliProcess | undefined> = [];

    afterAll(async () => {
      await Promise.all(
        nodes.map(async (node) => {
          if (node === undefined || node.child.exitCode !== null) return;
          node.child.kill("SIGKILL");
          await node.exited;
        }),
      );
      await balancer?.close();
      await database?.close();
      await s3?.stop();
      const redis = new Redis(redisUrl!);
      for await (const keys of redis.scanStream({ match: `${redisPrefix}*`, count: 1000 }))
        if ((keys as string[]).length > 0) await redis.del(...(keys as string[]));
      await redis.quit();
      rmSync(root, { recursive: true, force: true });
    });

    it("loses nothing acknowledged and applies nothing twice while nodes die and PostgreSQL restarts", async () => {
      const seed = Number(process.env.CAIRN_CHAOS_SEED ?? Date.now() % 1_000_000);
      const rand = random(seed);
      const started = Date.now();
      const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

      const reason =
        process.env.CAIRN_TEST_PRIVATE_POSTGRES === "0"
          ? "CAIRN_TEST_PRIVATE_POSTGRES=0"
          : privatePostgresUnavailable();
      database = reason === undefined ? await privateDatabase() : await sharedDatabase(databaseUrl!);
      log(
        `seed ${seed}; PostgreSQL: ${reason === undefined ? "a private server" : `shared, behind a proxy (${reason})`}`,
      );
      s3 = await startS3Server();

      // Each node has its own copy of the apps, as each machine of a cluster would.
      const workspaces = Array.from({ length: nodeCount }, (_, i) => {
        const dir = join(root, `node-${i}`);
        const copy = (name: string) =>
          cpSync(join(examples, name), join(dir, name), {
            recursive: true,
            filter: (source) => !/[/\\](\.cairn|node_modules)$/.test(source),
          });
        copy("checkout");
        copy("file-pipeline");
        makeApp(tickApp, join(dir, "chaos"));
        return dir;
      });
      const ports = await Promise.all(workspaces.map(() => freePort()));
      balancer = new Balancer(() => ports);
      const url = await balancer.listen();
      const env = {
        CAIRN_DATABASE_URL: database.url,
        CAIRN_DATABASE_POOL_SIZE: "4",
        CAIRN_REDIS_URL: redisUrl,
        CAIRN_REDIS_PREFIX: redisPrefix,
        CAIRN_BLOBS_URL: s3.url("chaos"),
        CAIRN_SECRET: "chaos-test-secret-0123456789",
        CAIRN_ADMIN_TOKEN: token,
        // The payment provider is the checkout app itself, reached through the balancer.
        PAYMENTS_URL: url,
        PAYMENT_LATENCY_MS: "10",
        PAYMENT_FAILURE_RATE: "0.1",
        PAYMENT_CONFIRM_DELAY: "300ms",
        CONFIRMATION_TIMEOUT: "20s",
      };
      const boot = async (i: number) => {
        nodes[i] = await startCli(
          ["start", workspaces[i]!, "--data", join(workspaces[i]!, ".data"), "--port", String(ports[i])],
          env,
        );
      };
      // The first node applies the migrations; the others start together.
      await boot(0);
      await Promise.all([boot(1), boot(2)]);
      log(`${nodeCount} nodes up behind ${url} after ${elapsed()}`);

      const stock: Record<string, number> = {};
      for (const item of (await getInventory(url)).items) stock[item.sku] = item.stock;
      const skus = Object.keys(stock);

      const counter = { retries: 0 };
      const orders = Array.from({ length: orderCount }, (_, i) => {
        const lines = new Map<string, number>();
        for (let n = rand() < 0.6 ? 1 : 2; n > 0; n--)
          lines.set(skus[Math.floor(rand() * skus.length)]!, rand() < 0.7 ? 1 : 2);
        const roll = rand();
        return {
          key: `chaos-order-${seed}-${i}`,
          items: [...lines].map(([sku, qty]) => ({ sku, qty })),
          card: roll < 0.05 ? "tok_unconfirmed" : roll < 0.1 ? "tok_decline" : "tok_visa",
          orderId: undefined as string | undefined,
        };
      });
      const uploads = makeUploads();
      const sends = Array.from({ length: sendCount }, (_, s) => ({
        ids: Array.from({ length: messagesPerSend }, (_, n) => `m${s * messagesPerSend + n}`),
        acked: false,
      }));

      // Clients pace themselves over the chaos window, so kills land among all kinds of work.
      const paced = (count: number, clients: number) => (chaosMs * clients) / count;
      const worker = <T>(items: T[], clients: number, work: (item: T) => Promise<void>) => {
        let next = 0;
        const gap = paced(items.length, clients);
        return Promise.all(
          Array.from({ length: clients }, async () => {
            for (let i = next++; i < items.length; i = next++) {
              const began = Date.now();
              await work(items[i]!);
              await sleep(Math.max(0, gap * (0.5 + rand()) - (Date.now() - began)));
            }
          }),
        );
      };
      const placing = worker(orders, 6, (order) =>
        untilAcknowledged(async () => {
          const response = await placeOrder(url, order.items, order.card, order.key);
          if (response.status !== 202) {
            await response.text();
            return false;
          }
          order.orderId = ((await response.json()) as { orderId: string }).orderId;
          return true;
        }, counter),
      );
      const uploading = worker(uploads, 3, (file) =>
        untilAcknowledged(async () => {
          if (file.uploadUrl === undefined) {
            const response = await fetch(`${url}/files`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ name: file.name, contentType: file.type }),
            });
            if (response.status !== 201) {
              await response.text();
              return false;
            }
            const body = (await response.json()) as { fileId: string; uploadUrl: string };
            file.fileId = body.fileId;
            file.uploadUrl = body.uploadUrl;
          }
          const put = await fetch(file.uploadUrl, {
            method: "PUT",
            body: new Uint8Array(file.bytes),
            headers: { "content-type": file.type },
          });
          await put.arrayBuffer();
          file.acked = put.status === 200 || put.status === 201;
          return file.acked;
        }, counter),
      );
      const sending = worker(sends, 3, (task) =>
        untilAcknowledged(async () => {
          const response = await fetch(`${url}/chaos/work`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ ids: task.ids }),
          });
          await response.arrayBuffer();
          task.acked = response.status === 204;
          return task.acked;
        }, counter),
      );
      const clientsDone = Promise.all([placing, uploading, sending]);

      // The chaos: a random node killed every 2 to 4 s and restarted 0.5 to 1.5 s later; PostgreSQL
      // restarted once, halfway through.
      let kills = 0;
      let restartedDatabase = false;
      const progress = () =>
        `${orders.filter((order) => order.orderId !== undefined).length}/${orderCount} orders, ` +
        `${uploads.filter((file) => file.acked).length}/${fileCount} uploads, ` +
        `${sends.filter((task) => task.acked).length * messagesPerSend}/${sendCount * messagesPerSend} messages acknowledged`;
      let clientsFinished = false;
      void clientsDone.then(() => (clientsFinished = true));
      while (!clientsFinished || kills < 8 || !restartedDatabase) {
        await sleep(2000 + rand() * 2000);
        if (!restartedDatabase && Date.now() - started > chaosMs / 2) {
          restartedDatabase = true;
          await database.restart();
          log(`${elapsed()}: PostgreSQL restarted; ${progress()}`);
          continue;
        }
        const victim = Math.floor(rand() * nodeCount);
        nodes[victim]!.child.kill("SIGKILL");
        await nodes[victim]!.exited;
        kills++;
        log(`${elapsed()}: killed node ${victim} (kill ${kills}); ${progress()}`);
        await sleep(500 + rand() * 1000);
        await boot(victim);
      }
      await clientsDone;
      log(`${elapsed()}: every request acknowledged (${counter.retries} retried); ${kills} kills; draining`);
      expect(kills).toBeGreaterThanOrEqual(8);
      expect(restartedDatabase).toBe(true);

      // Orders: each ends completed or compensated.
      const views = new Map<string, OrderView>();
      const deadline = Date.now() + 120_000;
      for (;;) {
        const open = orders.filter(
          (order) => !ended(views.get(order.orderId!) ?? ({ status: "" } as OrderView)),
        );
        for (const order of open) views.set(order.orderId!, await getOrder(url, order.orderId!));
        const left = orders.filter((order) => !ended(views.get(order.orderId!)!)).length;
        if (left === 0) break;
        if (Date.now() > deadline) throw new Error(`${left} orders never ended`);
        log(`${elapsed()}: ${left} orders still running`);
        await sleep(2000);
      }
      const all = [...views.values()];
      const inventory = await getInventory(url);
      expect(checkInvariants(all, inventory, await getLedger(url), stock)).toEqual([]);
      const completed = all.filter((order) => order.status === "completed").length;
      expect(completed).toBeGreaterThan(10);

      // Uploads: each done, with the metadata of its own bytes.
      const waiting = new Set(uploads);
      while (waiting.size > 0 && Date.now() < deadline) {
        for (const file of [...waiting]) {
          const view = (await (await fetch(`${url}/files/${file.fileId}`)).json()) as {
            status: string;
            metadata: { sha256: string; size: number; name: string } | null;
          };
          if (view.status !== "done") continue;
          expect(view.metadata).toMatchObject({
            sha256: file.sha256,
            size: file.bytes.length,
            name: file.name,
          });
          waiting.delete(file);
        }
        if (waiting.size > 0) await sleep(500);
      }
      expect([...waiting].map((file) => file.name)).toEqual([]);

      // Messages: each handled at least once.
      let handled = new Map<string, { deliveries: number; nodes: number[]; attempts: number[] }>();
      while (Date.now() < deadline) {
        const rows = await scanAll<{ id: string; deliveries: number; nodes: number[]; attempts: number[] }>(
          `${url}/chaos/handled`,
        );
        handled = new Map(rows.map((row) => [row.id, row]));
        if (handled.size >= sendCount * messagesPerSend) break;
        await sleep(500);
      }
      const missing = sends.flatMap((task) => task.ids).filter((id) => !handled.has(id));
      expect(missing).toEqual([]);
      const workers = new Set([...handled.values()].flatMap((row) => row.nodes));
      // Kills interrupted deliveries, whose messages another node then took over and handled.
      const repeats = [...handled.values()].filter((row) => row.deliveries > 1).length;
      const redelivered = [...handled.values()].filter((row) => Math.max(...row.attempts) > 1).length;
      expect(redelivered).toBeGreaterThan(0);

      // Ticks: one identity per scheduled second, however often it was delivered.
      const ticks = await scanAll<{ at: string; ids: string[]; nodes: number[] }>(`${url}/chaos/ticks`);
      const twice = ticks.filter((tick) => new Set(tick.ids).size !== 1);
      expect(twice).toEqual([]);
      expect(ticks.length).toBeGreaterThan(10);

      log(
        `${elapsed()}: verified. ${completed} orders completed, ${all.length - completed} compensated; ` +
          `${fileCount} uploads processed; ${handled.size} messages handled ` +
          `(${redelivered} after a failed attempt, ${repeats} of them twice) by ${workers.size} node processes; ` +
          `${ticks.length} ticks, ${ticks.filter((tick) => tick.ids.length > 1).length} delivered again after a kill`,
      );
    }, 300_000);
  });
}
