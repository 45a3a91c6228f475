import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync, mkdirSync, renameSync } from "node:fs";
import { dirname } from "node:path";

/**
 * Results worth keeping between starts (a bundled config, an app's build and the functions it
 * declares) are stored with the list of files they were made from. They are reused only while
 * every one of those files has the same size and modification time, and the extra key matches.
 */
export interface CacheEntry<T> {
  key: string;
  inputs: string[];
  value: T;
}

export function fingerprint(inputs: string[], extraKey: string): string | undefined {
  const hash = createHash("sha256").update(extraKey);
  for (const input of inputs) {
    try {
      const stat = statSync(input);
      hash.update(`\0${input}\0${stat.size}\0${stat.mtimeMs}`);
    } catch {
      return undefined;
    }
  }
  return hash.digest("hex");
}

export function readCache<T>(file: string, extraKey: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    const entry = JSON.parse(readFileSync(file, "utf8")) as CacheEntry<T>;
    const key = fingerprint(entry.inputs, extraKey);
    return key !== undefined && key === entry.key ? entry.value : undefined;
  } catch {
    return undefined;
  }
}

export function writeCache<T>(file: string, inputs: string[], extraKey: string, value: T): void {
  const key = fingerprint(inputs, extraKey);
  if (key === undefined) return;
  mkdirSync(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify({ key, inputs, value } satisfies CacheEntry<T>));
  renameSync(temp, file);
}

export function hashOf(value: unknown): string {
  return createHash("sha256")
    .update(JSON.stringify(value) ?? "")
    .digest("hex")
    .slice(0, 16);
}
