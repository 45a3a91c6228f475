import { parseArgs } from "node:util";
import { CairnNode } from "../host/node.js";
import { banner } from "./banner.js";
import { CliError } from "./errors.js";
import { packageVersion as version } from "../runtime/package-root.js";

export const serveUsage = `Usage: cairn start [dir] [options]
       cairn dev [dir] [options]

Serve the app in dir (default "."), or every app in dir's sub-folders.
"dev" reloads on every change and opens the admin API without a token.

Options:
  -p, --port <n>          port to listen on (default 8787; 0 picks one)
      --host <addr>       address to listen on (default 127.0.0.1)
      --data <dir>        where durable state lives (default <dir>/.cairn)
      --strict            run every invocation in a fresh instance
      --database-url <u>  PostgreSQL URL (or CAIRN_DATABASE_URL)
      --redis-url <u>     Redis URL (or CAIRN_REDIS_URL)
      --blobs-url <u>     S3-compatible blob storage URL (or CAIRN_BLOBS_URL)
      --log-level <l>     debug, info, warn or error (default info)
      --log-format <f>    json or pretty (default: pretty on a terminal)
`;

/** `cairn start` and `cairn dev`: serve until SIGTERM or SIGINT, then drain and exit 0. */
export async function serve(argv: string[], dev: boolean): Promise<void> {
  const started = performance.now();
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      port: { type: "string", short: "p" },
      host: { type: "string" },
      data: { type: "string" },
      strict: { type: "boolean" },
      "database-url": { type: "string" },
      "redis-url": { type: "string" },
      "blobs-url": { type: "string" },
      "log-level": { type: "string" },
      "log-format": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(serveUsage);
    return;
  }
  if (positionals.length > 1)
    throw new CliError(`expected one folder, got ${positionals.join(" ")}`, serveUsage);
  const port = values.port === undefined ? 8787 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new CliError(`--port must be a number from 0 to 65535, got "${values.port}"`);
  }
  const logFormat = values["log-format"];
  if (logFormat !== undefined && logFormat !== "json" && logFormat !== "pretty") {
    throw new CliError(`--log-format must be json or pretty, got "${logFormat}"`);
  }
  const env = { ...process.env };
  if (values["database-url"]) env.CAIRN_DATABASE_URL = values["database-url"];
  if (values["redis-url"]) env.CAIRN_REDIS_URL = values["redis-url"];
  if (values["blobs-url"]) env.CAIRN_BLOBS_URL = values["blobs-url"];

  const node = await CairnNode.start({
    dir: positionals[0] ?? ".",
    port,
    host: values.host ?? "127.0.0.1",
    dataDir: values.data,
    strict: values.strict === true,
    dev,
    logLevel: values["log-level"],
    logFormat: logFormat,
    env,
  });
  process.stderr.write(banner(node, version(), performance.now() - started));
  node.logger.info({ url: node.url, apps: node.deployment.apps.map(({ app }) => app.name) }, "serving");

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`cairn: ${signal} again, exiting without waiting\n`);
      process.exit(1);
    }
    stopping = true;
    node.logger.info({ signal }, "stopping: draining in-flight invocations");
    node.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`cairn: stopping failed: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}
