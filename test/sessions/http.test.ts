import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/shared/clock.js";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const day = 86_400_000;
const config = (issuer: string, audience: string) => `
  import { defineConfig, table } from "cairn";
  const config = defineConfig({
    tables: { counters: table<{ name: string; value: number }>({ partitionKey: "name" }) },
    sessions: { ttl: "7d", rotateEvery: "1d", issuer: "${issuer}", audience: "${audience}" },
  });
  export default config;
  declare module "cairn" { interface Register { config: typeof config } }
`;

const app = {
  "cairn.config.ts": config("https://auth.example", "shop"),
  "functions/auth.ts": `
    import { http } from "cairn";
    export const login = http("POST /login/:user", async (_req, ctx) => {
      const { token, session } = await ctx.sessions.create(ctx.params.user, { plan: "pro" });
      return Response.json({ token, id: session.id }, { headers: { "set-cookie": ctx.sessions.cookie(token) } });
    });
    export const me = http("GET /me", async (req, ctx) => Response.json(await ctx.sessions.verify(req)));
    // A write behind authentication: an attack that got through would move the counter.
    export const count = http("POST /count", async (req, ctx) => {
      await ctx.sessions.verify(req);
      const { value } = await ctx.tables.counters.update({ name: "hits" }, { increment: { value: 1 } });
      return Response.json({ value });
    });
    export const read = http("GET /count", async (_req, ctx) =>
      Response.json({ value: (await ctx.tables.counters.get({ name: "hits" }))?.value ?? 0 }));
    export const logout = http("POST /logout", async (req, ctx) => {
      const session = await ctx.sessions.verify(req);
      await ctx.sessions.revoke(session.id);
      return new Response(null, { status: 204, headers: { "set-cookie": ctx.sessions.clearCookie() } });
    });
    export const everywhere = http("POST /logout-everywhere", async (req, ctx) => {
      const session = await ctx.sessions.verify(req);
      return Response.json({ revoked: await ctx.sessions.revokeAll(session.subject) });
    });
    const cart = (ctx: Parameters<Parameters<typeof http>[1]>[1]) => ctx.sessions.state<{ items: string[] }>("cart");
    export const getCart = http("GET /cart", (req, ctx) => Response.json(cart(ctx).read(req) ?? { items: [] }));
    export const addToCart = http("POST /cart/:sku", (req, ctx) => {
      const items = [...(cart(ctx).read(req)?.items ?? []), ctx.params.sku];
      return new Response(null, { status: 204, headers: { "set-cookie": cart(ctx).cookie({ items }) } });
    });
  `,
};

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
const parts = (token: string) => token.split(".") as [string, string, string];
const header = (token: string) =>
  JSON.parse(Buffer.from(parts(token)[0], "base64url").toString()) as { kid: string; alg: string };
const payload = (token: string) =>
  JSON.parse(Buffer.from(parts(token)[1], "base64url").toString()) as Record<string, unknown>;

describe("sessions over HTTP: forged, stale and revoked tokens", () => {
  let dir: string;
  let t: TestNode;
  const clock = new ManualClock();

  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir, clock });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  const login = async (user: string) => {
    const response = await fetch(`${t.url}/login/${user}`, { method: "POST" });
    expect(response.status).toBe(200);
    return {
      ...((await response.json()) as { token: string; id: string }),
      cookie: response.headers.get("set-cookie")!,
    };
  };
  const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });
  const hits = async () => (await getJson(`${t.url}/count`)).body.value as number;

  /** The attempt gets 401 with exactly this code, and the protected write did not happen. */
  async function refused(token: string, code: string): Promise<void> {
    const before = await hits();
    const response = await getJson(`${t.url}/count`, { method: "POST", ...auth(token) });
    expect(response.status).toBe(401);
    expect(response.body).toEqual({
      error: { code, message: expect.any(String), requestId: expect.any(String) },
    });
    expect(await hits()).toBe(before);
  }

  it("accepts a real token, from the header or the cookie", async () => {
    const { token, cookie } = await login("ann");
    const before = await hits();
    expect((await getJson(`${t.url}/count`, { method: "POST", ...auth(token) })).body.value).toBe(before + 1);
    const viaCookie = await getJson(`${t.url}/me`, { headers: { cookie: cookie.split(";")[0]! } });
    expect(viaCookie.body).toMatchObject({ subject: "ann", data: { plan: "pro" } });
    expect((await getJson(`${t.url}/me`, { headers: { authorization: `Token ${token}` } })).status).toBe(200);
  });

  it("sets the session cookie with __Host-, HttpOnly, Secure, SameSite=Lax and Path=/", async () => {
    const { token, cookie } = await login("ann");
    expect(cookie).toBe(`__Host-session=${token}; Path=/; Max-Age=604800; HttpOnly; Secure; SameSite=Lax`);
  });

  it("answers a missing token with token_missing", async () => {
    const response = await getJson(`${t.url}/me`);
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe("token_missing");
  });

  it("refuses alg none", async () => {
    const { token } = await login("ann");
    const [, body] = parts(token);
    await refused(`${b64({ alg: "none", typ: "JWT", kid: header(token).kid })}.${body}.`, "token_invalid");
  });

  it("refuses HMAC tokens keyed with the published public key", async () => {
    const { token } = await login("ann");
    const jwks = (await getJson(`${t.url}/.well-known/jwks.json`)).body as {
      keys: Array<{ kid: string; x: string }>;
    };
    const key = jwks.keys.find((k) => k.kid === header(token).kid)!;
    const input = `${b64({ alg: "HS256", typ: "JWT", kid: key.kid })}.${parts(token)[1]}`;
    for (const secret of [JSON.stringify(key), key.x]) {
      await refused(
        `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`,
        "token_invalid",
      );
    }
  });

  it("refuses a token signed with another key, under the real kid or an unknown one", async () => {
    const { token } = await login("ann");
    const attacker = await generateKeyPair("EdDSA");
    const claims = payload(token);
    const sameKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: header(token).kid })
      .sign(attacker.privateKey);
    await refused(sameKid, "token_invalid");
    const unknownKid = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: "attacker-key" })
      .sign(attacker.privateKey);
    await refused(unknownKid, "token_invalid");
  });

  it("refuses a tampered payload", async () => {
    const { token } = await login("ann");
    const [head, body, signature] = parts(token);
    await refused(`${head}.${b64({ ...payload(token), sub: "admin" })}.${signature}`, "token_invalid");
    // The signature's first character: its last one may carry only padding bits.
    const tampered = `${signature.startsWith("A") ? "B" : "A"}${signature.slice(1)}`;
    await refused(`${head}.${body}.${tampered}`, "token_invalid");
  });

  it("refuses an expired token and one that is not valid yet", async () => {
    const { token } = await login("ann");
    clock.advance(7 * day + 31_000);
    await refused(token, "token_expired");
    clock.advance(-(7 * day + 31_000) - 60_000);
    await refused(token, "token_not_yet_valid");
    clock.advance(60_000);
    expect((await getJson(`${t.url}/me`, auth(token))).status).toBe(200);
  });

  it("refuses a revoked session and a token reused after logout", async () => {
    const { token } = await login("ann");
    const logout = await fetch(`${t.url}/logout`, { method: "POST", ...auth(token) });
    expect(logout.status).toBe(204);
    expect(logout.headers.get("set-cookie")).toBe(
      "__Host-session=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax",
    );
    await refused(token, "session_revoked");
  });

  it("refuses every token of a subject after revokeAll, and no one else's", async () => {
    const first = await login("cat");
    const second = await login("cat");
    const other = await login("dan");
    const all = await getJson(`${t.url}/logout-everywhere`, { method: "POST", ...auth(first.token) });
    expect(all.body.revoked).toBe(2);
    await refused(first.token, "session_revoked");
    await refused(second.token, "session_revoked");
    expect((await getJson(`${t.url}/me`, auth(other.token))).status).toBe(200);
  });

  it("rotates keys: new tokens use the new key, old tokens verify until they expire", async () => {
    const old = await login("eve");
    clock.advance(day + 1000);
    const fresh = await login("eve");
    expect(header(fresh.token).kid).not.toBe(header(old.token).kid);
    expect((await getJson(`${t.url}/me`, auth(old.token))).status).toBe(200);
    expect((await getJson(`${t.url}/me`, auth(fresh.token))).status).toBe(200);
    const jwks = await getJson(`${t.url}/.well-known/jwks.json`);
    expect(jwks.headers.get("content-type")).toBe("application/jwk-set+json");
    const kids = (jwks.body.keys as Array<{ kid: string }>).map((k) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([header(old.token).kid, header(fresh.token).kid]));
    const perApp = await getJson(`${t.url}/_cairn/sessions/${basename(dir)}/jwks.json`);
    expect(perApp.body.keys.map((k: { kid: string }) => k.kid)).toEqual(kids);
    expect((await getJson(`${t.url}/_cairn/sessions/nope/jwks.json`)).status).toBe(404);
    clock.advance(6 * day + 60_000);
    await refused(old.token, "token_expired");
    expect((await getJson(`${t.url}/me`, auth(fresh.token))).status).toBe(200);
  });

  it("keeps signed client-side state in a cookie and rejects tampering", async () => {
    const added = await fetch(`${t.url}/cart/a1`, { method: "POST" });
    const cookie = added.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^__Host-cart=[^;]+; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/);
    const value = cookie.slice(0, cookie.indexOf(";"));
    expect((await getJson(`${t.url}/cart`, { headers: { cookie: value } })).body).toEqual({ items: ["a1"] });
    const [v, , mac] = value.slice("__Host-cart=".length).split(".");
    const forged = `__Host-cart=${v}.${b64({ e: 9e9, v: { items: ["free"] } })}.${mac}`;
    const tampered = await getJson(`${t.url}/cart`, { headers: { cookie: forged } });
    expect(tampered.status).toBe(400);
    expect(tampered.body.error.code).toBe("state_invalid");
  });

  it("refuses a token for another issuer or audience", async () => {
    const { token } = await login("fay");
    await t.stop();
    writeFileSync(join(dir, "cairn.config.ts"), config("https://other.example", "shop"));
    t = await startNode({ dir, clock });
    await refused(token, "token_invalid");
    await t.stop();
    writeFileSync(join(dir, "cairn.config.ts"), config("https://auth.example", "admin"));
    t = await startNode({ dir, clock });
    await refused(token, "token_invalid");
    await t.stop();
    writeFileSync(join(dir, "cairn.config.ts"), config("https://auth.example", "shop"));
    t = await startNode({ dir, clock });
    expect((await getJson(`${t.url}/me`, auth(token))).status).toBe(200);
  });
});
