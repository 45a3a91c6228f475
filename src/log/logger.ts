import type pinoPretty from "pino-pretty";
import { pino, type Logger as Pino, type DestinationStream } from "pino";
import { importModule } from "../shared/import-module.js";

export type LogFormat = "json" | "pretty";
export type HostLogger = Pino;

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  /** Where lines go (default: standard output). */
  destination?: DestinationStream;
}

/**
 * The host's structured logger: JSON lines for machines, or readable lines for people (`cairn dev`,
 * or a terminal). JSON output is buffered; `flushLogger` writes out what is pending.
 */
export async function createLogger(options: LoggerOptions = {}): Promise<HostLogger> {
  const level = options.level ?? "info";
  const format = options.format ?? (process.stdout.isTTY ? "pretty" : "json");
  const base = { base: undefined, level, timestamp: pino.stdTimeFunctions.isoTime };
  if (options.destination) return pino(base, options.destination);
  if (format === "pretty") {
    // Loaded only when wanted: it is a large part of start-up time otherwise.
    const { default: pretty } = await importModule<{ default: typeof pinoPretty }>("pino-pretty");
    return pino(
      base,
      pretty({
        colorize: process.stdout.isTTY,
        ignore: "pid,hostname",
        translateTime: "HH:MM:ss.l",
        sync: true,
      }),
    );
  }
  const destination = pino.destination({ dest: 1, sync: false });
  // Buffered lines must not be lost when the process exits.
  process.once("exit", () => flushSync(destination));
  const logger = pino(base, destination);
  destinations.set(logger, destination);
  return logger;
}

const destinations = new WeakMap<HostLogger, ReturnType<typeof pino.destination>>();

function flushSync(destination: ReturnType<typeof pino.destination>): void {
  try {
    destination.flushSync();
  } catch {
    // a destination that is not ready yet has nothing buffered
  }
}

/** Write out whatever the logger still buffers. */
export function flushLogger(logger: HostLogger): void {
  const destination = destinations.get(logger);
  if (destination !== undefined) flushSync(destination);
}
