import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, startNode, type TestNode } from "../helpers/app.js";

// The Conduit collection itself runs with newman in CI (npm run test:realworld); this checks the
// example's sign-in paths that the collection does not reach: logout, password change, forgery.
const example = join(import.meta.dirname, "..", "..", "examples", "realworld");

describe("examples/realworld: sessions behind the Conduit API", () => {
  let t: TestNode;
  let data: string;
  beforeAll(async () => {
    data = mkdtempSync(join(tmpdir(), "cairn-realworld-"));
    t = await startNode({ dir: example, dataDir: data, env: { ...process.env, CAIRN_DATABASE_URL: "" } });
  });
  afterAll(async () => {
    await t.stop();
    rmSync(data, { recursive: true, force: true });
  });

  const call = (method: string, path: string, token?: string, body?: unknown) =>
    getJson(`${t.url}/api${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Token ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  it("registers, refuses duplicates, logs in and out", async () => {
    const user = { username: "ann", email: "ann@example.com", password: "secret pw" };
    const registered = await call("POST", "/users", undefined, { user });
    expect(registered.status).toBe(201);
    expect(registered.body.user).toMatchObject({
      username: "ann",
      email: "ann@example.com",
      bio: "",
      image: "",
    });
    const dup = await call("POST", "/users", undefined, { user: { ...user, email: "other@example.com" } });
    expect(dup).toMatchObject({
      status: 422,
      body: { errors: { body: ["username has already been taken"] } },
    });
    expect(
      (await call("POST", "/users/login", undefined, { user: { ...user, password: "wrong" } })).status,
    ).toBe(401);

    const login = await call("POST", "/users/login", undefined, {
      user: { email: "ANN@example.com", password: "secret pw" },
    });
    const token = login.body.user.token as string;
    expect((await call("GET", "/user", token)).body.user.token).toBe(token);
    expect((await call("POST", "/users/logout", token)).status).toBe(204);
    const reused = await call("GET", "/user", token);
    expect(reused.status).toBe(401);
    expect(reused.body.error.code).toBe("session_revoked");
  });

  it("ends every session when the password changes", async () => {
    const user = { username: "bob", email: "bob@example.com", password: "first pw" };
    const phone = (await call("POST", "/users", undefined, { user })).body.user.token as string;
    const laptop = (await call("POST", "/users/login", undefined, { user })).body.user.token as string;
    expect((await call("GET", "/user/sessions", laptop)).body.sessions).toHaveLength(2);
    const changed = await call("PUT", "/user", laptop, { user: { password: "second pw", bio: "hi" } });
    expect(changed.status).toBe(200);
    const fresh = changed.body.user.token as string;
    for (const old of [phone, laptop])
      expect((await call("GET", "/user", old)).body.error.code).toBe("session_revoked");
    expect((await call("GET", "/user", fresh)).body.user).toMatchObject({ username: "bob", bio: "hi" });
  });

  it("changes nothing for a forged token", async () => {
    const token = (
      await call("POST", "/users", undefined, {
        user: { username: "cat", email: "cat@example.com", password: "pw" },
      })
    ).body.user.token as string;
    const [head, body, signature] = token.split(".");
    const claims = JSON.parse(Buffer.from(body!, "base64url").toString()) as Record<string, unknown>;
    const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, exp: 9_999_999_999 })).toString("base64url")}.${signature}`;
    const attempt = await call("PUT", "/user", forged, { user: { bio: "pwned" } });
    expect(attempt.status).toBe(401);
    expect(attempt.body.error.code).toBe("token_invalid");
    expect((await call("GET", "/user", token)).body.user.bio).toBe("");
    expect((await call("GET", "/profiles/cat", forged)).status).toBe(401);
    expect((await call("GET", "/profiles/cat")).body.profile).toEqual({
      username: "cat",
      bio: "",
      image: "",
      following: false,
    });
  });
});
