import { join } from "node:path";

/**
 * Files of the folder driver sit under objects/<first two hex digits of the id>/ so no directory
 * grows too large (ids are described in ../ids.ts).
 */
export { createdOf, isId, newId } from "../ids.js";

/** The file of an id below the objects folder; ids are checked first, so nothing escapes it. */
export function fileOf(objects: string, id: string): string {
  return join(objects, id.slice(0, 2), id);
}
