import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { getJson, makeApp, removeApp, startNode } from "../helpers/app.js";

const hello = `import { http } from "cairn"; export const a = http("GET /a", () => new Response("a"));`;

async function startError(files: Record<string, string>): Promise<string> {
  const dir = makeApp(files);
  try {
    const node = await startNode({ dir }).catch((error: Error) => error);
    if (!(node instanceof Error)) {
      await node.stop();
      throw new Error("the node started");
    }
    return node.message;
  } finally {
    removeApp(dir);
  }
}

describe("loading apps", () => {
  it("reports a route conflict with both declarations' file and line", async () => {
    const message = await startError({
      "functions/one.ts": `import { http } from "cairn";\n\nexport const first = http("GET /users/:id", () => new Response("1"));`,
      "functions/two.ts": `import { http } from "cairn";\nexport const second = http("GET /users/:name", () => new Response("2"));`,
    });
    expect(message).toMatch(/GET \/users\/:(id|name)/);
    expect(message).toContain("functions/one.ts:3");
    expect(message).toContain("functions/two.ts:2");
  });

  it("reports two functions with one name", async () => {
    const message = await startError({
      "functions/one.ts": `import { http } from "cairn";\nexport const same = http("GET /x", () => new Response("1"));`,
      "functions/two.ts": `import { http } from "cairn";\nexport const same = http("GET /y", () => new Response("2"));`,
    });
    expect(message).toMatch(/"same" is already declared/);
  });

  it("reports an error thrown while a module loads, with its file and line", async () => {
    const message = await startError({
      "functions/ok.ts": hello,
      "functions/broken.ts": `import { http } from "cairn";\nconst x = 1;\nthrow new Error("cannot start: " + x);\nexport const b = http("GET /b", () => new Response("b"));`,
    });
    expect(message).toContain("cannot start: 1");
    expect(message).toContain("functions/broken.ts:3");
  });

  it("reports a syntax error with its file and line", async () => {
    const message = await startError({
      "functions/ok.ts": hello,
      "functions/bad.ts": `import { http } from "cairn";\nexport const b = http("GET /b", () => {{ new Response("b");`,
    });
    expect(message).toContain("functions/bad.ts:2");
  });

  it("reports bad function options with the declaration's location", async () => {
    const message = await startError({
      "functions/opts.ts": `import { http } from "cairn";\nexport const o = http("GET /o", () => new Response("o"), { concurrency: 0, timeout: "soon" } as any);`,
    });
    expect(message).toContain("functions/opts.ts:2");
    expect(message).toMatch(/concurrency/);
    expect(message).toMatch(/timeout/);
  });

  it("reports a trigger's bad retry option with the declaration's location", async () => {
    const message = await startError({
      "functions/events.ts": `import { on } from "cairn";\nexport const e = on.blobCreated("in/", () => {}, { backoff: "soon" });`,
    });
    expect(message).toContain("functions/events.ts:2");
    expect(message).toMatch(/backoff/);
  });

  it("reports an app with no functions", async () => {
    expect(await startError({ "cairn.config.ts": "export default {};" })).toMatch(/no function modules/);
  });

  it("resolves an app's own npm dependencies and local helpers", async () => {
    const dir = makeApp({
      "package.json": JSON.stringify({ name: "with-deps", type: "module" }),
      "node_modules/tiny-dep/package.json": JSON.stringify({ name: "tiny-dep", main: "index.js" }),
      "node_modules/tiny-dep/index.js": "module.exports = { shout: (s) => s.toUpperCase() + '!' };",
      "functions/_lib/format.ts": `export const wrap = (s: string) => "[" + s + "]";`,
      "functions/uses.ts": `
        import { http } from "cairn";
        import { shout } from "tiny-dep";
        import { wrap } from "./_lib/format.js";
        export const uses = http("GET /uses", () => new Response(wrap(shout("hey"))));
      `,
    });
    const t = await startNode({ dir });
    try {
      expect((await getJson(`${t.url}/uses`)).body).toBe("[HEY!]");
    } finally {
      await t.stop();
      removeApp(dir);
    }
  });

  it("reuses an unchanged build on the next start and rebuilds after a change", async () => {
    const dir = makeApp({ "functions/a.ts": hello });
    try {
      const first = await startNode({ dir });
      const firstBuild = first.node.deployment.apps[0]!.app.build.dir;
      await first.stop();
      const second = await startNode({ dir });
      expect(second.node.deployment.apps[0]!.app.build.dir).toBe(firstBuild);
      await second.stop();
      makeApp({ "functions/a.ts": hello.replace('"a")', '"changed")') }, dir);
      const third = await startNode({ dir });
      expect(third.node.deployment.apps[0]!.app.build.dir).not.toBe(firstBuild);
      expect((await getJson(`${third.url}/a`)).body).toBe("changed");
      await third.stop();
    } finally {
      removeApp(dir);
    }
  });
});

describe("the examples", () => {
  const examples = join(import.meta.dirname, "..", "..", "examples");

  it("serves the Hono app mounted as one function", async () => {
    const t = await startNode({ dir: join(examples, "hono") });
    try {
      expect(await (await fetch(`${t.url}/hono`)).text()).toBe("Hello from Hono!");
      expect((await getJson(`${t.url}/hono/users/7`)).body).toEqual({ id: "7", via: "hono" });
      const echoed = await getJson(`${t.url}/hono/echo`, {
        method: "POST",
        body: JSON.stringify({ a: [1] }),
      });
      expect(echoed.body).toEqual({ received: { a: [1] } });
      const missing = await getJson(`${t.url}/hono/nope`);
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe("not_found");
    } finally {
      await t.stop();
    }
  });

  it("serves every example from the examples folder at once", async () => {
    const t = await startNode({ dir: examples });
    try {
      expect(await (await fetch(`${t.url}/hello`)).text()).toBe("Hello, world!");
      expect((await getJson(`${t.url}/hello/ada`)).body.greeting).toBe("Hello, ada!");
      expect((await getJson(`${t.url}/hono/users/1`)).body.via).toBe("hono");
    } finally {
      await t.stop();
    }
  });
});
