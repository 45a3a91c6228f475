import { afterEach, beforeEach, describe } from "vitest";
import { conditionCases } from "./conditions.js";
import { eventCases } from "./events.js";
import type { BlobsFixture } from "./harness.js";
import { listingCases } from "./listing.js";
import { objectCases } from "./objects.js";
import { presignCases } from "./presign.js";
import { rangeCases } from "./ranges.js";
import { streamingCases } from "./streaming.js";
import { validationCases } from "./validation.js";

export type { BlobsFixture } from "./harness.js";

/**
 * The blobs conformance suite: every driver (and every store under the metadata) runs it
 * unchanged. `open` gives a fresh, empty blob store whose time is the fixture's manual clock;
 * build it with `openBlobs` from harness.ts, which opens the service the way a node does.
 */
export function blobsConformance(name: string, open: () => Promise<BlobsFixture>): void {
  describe(`blobs conformance: ${name}`, () => {
    let current: BlobsFixture | undefined;
    const fixture = (): BlobsFixture => {
      if (current === undefined) throw new Error("no blob store open");
      return current;
    };
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    describe("put, get, head, delete", () => objectCases(fixture));
    describe("conditional writes and reads", () => conditionCases(fixture));
    describe("byte ranges", () => rangeCases(fixture));
    describe("listing", () => listingCases(fixture));
    describe("keys and limits", () => validationCases(fixture));
    describe("large objects", () => streamingCases(fixture));
    describe("events and the orphan sweep", () => eventCases(fixture));
    describe("presigned URLs", () => presignCases(fixture));
  });
}
