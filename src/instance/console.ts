import { format } from "node:util";
import type { LogLevel } from "../shared/protocol.js";
import { current, emitLate } from "./invocation.js";

/** Route console output into the structured log, attributed to the invocation that wrote it. */
export function captureConsole(): void {
  const levels: Array<[keyof Console, LogLevel]> = [
    ["log", "info"],
    ["info", "info"],
    ["debug", "debug"],
    ["trace", "debug"],
    ["warn", "warn"],
    ["error", "error"],
  ];
  for (const [method, level] of levels) {
    (console as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      const msg = format(...args);
      const invocation = current.getStore();
      if (invocation) invocation.log(level, msg);
      else emitLate({ level, msg, time: Date.now() });
    };
  }
}
