import { createHmac, generateKeyPairSync, KeyObject, sign as signRaw } from "node:crypto";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { CairnError } from "../../src/sdk/errors.js";
import { TokenVerifier, type PublicKeyEntry } from "../../src/sessions/verify-token.js";

const b64 = (value: unknown) =>
  Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const claims = {
  sid: "AAAAAAAAAAAAAAAAAAAAAA",
  sub: "u1",
  iss: "iss",
  aud: "aud",
  iat: now,
  nbf: now,
  exp: now + 3600,
};

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CairnError)) throw new Error(`expected a CairnError, got ${String(error)}`);
  expect(error.status).toBe(401);
  return error.code;
}

describe("token verification inside the instance (jose edge cases)", () => {
  let privateKey: CryptoKey;
  let publicJwk: JWK;
  let keys: PublicKeyEntry[];
  let refreshes = 0;
  let verifier: TokenVerifier;
  const sign = (payload: Record<string, unknown> = claims, header: Record<string, unknown> = {}) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: "EdDSA", kid: "k1", typ: "JWT", ...header })
      .sign(privateKey);

  beforeAll(async () => {
    const pair = await generateKeyPair("EdDSA", { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = await exportJWK(pair.publicKey);
    keys = [{ kid: "k1", alg: "EdDSA", jwk: publicJwk }];
    verifier = new TokenVerifier({
      issuer: "iss",
      audience: "aud",
      keys: () => keys,
      refresh: () => {
        refreshes++;
        return Promise.resolve(keys);
      },
      refreshIntervalMs: 60_000,
    });
  });

  it("accepts a token signed by a known key, and remembers it", async () => {
    const token = await sign();
    const first = await verifier.verify(token);
    expect(first).toMatchObject({ sid: claims.sid, sub: "u1", exp: claims.exp, kid: "k1" });
    expect(await verifier.verify(token)).toBe(first);
  });

  it("refuses alg none, even with an empty or copied signature", async () => {
    const unsigned = `${b64({ alg: "none", kid: "k1", typ: "JWT" })}.${b64(claims)}`;
    expect(await code(verifier.verify(`${unsigned}.`))).toBe("token_invalid");
    const real = (await sign()).split(".")[2];
    expect(await code(verifier.verify(`${unsigned}.${real}`))).toBe("token_invalid");
    const upper = `${b64({ alg: "NONE", kid: "k1" })}.${b64(claims)}.`;
    expect(await code(verifier.verify(upper))).toBe("token_invalid");
  });

  it("refuses HMAC tokens keyed with the public key (algorithm confusion)", async () => {
    for (const secret of [
      JSON.stringify(publicJwk),
      publicJwk.x!,
      Buffer.from(publicJwk.x!, "base64url").toString("latin1"),
    ]) {
      const input = `${b64({ alg: "HS256", kid: "k1", typ: "JWT" })}.${b64(claims)}`;
      const mac = createHmac("sha256", secret).update(input).digest("base64url");
      expect(await code(verifier.verify(`${input}.${mac}`))).toBe("token_invalid");
    }
  });

  it("refuses RSA tokens, and tokens whose alg does not match the key's", async () => {
    const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
    const rs256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "RS256", kid: "k1" })
      .sign(rsa.privateKey);
    expect(await code(verifier.verify(rs256))).toBe("token_invalid");
    const es = await generateKeyPair("ES256");
    const es256 = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .sign(es.privateKey);
    expect(await code(verifier.verify(es256))).toBe("token_invalid");
  });

  it("refuses a token signed with another key under a known kid", async () => {
    const other = await generateKeyPair("EdDSA");
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: "k1" })
      .sign(other.privateKey);
    expect(await code(verifier.verify(forged))).toBe("token_invalid");
  });

  it("refuses a changed payload or header", async () => {
    const [header, , signature] = (await sign()).split(".");
    const tampered = `${header}.${b64({ ...claims, sub: "admin" })}.${signature}`;
    expect(await code(verifier.verify(tampered))).toBe("token_invalid");
    const [, payload] = (await sign()).split(".");
    const swapped = `${b64({ alg: "EdDSA", kid: "k1", typ: "JWT", extra: 1 })}.${payload}.${signature}`;
    expect(await code(verifier.verify(swapped))).toBe("token_invalid");
  });

  it("asks for new keys on an unknown kid, at most once per interval", async () => {
    const before = refreshes;
    expect(await code(verifier.verify(await sign(claims, { kid: "nope-1" })))).toBe("token_invalid");
    expect(await code(verifier.verify(await sign(claims, { kid: "nope-2" })))).toBe("token_invalid");
    expect(refreshes - before).toBe(1);
  });

  it("checks issuer, audience and the claims' types", async () => {
    expect(await code(verifier.verify(await sign({ ...claims, iss: "other" })))).toBe("token_invalid");
    expect(await code(verifier.verify(await sign({ ...claims, aud: "other" })))).toBe("token_invalid");
    expect((await verifier.verify(await sign({ ...claims, aud: ["x", "aud"] }))).sub).toBe("u1");
    expect(await code(verifier.verify(await sign({ ...claims, sid: 5 })))).toBe("token_invalid");
    expect(await code(verifier.verify(await sign({ ...claims, sid: "short" })))).toBe("token_invalid");
    expect(await code(verifier.verify(await sign({ ...claims, exp: "soon" })))).toBe("token_invalid");
    const { sub: _sub, ...noSubject } = claims;
    expect(await code(verifier.verify(await sign(noSubject)))).toBe("token_invalid");
  });

  it("refuses unknown critical headers, other types, missing kids and malformed input", async () => {
    // jose will not sign with an unknown critical header, so sign this one by hand.
    const input = `${b64({ alg: "EdDSA", kid: "k1", crit: ["exp2"], exp2: 1 })}.${b64(claims)}`;
    const signature = signRaw(null, Buffer.from(input), KeyObject.from(privateKey)).toString("base64url");
    expect(await code(verifier.verify(`${input}.${signature}`))).toBe("token_invalid");
    expect(await code(verifier.verify(await sign(claims, { typ: "at+jwt" })))).toBe("token_invalid");
    expect(await code(verifier.verify(await sign(claims, { kid: undefined })))).toBe("token_invalid");
    for (const bad of ["", "a.b", "a.b.c.d", "!!!.###.$$$", `${"a".repeat(5000)}.b.c`, "e30.e30.e30"]) {
      expect(await code(verifier.verify(bad))).toBe("token_invalid");
    }
    // Time claims are the host's to judge (with the platform clock), not the signature check's.
    expect((await verifier.verify(await sign({ ...claims, exp: 1 }))).exp).toBe(1);
  });
});
