import { randomBytes } from "node:crypto";

/**
 * Storage ids, the names drivers keep bytes under: 20 random hex digits, "-", and the write time
 * in base 36 (by the service clock, so the orphan sweep's grace period follows the same clock as
 * everything else, whatever time the backend keeps). Never derived from a blob key.
 */
const idPattern = /^([0-9a-f]{20})-([0-9a-z]{1,11})$/;

export function newId(now: number): string {
  return `${randomBytes(10).toString("hex")}-${Math.max(0, Math.floor(now)).toString(36)}`;
}

/** The write time of a valid id, or undefined for anything that is not one. */
export function createdOf(id: string): number | undefined {
  const match = idPattern.exec(id);
  return match === null ? undefined : parseInt(match[2]!, 36);
}

export function isId(id: unknown): id is string {
  return typeof id === "string" && idPattern.test(id);
}
