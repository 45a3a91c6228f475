import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { detectContentType, headBytes } from "../../examples/file-pipeline/functions/_lib/detect.js";
import { CorruptFileError } from "../../examples/file-pipeline/functions/_lib/images.js";
import { Inspector, inspect } from "../../examples/file-pipeline/functions/_lib/inspect.js";
import { makeCorruptPng, makeGif, makeJpeg, makePng } from "../helpers/images.js";

/** Feed `bytes` in chunks of `size` (the stream a blob read delivers), then finish. */
function facts(bytes: Uint8Array, size = 65_536) {
  const inspector = new Inspector();
  for (let i = 0; i < bytes.length; i += size) inspector.write(bytes.subarray(i, i + size));
  return inspector.finish();
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("examples/file-pipeline: what processing learns from a file's bytes", () => {
  it("counts the lines and words of UTF-8 text, whatever the chunking", () => {
    const text = Buffer.from("héllo wörld\n  second\tline  here \n\nlast line without newline");
    for (const size of [1, 3, 7, 1000]) {
      expect(facts(text, size)).toEqual({
        size: text.length,
        sha256: sha256(text),
        contentType: "text/plain; charset=utf-8",
        text: { lines: 4, words: 9 },
      });
    }
    expect(facts(Buffer.from("one\ntwo\n")).text).toEqual({ lines: 2, words: 2 });
    expect(facts(Buffer.alloc(0))).toMatchObject({ size: 0, text: { lines: 0, words: 0 } });
  });

  it("takes text whose head ends inside a multi-byte character for text", () => {
    const text = Buffer.from(`${"a".repeat(headBytes - 1)}é and more`);
    expect(facts(text, 100)).toMatchObject({
      contentType: "text/plain; charset=utf-8",
      text: { lines: 1, words: 3 },
    });
  });

  it("hashes a large stream without keeping it", async () => {
    const bytes = randomBytes(8 * 1024 * 1024);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 100_000) controller.enqueue(bytes.subarray(i, i + 100_000));
        controller.close();
      },
    });
    expect(await inspect(body)).toEqual({
      size: bytes.length,
      sha256: sha256(bytes),
      contentType: "application/octet-stream",
    });
  });

  it("reads PNG, GIF and JPEG dimensions from their headers", () => {
    expect(facts(makePng(640, 480))).toMatchObject({
      contentType: "image/png",
      image: { width: 640, height: 480 },
    });
    expect(facts(makeGif(33, 21))).toMatchObject({
      contentType: "image/gif",
      image: { width: 33, height: 21 },
    });
    expect(facts(makeJpeg(1920, 1080))).toMatchObject({
      contentType: "image/jpeg",
      image: { width: 1920, height: 1080 },
    });
    expect(facts(makeJpeg(300, 200, { progressive: true }), 5).image).toEqual({ width: 300, height: 200 });
  });

  it("finds a JPEG's frame header behind a large EXIF block, streaming", () => {
    const jpeg = makeJpeg(4000, 3000, { exifBytes: 60_000 });
    for (const size of [1, 1000, 65_536])
      expect(facts(jpeg, size).image).toEqual({ width: 4000, height: 3000 });
  });

  it("reads WebP (VP8X, VP8, VP8L) and BMP dimensions", () => {
    const riff = (chunk: string, data: number[]) =>
      Buffer.concat([
        Buffer.from("RIFF\0\0\0\0WEBP", "latin1"),
        Buffer.from(chunk, "latin1"),
        Buffer.from(data),
      ]);
    const vp8x = riff("VP8X", [10, 0, 0, 0, 0x10, 0, 0, 0, 0xff, 0x03, 0, 0x1f, 0x02, 0]);
    expect(facts(vp8x)).toMatchObject({ contentType: "image/webp", image: { width: 1024, height: 544 } });
    const vp8 = riff("VP8 ", [0, 0, 0, 0, 0, 0, 0, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0xe0, 0x01]);
    expect(facts(vp8).image).toEqual({ width: 640, height: 480 });
    // VP8L: 14 bits width - 1, then 14 bits height - 1, little-endian: 100x50
    const bits = 99 | (49 << 14);
    const vp8l = riff("VP8L", [
      0,
      0,
      0,
      0,
      0x2f,
      bits & 0xff,
      (bits >> 8) & 0xff,
      (bits >> 16) & 0xff,
      bits >>> 24,
    ]);
    expect(facts(vp8l).image).toEqual({ width: 100, height: 50 });

    const bmp = Buffer.alloc(70);
    bmp.write("BM", "latin1");
    bmp.writeUInt32LE(bmp.length, 2);
    bmp.writeInt32LE(40, 14);
    bmp.writeInt32LE(12, 18);
    bmp.writeInt32LE(-7, 22); // top-down rows
    expect(facts(bmp)).toMatchObject({ contentType: "image/bmp", image: { width: 12, height: 7 } });
    expect(facts(Buffer.from("BM is how this text starts")).contentType).toBe("text/plain; charset=utf-8");
  });

  it("detects formats by their magic numbers", () => {
    const type = (bytes: Uint8Array | string) => {
      const buffer = typeof bytes === "string" ? Buffer.from(bytes, "latin1") : bytes;
      return detectContentType(buffer, buffer.length);
    };
    expect(type("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj")).toBe("application/pdf");
    expect(type("PK\x03\x04\x14\0\0\0\x08\0")).toBe("application/zip");
    expect(type(gzipSync("hello"))).toBe("application/gzip");
    expect(type("GIF87a\x01\0\x01\0")).toBe("image/gif");
    expect(type("\0\0\0\x18ftypmp42\0\0\0\0")).toBe("video/mp4");
    expect(type("\0\0\0\x18ftypheic\0\0\0\0")).toBe("image/heic");
    expect(type("RIFF\0\0\0\0WAVEfmt ")).toBe("audio/wav");
    expect(type("\xff\xfeh\0i\0")).toBe("text/plain; charset=utf-16le");
    expect(type("plain words\r\n\tand a tab")).toBe("text/plain; charset=utf-8");
    expect(type("text with a \0 NUL")).toBe("application/octet-stream");
    expect(type(Buffer.from([0xc3, 0x28, 0x41]))).toBe("application/octet-stream"); // invalid UTF-8
  });

  it("refuses images whose headers are broken", () => {
    expect(() => facts(makeCorruptPng())).toThrow(CorruptFileError);
    expect(() => facts(makeCorruptPng())).toThrow(/CRC/);
    expect(() => facts(Buffer.from("\x89PNG\r\n\x1a\nshort", "latin1"))).toThrow(/ends inside its header/);
    const jpeg = makeJpeg(10, 10, { exifBytes: 5000 });
    expect(() => facts(jpeg.subarray(0, 3000))).toThrow(/ends before a frame header/);
    const noFrame = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xda, 0, 2]), Buffer.alloc(10)]);
    expect(() => facts(noFrame)).toThrow(/image data before any frame header/);
    const garbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0]), Buffer.from("junk")]);
    expect(() => facts(garbage)).toThrow(/expected a marker/);
    expect(() => facts(makeGif(0, 5))).toThrow(/0×5/);
  });
});
