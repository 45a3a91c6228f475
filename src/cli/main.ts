import { isCairnError } from "../sdk/errors.js";
import { CliError } from "./errors.js";
import { queuesCommand } from "./queues.js";
import { serve, serveUsage } from "./serve.js";
import { workflowsCommand } from "./workflows.js";
import { packageVersion as version } from "../runtime/package-root.js";

const usage = `Usage: cairn <command> [options]

Commands:
  start [dir]   serve the app (or the folder of apps) in dir
  dev [dir]     serve and reload on every change
  queues ...    inspect queues and the dead-letter queue of a running node
  workflows ... list, inspect, start, signal and cancel workflow runs of a running node

Run "cairn <command> --help" for a command's options.
${serveUsage}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "start":
      return serve(rest, false);
    case "dev":
      return serve(rest, true);
    case "queues":
      return queuesCommand(rest);
    case "workflows":
      return workflowsCommand(rest);
    case "--version":
    case "-v":
      process.stdout.write(`${version()}\n`);
      return;
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(usage);
      return;
    default:
      throw new CliError(`unknown command "${command}"`, usage);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) {
    process.stderr.write(
      `cairn: ${error.message}\n${error.usage ? `\n${error.usage}` : 'Run "cairn --help" for usage.\n'}`,
    );
    process.exit(2);
  }
  if (
    isCairnError(error) ||
    (error instanceof Error && (error as { code?: string }).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION")
  ) {
    process.stderr.write(`cairn: ${error.message}\n`);
    process.exit(isCairnError(error) ? 1 : 2);
  }
  process.stderr.write(`cairn: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
