import type { HostLogger } from "./logger.js";

/**
 * A warning that repeats while a backend is down (a poll failing every second) is logged once per
 * interval, with how many were held back since.
 */
export function throttledWarn(
  logger: HostLogger,
  intervalMs = 30_000,
): (fields: Record<string, unknown>, message: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  let held = 0;
  return (fields, message) => {
    const now = performance.now();
    if (now - last < intervalMs) {
      held++;
      return;
    }
    last = now;
    logger.warn(held > 0 ? { ...fields, repeated: held } : fields, message);
    held = 0;
  };
}
