import * as v from "valibot";
import { blobsConfigSchema } from "../blobs/config.js";
import { cacheConfigSchema } from "../cache/config.js";
import { sessionsConfigSchema } from "../sessions/config.js";
import { parseDuration } from "../shared/duration.js";
import { tablesConfigSchema } from "../tables/schema.js";
import { queuesConfigSchema } from "../events/config.js";

/**
 * The one schema cairn.config.ts is checked against. Later services add their sections here, so a
 * misspelt key anywhere is reported with its path instead of being ignored.
 */
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

const positiveInt = v.pipe(v.number(), v.integer(), v.minValue(1));
const nonNegativeInt = v.pipe(v.number(), v.integer(), v.minValue(0));

export const functionOptionsSchema = v.strictObject({
  timeout: v.optional(duration),
  memory: v.optional(v.pipe(v.number(), v.integer(), v.minValue(16), v.maxValue(16384))),
  minInstances: v.optional(nonNegativeInt),
  maxInstances: v.optional(positiveInt),
  concurrency: v.optional(positiveInt),
  idleTimeout: v.optional(duration),
  maxInvocations: v.optional(nonNegativeInt),
  strict: v.optional(v.boolean()),
});

const sections = {
  name: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9_-]*$/i, "use letters, digits, - and _"))),
  functions: v.optional(functionOptionsSchema),
  limits: v.optional(
    v.strictObject({
      bodySize: v.optional(positiveInt),
    }),
  ),
  vars: v.optional(v.record(v.string(), v.string())),
  secrets: v.optional(
    v.array(v.pipe(v.string(), v.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "not a valid variable name"))),
  ),
  build: v.optional(v.strictObject({ external: v.optional(v.array(v.string())) })),
  tables: v.optional(tablesConfigSchema),
  queues: v.optional(queuesConfigSchema),
  cache: v.optional(cacheConfigSchema),
  blobs: v.optional(blobsConfigSchema),
  sessions: v.optional(sessionsConfigSchema),
};

/** Sections other parts of Cairn contribute (tables, queues, ...), each with its own schema. */
const extraSections: Record<string, v.GenericSchema> = {};

export function registerConfigSection(name: string, schema: v.GenericSchema): void {
  extraSections[name] = v.optional(schema);
}

export function configSchema() {
  return v.strictObject({ ...sections, ...extraSections });
}

export function describeIssues(issues: readonly v.BaseIssue<unknown>[]): string[] {
  return issues.map((issue) => {
    const path = v.getDotPath(issue) ?? "(config)";
    return `${path}: ${issue.message}`;
  });
}
