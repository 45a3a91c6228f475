import type { Page, Stored } from "cairn";

export type Reader<T> = (cursor: string | undefined, limit: number) => Promise<Page<T>>;

/**
 * Every item of a query, a page at a time, in the query's order. Offsets are served by reading
 * past the skipped items of a sorted index: cheap at the size of an example, and the one place a
 * large deployment would switch to cursors (the tables API has them) instead of limit/offset.
 */
export async function* each<T>(read: Reader<T>, pageSize = 100): AsyncGenerator<Stored<T>> {
  let cursor: string | undefined;
  do {
    const page = await read(cursor, pageSize);
    yield* page.items;
    cursor = page.cursor;
  } while (cursor !== undefined);
}

/** The first `count` items of a query. */
export async function first<T>(read: Reader<T>, count: number): Promise<Array<Stored<T>>> {
  const out: Array<Stored<T>> = [];
  if (count <= 0) return out;
  for await (const item of each(read, Math.min(1000, count))) {
    out.push(item);
    if (out.length >= count) break;
  }
  return out;
}
