import { describe, expect, it } from "vitest";
import { IdMap } from "../../src/shared/id-map.js";

describe("IdMap", () => {
  it("gets, sets, replaces and deletes by id, counting what it holds", () => {
    const map = new IdMap<string>();
    expect(map.size).toBe(0);
    expect(map.get(1)).toBeUndefined();
    map.set(1, "a").set(2, "b");
    map.set(2, "B");
    expect(map.size).toBe(2);
    expect(map.get(2)).toBe("B");
    expect(map.has(1)).toBe(true);
    expect(map.delete(1)).toBe(true);
    expect(map.delete(1)).toBe(false);
    expect(map.has(1)).toBe(false);
    expect(map.size).toBe(1);
  });

  it("iterates in increasing id order, entries and values alike", () => {
    const map = new IdMap<number>();
    for (let id = 1; id <= 50; id++) map.set(id, id * 10);
    for (let id = 1; id <= 50; id += 3) map.delete(id);
    const ids = [...map].map(([id]) => id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).not.toContain(1);
    expect([...map.values()]).toEqual(ids.map((id) => id * 10));
    expect(map.size).toBe(ids.length);
  });

  it("holds ids as they come and go by the hundred thousand, and empties on clear", () => {
    const map = new IdMap<{ id: number }>();
    let next = 0;
    for (let round = 0; round < 100_000; round++) {
      map.set(++next, { id: next });
      if (map.size > 50) map.delete(next - 50);
    }
    expect(map.size).toBe(50);
    expect(map.get(next)?.id).toBe(next);
    expect(map.get(next - 50)).toBeUndefined();
    map.clear();
    expect(map.size).toBe(0);
    expect([...map]).toEqual([]);
  });
});
