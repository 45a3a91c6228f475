/**
 * What the pipeline learns about a file, in one pass over its bytes as they stream in: the size and
 * SHA-256 of everything, the content type from the first bytes, image dimensions from the headers,
 * and for text the lines and words. Nothing but the first `headBytes` is kept.
 */
import { createHash } from "node:crypto";
import { detectContentType, headBytes, utf8Text } from "./detect.js";
import {
  bmpDimensions,
  gifDimensions,
  JpegScanner,
  pngDimensions,
  webpDimensions,
  type Dimensions,
} from "./images.js";

export type FileFacts = {
  size: number;
  sha256: string;
  /** Detected from the bytes, whatever the uploader declared. */
  contentType: string;
  /** Images whose header gives a size. */
  image?: Dimensions;
  /** UTF-8 text: lines (a last line without a newline counts) and whitespace-separated words. */
  text?: { lines: number; words: number };
};

/** Space, \t, \n, \v, \f, \r. */
const isSpace = new Uint8Array(256);
for (const byte of [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d]) isSpace[byte] = 1;

export class Inspector {
  private readonly hash = createHash("sha256");
  private readonly head = new Uint8Array(headBytes);
  private headLength = 0;
  private size = 0;
  private newlines = 0;
  private words = 0;
  private inWord = false;
  private lastByte = -1;
  /** Counting text stops as soon as the head shows the file is not text. */
  private countText = true;
  /** Fed from the first byte; what it found matters only if the file turns out to be a JPEG. */
  private readonly jpeg = new JpegScanner();

  write(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.hash.update(chunk);
    if (this.headLength < headBytes) {
      const take = Math.min(headBytes - this.headLength, chunk.length);
      this.head.set(chunk.subarray(0, take), this.headLength);
      this.headLength += take;
      if (this.headLength === headBytes && this.countText) {
        this.countText = detectContentType(this.head, Infinity) === utf8Text;
      }
    }
    if (!this.jpeg.done) this.jpeg.write(chunk);
    if (this.countText) this.count(chunk);
    this.size += chunk.length;
    this.lastByte = chunk[chunk.length - 1]!;
  }

  /** The facts; throws a CorruptFileError for an image whose header is broken. */
  finish(): FileFacts {
    const head = this.head.subarray(0, this.headLength);
    const contentType = detectContentType(head, this.size);
    const facts: FileFacts = {
      size: this.size,
      sha256: this.hash.digest("hex"),
      contentType,
    };
    const image = this.dimensions(contentType, head);
    if (image !== undefined) facts.image = image;
    if (contentType === utf8Text) {
      const partialLine = this.size > 0 && this.lastByte !== 0x0a ? 1 : 0;
      facts.text = { lines: this.newlines + partialLine, words: this.words };
    }
    return facts;
  }

  private dimensions(contentType: string, head: Uint8Array): Dimensions | undefined {
    switch (contentType) {
      case "image/png":
        return pngDimensions(head);
      case "image/jpeg":
        return this.jpeg.finish();
      case "image/gif":
        return gifDimensions(head);
      case "image/webp":
        return webpDimensions(head);
      case "image/bmp":
        return bmpDimensions(head);
      default:
        return undefined;
    }
  }

  private count(chunk: Uint8Array): void {
    let { newlines, words, inWord } = this;
    for (let i = 0; i < chunk.length; i++) {
      const byte = chunk[i]!;
      if (byte === 0x0a) newlines++;
      if (isSpace[byte] === 1) inWord = false;
      else if (!inWord) {
        inWord = true;
        words++;
      }
    }
    this.newlines = newlines;
    this.words = words;
    this.inWord = inWord;
  }
}

/** Read a stream to its end through an Inspector. */
export async function inspect(body: ReadableStream<Uint8Array>): Promise<FileFacts> {
  const inspector = new Inspector();
  const reader = body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      inspector.write(value);
    }
  } finally {
    reader.releaseLock();
  }
  return inspector.finish();
}
