import * as v from "valibot";
import type { FunctionOptions } from "../sdk/options.js";
import { parseDuration } from "../shared/duration.js";
import { describeIssues, functionOptionsSchema } from "../config/schema.js";
import { defaultInstanceMemoryMb } from "./workers.js";

/** A function's pool settings with every default applied. */
export interface PoolSettings {
  timeoutMs: number;
  memoryMb: number;
  minInstances: number;
  maxInstances: number;
  concurrency: number;
  idleTimeoutMs: number;
  /** 0: never recycle for age. */
  maxInvocations: number;
  strict: boolean;
}

export const defaultSettings: Readonly<PoolSettings> = Object.freeze({
  timeoutMs: 30_000,
  memoryMb: defaultInstanceMemoryMb,
  minInstances: 0,
  maxInstances: 4,
  concurrency: 64,
  idleTimeoutMs: 5 * 60_000,
  maxInvocations: 0,
  strict: false,
});

/** Declaration options win over the app's config, which wins over the defaults; strict wins over all. */
export function resolveSettings(
  appDefaults: FunctionOptions | undefined,
  own: FunctionOptions,
  forceStrict: boolean,
): PoolSettings {
  const merged: FunctionOptions = { ...appDefaults, ...own };
  const strict = forceStrict || merged.strict === true;
  return {
    timeoutMs:
      merged.timeout === undefined ? defaultSettings.timeoutMs : parseDuration(merged.timeout, "timeout"),
    memoryMb: merged.memory ?? defaultSettings.memoryMb,
    minInstances: merged.minInstances ?? defaultSettings.minInstances,
    maxInstances: Math.max(merged.maxInstances ?? defaultSettings.maxInstances, merged.minInstances ?? 0, 1),
    concurrency: strict ? 1 : (merged.concurrency ?? defaultSettings.concurrency),
    idleTimeoutMs:
      merged.idleTimeout === undefined
        ? defaultSettings.idleTimeoutMs
        : parseDuration(merged.idleTimeout, "idleTimeout"),
    maxInvocations: strict ? 1 : (merged.maxInvocations ?? defaultSettings.maxInvocations),
    strict,
  };
}

/** Check a declaration's options; returns the problems, each naming its field. */
export function checkOptions(options: unknown): string[] {
  const result = v.safeParse(functionOptionsSchema, options);
  return result.success ? [] : describeIssues(result.issues);
}
