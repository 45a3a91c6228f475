import { expect, it } from "vitest";
import { failure, publicUrl, type BlobsFixture } from "./harness.js";

function parse(url: string) {
  const parsed = new URL(url);
  const path = decodeURIComponent(parsed.pathname);
  const key = path.slice("/_cairn/blobs/conformance/".length);
  return { origin: parsed.origin, path, key, query: parsed.searchParams };
}

export function presignCases(fixture: () => BlobsFixture): void {
  it("signs a GET URL for one key that verifies until it expires", async () => {
    const { blobs, clock } = fixture();
    const url = await blobs.presign("reports/q1 #1.pdf", { expiresIn: "10m" });
    const { origin, path, key, query } = parse(url);
    expect(origin).toBe(publicUrl);
    expect(path).toBe("/_cairn/blobs/conformance/reports/q1 #1.pdf");
    expect(query.get("expires")).toBe(String(Math.floor(clock.now() / 1000) + 600));
    expect(blobs.verifyPresigned({ method: "GET", key, query })).toMatchObject({ method: "GET", key });
    expect(blobs.verifyPresigned({ method: "HEAD", key, query })).toMatchObject({ method: "GET" });
    clock.advance(599_000);
    expect(() => blobs.verifyPresigned({ method: "GET", key, query })).not.toThrow();
    clock.advance(1_000);
    expect(() => blobs.verifyPresigned({ method: "GET", key, query })).toThrow(
      expect.objectContaining({ code: "url_expired", status: 403 }),
    );
  });

  it("refuses a tampered URL, another key, another method", async () => {
    const { blobs } = fixture();
    const { key, query } = parse(
      await blobs.presign("a/b", { method: "PUT", contentType: "image/png", maxSize: 100 }),
    );
    expect(blobs.verifyPresigned({ method: "PUT", key, query })).toMatchObject({
      contentType: "image/png",
      maxSize: 100,
    });
    const invalid = expect.objectContaining({ code: "invalid_signature", status: 403 });
    expect(() => blobs.verifyPresigned({ method: "PUT", key: "a/c", query })).toThrow(invalid);
    expect(() => blobs.verifyPresigned({ method: "GET", key, query })).toThrow(invalid);
    for (const [name, value] of [
      ["expires", String(Number(query.get("expires")) + 3600)],
      ["content-type", "text/html"],
      ["max-size", "1000000"],
      ["method", "GET"],
      ["signature", "0".repeat(64)],
      ["signature", "zz"],
    ] as const) {
      const changed = new URLSearchParams(query);
      changed.set(name, value);
      expect(() => blobs.verifyPresigned({ method: "PUT", key, query: changed })).toThrow(invalid);
    }
    const dropped = new URLSearchParams(query);
    dropped.delete("max-size");
    expect(() => blobs.verifyPresigned({ method: "PUT", key, query: dropped })).toThrow(invalid);
    expect(() => blobs.verifyPresigned({ method: "PUT", key, query: new URLSearchParams() })).toThrow(
      invalid,
    );
  });

  it("limits expiry to 7 days and checks its options", async () => {
    const { blobs } = fixture();
    await blobs.presign("k", { expiresIn: "7d" });
    for (const options of [
      { expiresIn: "8d" },
      { expiresIn: 500 },
      { expiresIn: "soon" },
      { method: "DELETE" },
      { method: "GET", contentType: "text/plain" },
      { method: "PUT", maxSize: -1 },
    ]) {
      expect((await failure(blobs.presign("k", options as never))).code).toBe("invalid_argument");
    }
  });
}
