import { describe, expect, it } from "vitest";
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from "../../src/shared/wire.js";
import { parseDuration } from "../../src/shared/duration.js";
import { Redactor } from "../../src/log/redact.js";

describe("compact messages", () => {
  it("round-trips a request", () => {
    const text = encodeRequest(7, "req-1", "GET", "http://h/x?y=1", ["host", "h", "x-a", ""], {
      id: "42",
      "*": "a/b",
    });
    expect(decodeRequest(text!)).toEqual({
      i: 7,
      r: "req-1",
      m: "GET",
      u: "http://h/x?y=1",
      h: ["host", "h", "x-a", ""],
      p: { id: "42", "*": "a/b" },
    });
  });

  it("refuses parameters holding a NUL, which the object form carries instead", () => {
    expect(encodeRequest(1, "r", "GET", "http://h/", [], { id: "a\0b" })).toBeUndefined();
  });

  it("round-trips a response whose body holds separators", () => {
    const text = encodeResponse(3, 201, ["content-type", "text/plain", "x", "y"], "a\0b\0");
    expect(decodeResponse(text)).toEqual({
      i: 3,
      s: 201,
      h: ["content-type", "text/plain", "x", "y"],
      b: "a\0b\0",
    });
    expect(decodeResponse(encodeResponse(4, 204, [], ""))).toEqual({ i: 4, s: 204, h: [], b: "" });
  });
});

describe("durations", () => {
  it("parses numbers and unit strings", () => {
    expect(parseDuration(250)).toBe(250);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("7d")).toBe(604_800_000);
  });

  it("refuses anything else, naming the field", () => {
    expect(() => parseDuration("soon", "timeout")).toThrow(/timeout/);
    expect(() => parseDuration(-1)).toThrow();
  });
});

describe("secret redaction", () => {
  it("replaces every secret value in text and fields", () => {
    const redactor = new Redactor(["hunter22", "abc"]);
    expect(redactor.text("pw=hunter22; again hunter22")).toBe("pw=[redacted]; again [redacted]");
    expect(redactor.fields({ nested: { pw: "hunter22" } })).toEqual({ nested: { pw: "[redacted]" } });
    // Values too short to be secrets are left alone rather than blanking ordinary words.
    expect(redactor.text("abc")).toBe("abc");
  });
});
