import { CairnError } from "../sdk/errors.js";
import { fromHex, toHex } from "./keys.js";

/**
 * A page cursor: where the previous page stopped, and what it was a page of. Opaque to callers;
 * tampering can only move a caller within what it may read anyway, and malformed ones are refused.
 */
export interface CursorState {
  /** table, index (or "") and kind ("q" query, "s" scan) */
  scope: string;
  /** The sort position of the last item returned. */
  after: Uint8Array[];
}

export function encodeCursor(state: CursorState): string {
  return Buffer.from(JSON.stringify([state.scope, ...state.after.map(toHex)])).toString("base64url");
}

export function decodeCursor(cursor: string, scope: string): Uint8Array[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (!Array.isArray(parsed) || parsed.length < 2 || parsed.some((part) => typeof part !== "string"))
    throw invalid();
  const [given, ...positions] = parsed as string[];
  if (given !== scope) {
    throw new CairnError(
      "invalid_argument",
      "this cursor belongs to another query: pass it to the query that returned it",
    );
  }
  return positions.map(fromHex);
}

function invalid(): CairnError {
  return new CairnError(
    "invalid_argument",
    "the cursor is not valid: pass the cursor of the previous page unchanged",
  );
}
