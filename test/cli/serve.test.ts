import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eventually, makeApp, removeApp, sleep } from "../helpers/app.js";
import { runCli, startCli } from "../helpers/cli.js";

const slowApp = (version: string) => ({
  "functions/slow.ts": `
    import { http } from "cairn";
    export const slow = http("GET /slow", async () => {
      await new Promise((resolve) => setTimeout(resolve, 700));
      return new Response("${version}");
    });
    export const fast = http("GET /fast", () => new Response("${version}"));
  `,
});

describe("cairn start", () => {
  let dir: string;
  beforeAll(() => {
    dir = makeApp(slowApp("v1"));
  });
  afterAll(() => removeApp(dir));

  it("prints what it serves, answers health, and drains in-flight requests on SIGTERM before exiting 0", async () => {
    const cli = await startCli(["start", dir]);
    expect(cli.stderr()).toContain("/slow");
    expect(cli.stderr()).toContain("functions/slow.ts");
    expect((await fetch(`${cli.url}/_cairn/health`)).status).toBe(200);
    const inFlight = fetch(`${cli.url}/slow`).then((r) => r.text());
    await sleep(200);
    cli.child.kill("SIGTERM");
    expect(await inFlight).toBe("v1");
    expect(await cli.exited).toBe(0);
    await expect(fetch(`${cli.url}/fast`)).rejects.toThrow();
    expect(cli.stdout()).toContain('"msg":"invocation"');
  });

  it("exits 1 without serving when the app cannot load, saying where", async () => {
    const broken = makeApp({
      "functions/x.ts": `import { http } from "cairn";\nexport const x = http("GET /x", () => {{);`,
    });
    try {
      const result = await runCli(["start", broken, "--port", "0"]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("functions/x.ts:2");
    } finally {
      removeApp(broken);
    }
  });

  it("explains usage mistakes with exit code 2", async () => {
    expect((await runCli(["launch"])).code).toBe(2);
    const badPort = await runCli(["start", dir, "--port", "nope"]);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("--port");
    const help = await runCli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("cairn start");
  });
});

describe("cairn dev", () => {
  it("reloads on change while requests in flight finish on the old code", async () => {
    const dir = makeApp(slowApp("v1"));
    const cli = await startCli(["dev", dir]);
    try {
      expect(await (await fetch(`${cli.url}/fast`)).text()).toBe("v1");
      const inFlight = fetch(`${cli.url}/slow`).then((r) => r.text());
      await sleep(100);
      writeFileSync(join(dir, "functions", "slow.ts"), slowApp("v2")["functions/slow.ts"]);
      await eventually(
        async () => ((await (await fetch(`${cli.url}/fast`)).text()) === "v2" ? true : undefined),
        10_000,
      );
      expect(await inFlight).toBe("v1");
      // A broken edit keeps the last good version serving.
      writeFileSync(join(dir, "functions", "slow.ts"), "export const = ;");
      await eventually(() => (cli.stdout().includes("reload failed") ? true : undefined), 10_000);
      expect(await (await fetch(`${cli.url}/fast`)).text()).toBe("v2");
    } finally {
      cli.child.kill("SIGTERM");
      await cli.exited;
      removeApp(dir);
    }
  });
});
