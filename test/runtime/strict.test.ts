import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, makeApp, removeApp, startNode } from "../helpers/app.js";

// Module state that a stateless function must not rely on: it counts invocations per instance.
const app = {
  "functions/counter.ts": `
    import { http } from "cairn";
    let count = 0;
    export const counter = http("GET /count", () => Response.json({ count: ++count }));
    export const strictCounter = http("GET /strict-count", () => Response.json({ count: ++count }), { strict: true });
  `,
};

describe("instances", () => {
  let dir: string;
  beforeAll(() => {
    dir = makeApp(app);
  });
  afterAll(() => removeApp(dir));

  it("keeps module state across warm invocations by default", async () => {
    const t = await startNode({ dir });
    try {
      const counts = [];
      for (let i = 0; i < 5; i++) counts.push((await getJson(`${t.url}/count`)).body.count);
      expect(counts).toEqual([1, 2, 3, 4, 5]);
      // ...unless the function itself asks for strict instances.
      for (let i = 0; i < 3; i++) expect((await getJson(`${t.url}/strict-count`)).body.count).toBe(1);
    } finally {
      await t.stop();
    }
  });

  it("never shows module state twice in strict mode, also under concurrency", async () => {
    const t = await startNode({ dir, strict: true });
    try {
      for (let i = 0; i < 5; i++) expect((await getJson(`${t.url}/count`)).body.count).toBe(1);
      const parallel = await Promise.all(Array.from({ length: 8 }, () => getJson(`${t.url}/count`)));
      expect(parallel.map((r) => r.body.count)).toEqual(Array(8).fill(1));
    } finally {
      await t.stop();
    }
  });

  it("recycles an instance after maxInvocations and stops idle ones", async () => {
    const recycling = makeApp({
      "functions/r.ts": `
        import { http } from "cairn";
        let count = 0;
        export const r = http("GET /r", () => Response.json({ count: ++count }), { maxInvocations: 3, idleTimeout: "300ms" });
      `,
    });
    const t = await startNode({ dir: recycling });
    try {
      const counts = [];
      for (let i = 0; i < 7; i++) counts.push((await getJson(`${t.url}/r`)).body.count);
      expect(counts).toEqual([1, 2, 3, 1, 2, 3, 1]);
      const pool = t.node.deployment.pools[0]!;
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect(pool.instances.length).toBe(0);
    } finally {
      await t.stop();
      removeApp(recycling);
    }
  });

  it("keeps minInstances warm and spreads load over up to maxInstances", async () => {
    const sized = makeApp({
      "functions/s.ts": `
        import { http } from "cairn";
        const id = Math.random();
        export const s = http("GET /s", async () => {
          // Long enough that the new instances are up before the first one frees a slot.
          await new Promise((resolve) => setTimeout(resolve, 600));
          return Response.json({ id });
        }, { minInstances: 1, maxInstances: 3, concurrency: 2 });
      `,
    });
    const t = await startNode({ dir: sized });
    try {
      const pool = t.node.deployment.pools[0]!;
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(pool.instances.filter((i) => i.ready).length).toBe(1);
      const results = await Promise.all(Array.from({ length: 6 }, () => getJson(`${t.url}/s`)));
      expect(new Set(results.map((r) => r.body.id)).size).toBe(3);
      expect(pool.instances.length).toBeLessThanOrEqual(3);
    } finally {
      await t.stop();
      removeApp(sized);
    }
  });
});
