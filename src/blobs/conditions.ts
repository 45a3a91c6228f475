import { CairnError } from "../sdk/errors.js";
import type { Stored } from "../tables/types.js";
import type { BlobItem } from "./metadata.js";
import { checkEtag, etagMatches } from "./options.js";
import type { BlobConditions } from "./types.js";

/** ifNoneMatch "*" and ifMatch of a put, against the object as it is now. */
export function checkPut(
  current: Stored<BlobItem> | undefined,
  conditions: { ifMatch: string | undefined; ifNoneMatch: boolean },
): void {
  if (conditions.ifNoneMatch && current !== undefined) {
    throw preconditionFailed("an object already exists under this key");
  }
  if (conditions.ifMatch !== undefined) {
    if (current === undefined) throw preconditionFailed("there is no object under this key");
    if (!etagMatches(conditions.ifMatch, current.etag)) {
      throw preconditionFailed(`the object's ETag is ${current.etag}`);
    }
  }
}

/** Read conditions are well-formed (checked before the object is looked up). */
export function checkConditions(options: BlobConditions): void {
  checkEtag(options.ifMatch, "ifMatch");
  checkEtag(options.ifNoneMatch, "ifNoneMatch");
}

/** ifMatch fails with `precondition_failed` (412), a matching ifNoneMatch with `not_modified` (304). */
export function checkRead(item: Stored<BlobItem>, { ifMatch, ifNoneMatch }: BlobConditions): void {
  if (ifMatch !== undefined && !etagMatches(ifMatch, item.etag)) {
    throw preconditionFailed(`the object's ETag is ${item.etag}`);
  }
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, item.etag)) {
    throw new CairnError("not_modified", `the object still has ETag ${item.etag}`, {
      details: { etag: item.etag },
    });
  }
}

export function preconditionFailed(why: string): CairnError {
  return new CairnError("precondition_failed", `precondition failed: ${why}`);
}
