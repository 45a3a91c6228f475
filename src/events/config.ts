import * as v from "valibot";
import { parseDuration } from "../shared/duration.js";

const duration = v.union([
  v.pipe(v.number(), v.minValue(0)),
  v.pipe(
    v.string(),
    v.check((value) => {
      try {
        parseDuration(value);
        return true;
      } catch {
        return false;
      }
    }, 'expected a duration such as "500ms", "30s", "5m" or "7d"'),
  ),
]);

/** The `queues` section of cairn.config.ts. */
export const queuesConfigSchema = v.record(
  v.pipe(v.string(), v.regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, "queue names use letters, digits, _, . and -")),
  v.strictObject({
    maxAttempts: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1000))),
    backoff: v.optional(duration),
    maxBackoff: v.optional(duration),
    visibilityTimeout: v.optional(duration),
    dedupWindow: v.optional(duration),
    batchSize: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(100))),
  }),
);
