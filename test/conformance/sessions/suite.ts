import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../../../src/shared/clock.js";
import { decode, failure, openNode, type SessionsNode, type StoreFixture } from "./harness.js";

const day = 86_400_000;
const bearer = (token: string) => new Request("http://x/", { headers: { authorization: `Bearer ${token}` } });

/** The sessions conformance suite: every store driver runs it unchanged. */
export function sessionsConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`sessions conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let clock: ManualClock;
    let node: SessionsNode;
    const others: SessionsNode[] = [];

    beforeEach(async () => {
      fixture = await open();
      clock = new ManualClock();
      node = await openNode(fixture.store, clock);
    });
    afterEach(async () => {
      for (const other of others.splice(0)) await other.close();
      await node.close();
      await fixture.close();
    });

    describe("tokens and rows", () => {
      it("issues an EdDSA JWT naming the session, and verifies it with the row's data", async () => {
        const { token, session } = await node.sessions.create("user-1", { role: "admin" });
        const { header, payload } = decode(token);
        expect(header).toMatchObject({ alg: "EdDSA", typ: "JWT" });
        expect(header.kid).toBe(node.host.ring.publicKeys()[0]!.kid);
        expect(payload).toMatchObject({
          sid: session.id,
          sub: "user-1",
          iss: "cairn:conformance",
          aud: "conformance",
        });
        expect(payload.exp).toBe((payload.iat as number) + 7 * 86_400);
        expect(payload.nbf).toBe(payload.iat);

        const verified = await node.sessions.verify(token);
        expect(verified).toEqual({ ...session, token });
        expect(verified.data).toEqual({ role: "admin" });
        expect(verified.expiresAt).toBe((payload.exp as number) * 1000);
        expect((await node.sessions.verify(bearer(token))).id).toBe(session.id);
      });

      it("reads the token from a Token or Bearer header, or the session cookie", async () => {
        const { token, session } = await node.sessions.create("u");
        const viaToken = new Request("http://x/", { headers: { authorization: `Token ${token}` } });
        const viaCookie = new Request("http://x/", {
          headers: { cookie: `a=b; __Host-session=${token}; c=d` },
        });
        expect((await node.sessions.verify(viaToken)).id).toBe(session.id);
        expect((await node.sessions.verify(viaCookie)).id).toBe(session.id);
        expect(node.sessions.tokenFrom(viaCookie)).toBe(token);
        expect((await failure(node.sessions.verify(new Request("http://x/")))).code).toBe("token_missing");
        expect(await node.sessions.verify(new Request("http://x/"), { optional: true })).toBeUndefined();
        const wrongScheme = new Request("http://x/", { headers: { authorization: `Basic ${token}` } });
        expect((await failure(node.sessions.verify(wrongScheme))).code).toBe("token_missing");
      });

      it("expires with the token's lifetime, allowing the clock skew", async () => {
        const { token } = await node.sessions.create("u", {}, { ttl: "1h" });
        clock.advance(60 * 60 * 1000 + 20_000); // past exp, inside the 30 s skew
        expect((await node.sessions.verify(token)).subject).toBe("u");
        clock.advance(11_000);
        const error = await failure(node.sessions.verify(token));
        expect([error.code, error.status]).toEqual(["token_expired", 401]);
      });

      it("refuses a token that is not valid yet", async () => {
        const { token } = await node.sessions.create("u");
        clock.advance(-31_000);
        expect((await failure(node.sessions.verify(token))).code).toBe("token_not_yet_valid");
        clock.advance(2_000);
        expect((await node.sessions.verify(token)).subject).toBe("u");
      });

      it("checks subjects, data and ttl", async () => {
        expect((await failure(node.sessions.create(""))).code).toBe("invalid_argument");
        expect((await failure(node.sessions.create("u", { big: "x".repeat(17 * 1024) }))).code).toBe(
          "invalid_argument",
        );
        expect((await failure(node.sessions.create("u", {}, { ttl: "8d" }))).code).toBe("invalid_argument");
        expect((await failure(node.sessions.revoke(""))).code).toBe("invalid_argument");
      });
    });

    describe("revocation", () => {
      it("revokes one session at once, even while its row is cached", async () => {
        const { token, session } = await node.sessions.create("u");
        await node.sessions.verify(token); // now cached
        expect(await node.sessions.revoke(session.id)).toBe(true);
        const error = await failure(node.sessions.verify(token));
        expect([error.code, error.status]).toEqual(["session_revoked", 401]);
        expect(await node.sessions.revoke(session.id)).toBe(false);
      });

      it("revokes every session of a subject and lists what is active", async () => {
        const ann = [];
        for (let i = 0; i < 3; i++) {
          ann.push(await node.sessions.create("ann", { device: i }));
          clock.advance(1000);
        }
        const bob = await node.sessions.create("bob");
        for (const { token } of ann) await node.sessions.verify(token);
        const listed = await node.sessions.list("ann");
        expect(listed.map((s) => s.data.device)).toEqual([2, 1, 0]);
        expect(listed[0]!.expiresAt).toBe(ann[2]!.session.expiresAt);

        expect(await node.sessions.revokeAll("ann")).toBe(3);
        for (const { token } of ann)
          expect((await failure(node.sessions.verify(token))).code).toBe("session_revoked");
        expect((await node.sessions.verify(bob.token)).subject).toBe("bob");
        expect(await node.sessions.list("ann")).toEqual([]);
        expect(await node.sessions.revokeAll("ann")).toBe(0);
      });

      it("sees a revocation made through another node sharing the store", async () => {
        const other = await openNode(fixture.store, clock);
        others.push(other);
        const { token, session } = await node.sessions.create("u");
        expect((await other.sessions.verify(token)).id).toBe(session.id);
        await other.sessions.revoke(session.id);
        expect((await failure(node.sessions.verify(token))).code).toBe("session_revoked");
      });
    });

    describe("sliding renewal", () => {
      it("renews once half the lifetime has passed; both tokens name the same session", async () => {
        const first = await node.sessions.create("u", { n: 1 });
        const early = await node.sessions.renew(first.token);
        expect(early).toMatchObject({ renewed: false, token: first.token });

        clock.advance(4 * day);
        const renewed = await node.sessions.renew(bearer(first.token));
        expect(renewed.renewed).toBe(true);
        expect(renewed.token).not.toBe(first.token);
        expect(renewed.session).toMatchObject({ id: first.session.id, data: { n: 1 } });
        expect(renewed.session.expiresAt).toBe(first.session.expiresAt + 4 * day);

        clock.advance(3 * day + 60_000); // the first token has expired, the renewed one has not
        expect((await failure(node.sessions.verify(first.token))).code).toBe("token_expired");
        expect((await node.sessions.verify(renewed.token)).id).toBe(first.session.id);
        expect((await node.sessions.renew(renewed.token, { force: true })).renewed).toBe(true);
      });

      it("does not renew a revoked session", async () => {
        const { token, session } = await node.sessions.create("u");
        await node.sessions.revoke(session.id);
        clock.advance(5 * day);
        expect((await failure(node.sessions.renew(token, { force: true }))).code).toBe("session_revoked");
      });
    });

    describe("signing keys", () => {
      it("rotates on schedule: new tokens use the new key, old ones verify until they expire", async () => {
        const old = await node.sessions.create("u");
        const oldKid = decode(old.token).header.kid;
        clock.advance(30 * day + 1000);
        const fresh = await node.sessions.create("u");
        const newKid = decode(fresh.token).header.kid;
        expect(newKid).not.toBe(oldKid);
        // The client was made before the rotation: it fetches the new key when it meets its kid.
        expect((await node.sessions.verify(fresh.token)).id).toBe(fresh.session.id);
        expect(
          node.host
            .jwks()
            .keys.map((key) => (key as { kid: string }).kid)
            .sort(),
        ).toEqual([oldKid, newKid].sort());
        expect(node.spec.keys).toHaveLength(2);

        const again = await node.sessions.create("u", {}, { ttl: "1h" });
        expect(decode(again.token).header.kid).toBe(newKid);
        // The old token was issued before the rotation, with 7 days to live: it has expired by now.
        expect((await failure(node.sessions.verify(old.token))).code).toBe("token_expired");
      });

      it("keeps a retired key verifying until every token it signed has expired", async () => {
        await node.sessions.create("u"); // the first key, due for rotation in 30 days
        clock.advance(29 * day);
        const late = await node.sessions.create("u"); // signed just before rotation, valid 7 more days
        clock.advance(2 * day);
        await node.host.ring.tick(); // the periodic check rotates
        expect(node.host.jwks().keys).toHaveLength(2);
        clock.advance(4 * day);
        expect((await node.sessions.verify(late.token)).subject).toBe("u");
        clock.advance(4 * day); // past the old key's retirement (ttl + skew + margin)
        await node.host.ring.tick();
        expect(node.host.jwks().keys).toHaveLength(1);
      });

      it("rotates exactly once when two nodes rotate at the same moment", async () => {
        const other = await openNode(fixture.store, clock);
        others.push(other);
        await node.sessions.create("u");
        await other.host.ring.load();
        clock.advance(31 * day);
        const [a, b] = await Promise.all([node.sessions.create("a"), other.sessions.create("b")]);
        expect(decode(a.token).header.kid).toBe(decode(b.token).header.kid);
        await node.host.ring.load();
        expect(node.host.jwks().keys).toHaveLength(2);
        expect((await node.sessions.verify(b.token)).subject).toBe("b");
      });

      it("publishes public keys only", async () => {
        await node.sessions.create("u");
        const [key] = node.host.jwks().keys as Array<Record<string, unknown>>;
        expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
        expect(key).not.toHaveProperty("d");
      });

      it("supports ES256", async () => {
        const es = await openNode(fixture.store, clock, {
          config: { algorithm: "ES256", issuer: "es", audience: "es" },
        });
        others.push(es);
        await es.host.ring.rotateNow();
        const { token } = await es.sessions.create("u");
        expect(decode(token).header.alg).toBe("ES256");
        expect((await es.sessions.verify(token)).subject).toBe("u");
      });

      it("stores private keys encrypted under CAIRN_SECRET, and starts a new key when the secret changes", async () => {
        await node.close();
        node = await openNode(fixture.store, clock, {
          env: { CAIRN_SECRET: "first secret, long and random" },
        });
        await node.host.ring.rotateNow();
        const { token } = await node.sessions.create("u");
        const kid = decode(token).header.kid as string;
        const row = await node.tables.tables.get("_signing_keys", { kid });
        expect(row).toMatchObject({ privateKey: { enc: "A256GCM" } });
        expect(JSON.stringify(row)).not.toContain('"d"');

        await node.close();
        node = await openNode(fixture.store, clock, { env: { CAIRN_SECRET: "another secret" } });
        const next = await node.sessions.create("u");
        expect(decode(next.token).header.kid).not.toBe(kid);
        expect((await node.sessions.verify(token)).subject).toBe("u"); // verifying needs no secret
      });
    });

    describe("signed client-side state", () => {
      it("round-trips a value and rejects any change", () => {
        const cart = node.sessions.state<{ items: string[] }>("cart");
        const cookie = cart.cookie({ items: ["a1", "b2"] });
        expect(cookie).toMatch(
          /^__Host-cart=s1\.[^;]+; Path=\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax$/,
        );
        const value = cookie.slice("__Host-cart=".length, cookie.indexOf(";"));
        const request = (v: string) => new Request("http://x/", { headers: { cookie: `__Host-cart=${v}` } });
        expect(cart.read(request(value))).toEqual({ items: ["a1", "b2"] });
        const [v, body, mac] = value.split(".");
        const forged = Buffer.from(JSON.stringify({ e: 9e9, v: { items: ["free"] } })).toString("base64url");
        expect(() => cart.read(request(`${v}.${forged}.${mac}`))).toThrow(
          expect.objectContaining({ code: "state_invalid" }),
        );
        // A changed first character always changes the MAC's bytes (the last ones may only touch
        // the padding bits, or already be what they are replaced with).
        const tampered = `${mac!.startsWith("A") ? "B" : "A"}${mac!.slice(1)}`;
        expect(() => cart.read(request(`${v}.${body}.${tampered}`))).toThrow(
          expect.objectContaining({ code: "state_invalid" }),
        );
        // Another state's value does not pass for this one.
        const prefs = node.sessions.state<unknown>("prefs");
        expect(() => prefs.open(value)).toThrow(expect.objectContaining({ code: "state_invalid" }));
      });
    });
  });
}
