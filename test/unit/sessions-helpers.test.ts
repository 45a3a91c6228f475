import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashPassword, verifyPassword } from "../../src/sdk/passwords.js";
import { createSignedState } from "../../src/sessions/signed-state.js";
import { readCookie, serializeCookie, tokenFromRequest } from "../../src/sessions/transport.js";

describe("password hashing", () => {
  it("hashes with scrypt, a random salt and the parameters in the string", async () => {
    const a = await hashPassword("correct horse", { cost: 12 });
    const b = await hashPassword("correct horse", { cost: 12 });
    expect(a).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("correct horse", a)).toBe(true);
    expect(await verifyPassword("correct horse!", a)).toBe(false);
    expect(await verifyPassword("", a)).toBe(false);
  });

  it("defaults to N = 2^15 and treats malformed or runaway hashes as no match", async () => {
    expect(await hashPassword("pw")).toMatch(/^\$scrypt\$ln=15,r=8,p=1\$/);
    const good = await hashPassword("pw", { cost: 10 });
    for (const bad of [
      "",
      "plain",
      good.replace("ln=10", "ln=30"),
      good.replace("r=8", "r=99"),
      `${good}x`,
      good.slice(0, -4),
    ]) {
      expect(await verifyPassword("pw", bad)).toBe(false);
    }
    await expect(hashPassword("pw", { cost: 25 })).rejects.toMatchObject({ code: "invalid_argument" });
    await expect(hashPassword("x".repeat(2000))).rejects.toMatchObject({ code: "invalid_argument" });
  });
});

describe("signed client-side state", () => {
  const secret = randomBytes(32);
  let now = Date.UTC(2030, 0, 1);
  const clock = () => now;

  it("detects any change, another name's value, another secret and expiry", () => {
    const cart = createSignedState<{ items: number[] }>(secret, "cart", { ttl: "1h" }, clock);
    const sealed = cart.seal({ items: [1, 2] });
    expect(cart.open(sealed)).toEqual({ items: [1, 2] });
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);
    for (const i of [3, 10, sealed.length - 3]) {
      expect(() => cart.open(flip(sealed, i))).toThrow(
        expect.objectContaining({ code: "state_invalid", status: 400 }),
      );
    }
    expect(() => createSignedState(secret, "wishlist", {}, clock).open(sealed)).toThrow(
      expect.objectContaining({ code: "state_invalid" }),
    );
    expect(() => createSignedState(randomBytes(32), "cart", {}, clock).open(sealed)).toThrow(
      expect.objectContaining({ code: "state_invalid" }),
    );
    for (const junk of ["", "s1", "s1..", "s2.e30.AAAA", "x".repeat(5000)]) {
      expect(() => cart.open(junk)).toThrow(expect.objectContaining({ code: "state_invalid" }));
    }
    now += 60 * 60 * 1000 + 1000;
    expect(() => cart.open(sealed)).toThrow(expect.objectContaining({ code: "state_invalid" }));
  });

  it("limits the size and writes a __Host- cookie", () => {
    const state = createSignedState<string>(secret, "prefs", { maxBytes: 200 }, clock);
    expect(() => state.seal("x".repeat(300))).toThrow(
      expect.objectContaining({ code: "state_too_large", status: 413 }),
    );
    const cookie = state.cookie("dark");
    expect(cookie).toMatch(
      /^__Host-prefs=s1\.[A-Za-z0-9_.-]+; Path=\/; Max-Age=2592000; HttpOnly; Secure; SameSite=Lax$/,
    );
    const value = cookie.slice(cookie.indexOf("=") + 1, cookie.indexOf(";"));
    expect(
      state.read(new Request("http://x/", { headers: { cookie: `other=1; __Host-prefs=${value}` } })),
    ).toBe("dark");
    expect(state.read(new Request("http://x/"))).toBeUndefined();
    expect(state.clear()).toBe("__Host-prefs=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Lax");
    expect(() => createSignedState(secret, "bad name", {}, clock)).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(() => createSignedState(secret, "big", { maxBytes: 5000 }, clock)).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
  });
});

describe("token transport", () => {
  it("reads Bearer and Token headers, then the cookie", () => {
    const request = (headers: Record<string, string>) => new Request("http://x/", { headers });
    expect(tokenFromRequest(request({ authorization: "Bearer a.b.c" }), "s")).toBe("a.b.c");
    expect(tokenFromRequest(request({ authorization: "token a.b.c" }), "s")).toBe("a.b.c");
    expect(tokenFromRequest(request({ authorization: "Bearer" }), "s")).toBeUndefined();
    expect(tokenFromRequest(request({ authorization: "Basic x", cookie: "s=c.o.k" }), "s")).toBe("c.o.k");
    expect(readCookie('a=1; b="2"; c=3', "b")).toBe("2");
    expect(readCookie("ab=1", "b")).toBeUndefined();
  });

  it("writes cookies with every protective attribute and refuses unsafe values", () => {
    expect(serializeCookie("__Host-session", "t.o.k", 60)).toBe(
      "__Host-session=t.o.k; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Lax",
    );
    expect(() => serializeCookie("a b", "x", 1)).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
    expect(() => serializeCookie("a", "x;Domain=evil", 1)).toThrow(
      expect.objectContaining({ code: "invalid_argument" }),
    );
  });
});
