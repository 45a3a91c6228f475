import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { ServiceProvider } from "../host/services.js";
import type { HostLogger } from "../log/logger.js";
import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { TablesHost } from "../tables/service.js";
import { BlobStore } from "./blob-store.js";
import type { BlobDriver } from "./driver.js";
import { FolderDriver } from "./folder/driver.js";
import { blobTable, blobTableDefinition } from "./metadata.js";
import { blobOperations } from "./operations.js";
import { loadSigningKey } from "./presign.js";
import { isS3Url, parseS3Url } from "./s3/url.js";

/** How often unreferenced bytes are looked for. */
const sweepIntervalMs = 60 * 60_000;
const firstSweepMs = 60_000;

/**
 * The blobs service ("blobs", `ctx.blobs`): metadata in the app's durable store (a system table),
 * bytes in a driver. The embedded driver is a folder: `<data>/blobs` by default, or
 * `<path>/<app>` with CAIRN_BLOBS_URL=file:///path (a folder all nodes share). With
 * CAIRN_BLOBS_URL=s3://bucket/prefix?… the bytes are objects under `<prefix>/<app>/` of a bucket.
 */
export const blobsProvider: ServiceProvider = {
  name: "blobs",
  async open(environment) {
    const { app, env, clock, logger } = environment;
    const tables = environment.use<TablesHost>("tables");
    await tables.defineSystemTable(blobTable, blobTableDefinition);
    const driver = await openDriver(env.CAIRN_BLOBS_URL, app.name, app.dataDir, clock, env, logger);
    const blobs = new BlobStore({
      app: app.name,
      tables,
      driver,
      clock,
      signingKey: await loadSigningKey(env, tables, blobTable),
      publicUrl: publicUrl(env.CAIRN_PUBLIC_URL),
      maxObjectSize: app.config.config.blobs?.maxObjectSize,
      logger,
    });
    const sweep = () => {
      blobs
        .sweepOrphans()
        .catch((error: unknown) => logger.warn({ err: error }, "blobs: the orphan sweep failed; will retry"));
    };
    // Soon after start (a node that restarts often still sweeps), then every hour.
    const first = setTimeout(sweep, firstSweepMs);
    const timer = setInterval(sweep, sweepIntervalMs);
    first.unref();
    timer.unref();
    return {
      spec: {},
      api: blobs,
      operations: blobOperations(blobs),
      close: async () => {
        clearTimeout(first);
        clearInterval(timer);
        await driver.close();
      },
    };
  },
};

async function openDriver(
  url: string | undefined,
  app: string,
  dataDir: string,
  clock: Clock,
  env: NodeJS.ProcessEnv,
  logger: HostLogger,
): Promise<BlobDriver> {
  if (url === undefined || url === "") return FolderDriver.open(join(dataDir, "blobs"), clock);
  if (url.startsWith("file:")) {
    let root: string;
    try {
      root = fileURLToPath(url);
    } catch (error) {
      throw new CairnError("invalid_config", `CAIRN_BLOBS_URL: ${(error as Error).message}`);
    }
    return FolderDriver.open(join(root, app), clock);
  }
  if (isS3Url(url)) {
    const settings = parseS3Url(url, env);
    // Loaded only here: the driver pulls in the AWS SDK, which the embedded default never needs.
    const { S3Driver } = await import("./s3/driver.js");
    return S3Driver.open({ settings, app, clock, logger });
  }
  throw new CairnError(
    "invalid_config",
    `CAIRN_BLOBS_URL: unsupported scheme in "${url.replace(/\/\/[^@/]*@/, "//***@").replace(/\?.*$/, "")}"; ` +
      "use file:///path or s3://bucket/prefix?…",
  );
}

function publicUrl(value: string | undefined): string | undefined {
  if (value === undefined || value === "") return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CairnError("invalid_config", `CAIRN_PUBLIC_URL is not a URL: "${value}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new CairnError("invalid_config", "CAIRN_PUBLIC_URL must be an http:// or https:// URL");
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, "")}`;
}
