import * as v from "valibot";
import type { BlobsConfig } from "./types.js";

/** The optional `blobs` section of cairn.config.ts. */
export const blobsConfigSchema = v.strictObject({
  maxObjectSize: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.maxValue(Number.MAX_SAFE_INTEGER, "expected a byte count"),
    ),
  ),
}) satisfies v.GenericSchema<BlobsConfig, BlobsConfig>;
