/**
 * Image dimensions read from headers: PNG (IHDR, CRC checked), GIF (logical screen), WebP (VP8,
 * VP8L, VP8X), BMP from the first bytes; JPEG by walking its segments up to the first SOF marker
 * as the bytes stream past, so a large EXIF block before it costs nothing to hold.
 */

export interface Dimensions {
  width: number;
  height: number;
}

/** The file claims a format its bytes do not follow: processing it again will not help. */
export class CorruptFileError extends Error {
  override readonly name = "CorruptFileError";
}

const u16be = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const u16le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8);
const u24le = (b: Uint8Array, at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
const u32be = (b: Uint8Array, at: number) =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
const i32le = (b: Uint8Array, at: number) =>
  b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);

function positive(format: string, width: number, height: number): Dimensions {
  if (width <= 0 || height <= 0) {
    throw new CorruptFileError(`${format}: the header gives a size of ${width}×${height}`);
  }
  return { width, height };
}

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (the one PNG chunks carry). */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of bytes) c = crcTable[(c ^ byte) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** PNG: the IHDR chunk must come first, be 13 bytes long and match its CRC. */
export function pngDimensions(head: Uint8Array): Dimensions {
  if (head.length < 33) throw new CorruptFileError("PNG: the file ends inside its header");
  const type = String.fromCharCode(...head.subarray(12, 16));
  if (u32be(head, 8) !== 13 || type !== "IHDR")
    throw new CorruptFileError("PNG: the first chunk is not a 13-byte IHDR");
  if (crc32(head.subarray(12, 29)) !== u32be(head, 29))
    throw new CorruptFileError("PNG: the IHDR chunk fails its CRC check");
  return positive("PNG", u32be(head, 16), u32be(head, 20));
}

export function gifDimensions(head: Uint8Array): Dimensions {
  if (head.length < 10) throw new CorruptFileError("GIF: the file ends inside its header");
  return positive("GIF", u16le(head, 6), u16le(head, 8));
}

export function webpDimensions(head: Uint8Array): Dimensions {
  const chunk = String.fromCharCode(...head.subarray(12, 16));
  if (chunk === "VP8X" && head.length >= 30) {
    return positive("WebP", u24le(head, 24) + 1, u24le(head, 27) + 1);
  }
  if (chunk === "VP8 " && head.length >= 30) {
    if (head[23] !== 0x9d || head[24] !== 0x01 || head[25] !== 0x2a)
      throw new CorruptFileError("WebP: a VP8 frame without its start code");
    return positive("WebP", u16le(head, 26) & 0x3fff, u16le(head, 28) & 0x3fff);
  }
  if (chunk === "VP8L" && head.length >= 25) {
    if (head[20] !== 0x2f) throw new CorruptFileError("WebP: a VP8L chunk without its signature");
    const bits = (head[21]! | (head[22]! << 8) | (head[23]! << 16) | (head[24]! << 24)) >>> 0;
    return positive("WebP", (bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }
  throw new CorruptFileError(`WebP: no VP8, VP8L or VP8X chunk at the start (found "${chunk}")`);
}

/** BMP: the info header's size says where the dimensions are; unknown headers give none. */
export function bmpDimensions(head: Uint8Array): Dimensions | undefined {
  if (head.length < 26) return undefined;
  const infoSize = i32le(head, 14);
  if (infoSize === 12) return positive("BMP", u16le(head, 18), u16le(head, 20));
  if (infoSize >= 40) return positive("BMP", i32le(head, 18), Math.abs(i32le(head, 22)));
  return undefined;
}

/** SOF0–SOF15 except DHT (C4), JPG (C8) and DAC (CC): the frame header with the dimensions. */
const isStartOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** Markers without a length: TEM, RST0–7, SOI (EOI ends the walk). */
const isStandalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);

/**
 * Walks a JPEG's segments as its bytes arrive: reads each marker and length, skips the segment's
 * body without keeping it, and stops at the first start-of-frame. Holds at most 7 bytes. Bytes
 * that break the format stop the walk; `finish` reports why.
 */
export class JpegScanner {
  private offset = 0;
  private skip = 0;
  private state: "soi" | "marker" | "code" | "length" | "frame" | "done" = "soi";
  private marker = 0;
  private buffer: number[] = [];
  private found: Dimensions | undefined;
  private error: CorruptFileError | undefined;

  get done(): boolean {
    return this.state === "done";
  }

  write(chunk: Uint8Array): void {
    let i = 0;
    try {
      while (i < chunk.length && this.state !== "done") {
        if (this.skip > 0) {
          const n = Math.min(this.skip, chunk.length - i);
          this.skip -= n;
          i += n;
          this.offset += n;
          continue;
        }
        this.step(chunk[i]!);
        i++;
        this.offset++;
      }
    } catch (error) {
      this.error = error as CorruptFileError;
      this.state = "done";
    }
  }

  /** The dimensions; throws if the bytes ended before a frame header or broke the format. */
  finish(): Dimensions {
    if (this.error !== undefined) throw this.error;
    if (this.found === undefined)
      throw new CorruptFileError("JPEG: the file ends before a frame header (SOF) gives its size");
    return this.found;
  }

  private step(byte: number): void {
    switch (this.state) {
      case "soi":
        this.buffer.push(byte);
        if (this.buffer.length === 2) {
          if (this.buffer[0] !== 0xff || this.buffer[1] !== 0xd8)
            throw new CorruptFileError("JPEG: no start-of-image marker");
          this.buffer = [];
          this.state = "marker";
        }
        return;
      case "marker":
        if (byte !== 0xff) {
          throw new CorruptFileError(
            `JPEG: expected a marker at byte ${this.offset}, found 0x${byte.toString(16)}`,
          );
        }
        this.state = "code";
        return;
      case "code":
        if (byte === 0xff) return; // fill bytes before a marker
        if (byte === 0xd9 || byte === 0xda) {
          throw new CorruptFileError(
            `JPEG: ${byte === 0xd9 ? "end of image" : "image data"} before any frame header (SOF)`,
          );
        }
        if (byte === 0x00) throw new CorruptFileError(`JPEG: a stray 0xFF00 at byte ${this.offset - 1}`);
        this.marker = byte;
        this.state = isStandalone(byte) ? "marker" : "length";
        return;
      case "length":
        this.buffer.push(byte);
        if (this.buffer.length === 2) {
          const length = (this.buffer[0]! << 8) | this.buffer[1]!;
          this.buffer = [];
          if (length < 2) throw new CorruptFileError(`JPEG: a segment length of ${length}`);
          if (isStartOfFrame(this.marker)) {
            if (length < 7) throw new CorruptFileError("JPEG: a frame header too short for a size");
            this.state = "frame";
          } else {
            this.skip = length - 2;
            this.state = "marker";
          }
        }
        return;
      case "frame":
        // precision (1 byte), height (2), width (2)
        this.buffer.push(byte);
        if (this.buffer.length === 5) {
          const bytes = Uint8Array.from(this.buffer);
          this.found = positive("JPEG", u16be(bytes, 3), u16be(bytes, 1));
          this.buffer = [];
          this.state = "done";
        }
        return;
      case "done":
        return;
    }
  }
}
