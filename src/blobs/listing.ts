import { CairnError } from "../sdk/errors.js";
import type { Tables } from "../tables/tables.js";
import type { SortCondition, Stored } from "../tables/types.js";
import { checkDelimiter, checkPrefix, successor } from "./keys.js";
import { blobTable, objectPartition, toInfo, type BlobItem } from "./metadata.js";
import { blobLimits, type BlobInfo, type BlobList, type BlobListOptions } from "./types.js";

/**
 * List objects by prefix, grouping keys by a delimiter, a page at a time.
 *
 * Keys are walked in order with range queries from a lower bound. After an object the bound moves
 * just past its key; after a common prefix it jumps past every key under that prefix (to the
 * prefix's successor), so a "folder" of a million keys costs one extra query, not a million rows.
 * The cursor is that bound, bound itself to the prefix and delimiter it was made for.
 */
export async function listBlobs(tables: Tables, options: BlobListOptions = {}): Promise<BlobList> {
  if (typeof options !== "object" || options === null) throw invalid("list options must be an object");
  const prefix = checkPrefix(options.prefix);
  const delimiter = checkDelimiter(options.delimiter);
  const limit = options.limit ?? blobLimits.listLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > blobLimits.listLimit) {
    throw invalid(`limit must be an integer from 1 to ${blobLimits.listLimit}`);
  }
  let lower = options.cursor === undefined ? prefix : decodeCursor(options.cursor, prefix, delimiter);
  const upper = prefix === "" ? undefined : successor(prefix);

  const objects: BlobInfo[] = [];
  const prefixes: string[] = [];
  let skipping: string | undefined;
  let more = false;
  walk: for (;;) {
    const count = objects.length + prefixes.length;
    const sort: SortCondition = upper === undefined ? { gte: lower } : { between: [lower, upper] };
    const page = await tables.query(blobTable, objectPartition, {
      sort,
      limit: Math.min(limit - count + 1, 1000),
    });
    for (const stored of page.items) {
      const item = stored as Stored<BlobItem>;
      const key = item.k;
      if (!key.startsWith(prefix)) break walk; // the successor of the prefix itself: past the end
      if (skipping !== undefined && key.startsWith(skipping)) continue;
      skipping = undefined;
      if (objects.length + prefixes.length === limit) {
        more = true;
        break walk;
      }
      const at = delimiter === undefined ? -1 : key.indexOf(delimiter, prefix.length);
      if (at === -1) {
        objects.push(toInfo(item));
        lower = `${key}\u0000`; // the smallest key after this one (keys never hold NUL)
        continue;
      }
      const common = key.slice(0, at + delimiter!.length);
      prefixes.push(common);
      const after = successor(common);
      if (after === undefined) break walk;
      lower = after;
      skipping = common;
    }
    if (page.cursor === undefined) break;
  }
  const list: BlobList = { objects, prefixes };
  if (more) list.cursor = encodeCursor(prefix, delimiter, lower);
  return list;
}

function encodeCursor(prefix: string, delimiter: string | undefined, lower: string): string {
  return Buffer.from(JSON.stringify(["b1", prefix, delimiter ?? "", lower])).toString("base64url");
}

function decodeCursor(cursor: unknown, prefix: string, delimiter: string | undefined): string {
  let parsed: unknown;
  try {
    parsed =
      typeof cursor === "string" ? JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) : undefined;
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    parsed[0] !== "b1" ||
    parsed.some((part) => typeof part !== "string")
  ) {
    throw invalid("the cursor is not valid: pass the cursor of the previous page unchanged");
  }
  const [, forPrefix, forDelimiter, lower] = parsed as string[];
  if (forPrefix !== prefix || forDelimiter !== (delimiter ?? "") || !lower!.startsWith(prefix)) {
    throw invalid("this cursor belongs to another listing: pass the same prefix and delimiter");
  }
  return lower!;
}

function invalid(message: string): CairnError {
  return new CairnError("invalid_argument", message);
}
