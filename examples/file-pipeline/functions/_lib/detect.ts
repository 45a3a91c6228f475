/**
 * Content type detection from a file's first bytes (magic numbers), without outside services. Only
 * the head of the file is looked at, plus its total size for the formats whose header records it.
 */

/** How many leading bytes detection and the image headers (other than JPEG's) need. */
export const headBytes = 4096;

interface Signature {
  type: string;
  test: (head: Uint8Array, size: number) => boolean;
}

const ascii = (text: string) => Array.from(text, (char) => char.charCodeAt(0));

/** `bytes` (numbers, or an ASCII string) appear at `offset`. */
export function startsWith(head: Uint8Array, bytes: number[] | string, offset = 0): boolean {
  const expected = typeof bytes === "string" ? ascii(bytes) : bytes;
  if (head.length < offset + expected.length) return false;
  return expected.every((byte, i) => head[offset + i] === byte);
}

const u32le = (head: Uint8Array, at: number) =>
  (head[at]! | (head[at + 1]! << 8) | (head[at + 2]! << 16) | (head[at + 3]! << 24)) >>> 0;

const heicBrands = new Set(["heic", "heix", "heim", "heis", "mif1", "msf1", "avif"]);

/** In order: the first that matches wins. */
const signatures: Signature[] = [
  { type: "image/png", test: (h) => startsWith(h, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: "image/jpeg", test: (h) => startsWith(h, [0xff, 0xd8, 0xff]) },
  { type: "image/gif", test: (h) => startsWith(h, "GIF87a") || startsWith(h, "GIF89a") },
  { type: "image/webp", test: (h) => startsWith(h, "RIFF") && startsWith(h, "WEBP", 8) },
  {
    // "BM" alone is too common a start of text: the header must also record the file's size.
    type: "image/bmp",
    test: (h, size) => startsWith(h, "BM") && h.length >= 18 && u32le(h, 2) === size,
  },
  { type: "image/tiff", test: (h) => startsWith(h, "II*\0") || startsWith(h, "MM\0*") },
  {
    type: "image/avif",
    test: (h) => startsWith(h, "ftyp", 4) && startsWith(h, "avif", 8),
  },
  {
    type: "image/heic",
    test: (h) => startsWith(h, "ftyp", 4) && heicBrands.has(String.fromCharCode(...h.subarray(8, 12))),
  },
  { type: "video/quicktime", test: (h) => startsWith(h, "ftyp", 4) && startsWith(h, "qt  ", 8) },
  { type: "video/mp4", test: (h) => startsWith(h, "ftyp", 4) },
  { type: "video/webm", test: (h) => startsWith(h, [0x1a, 0x45, 0xdf, 0xa3]) },
  { type: "application/pdf", test: (h) => startsWith(h, "%PDF-") },
  {
    type: "application/zip",
    test: (h) =>
      startsWith(h, [0x50, 0x4b, 0x03, 0x04]) ||
      startsWith(h, [0x50, 0x4b, 0x05, 0x06]) ||
      startsWith(h, [0x50, 0x4b, 0x07, 0x08]),
  },
  { type: "application/gzip", test: (h) => startsWith(h, [0x1f, 0x8b, 0x08]) },
  { type: "application/x-7z-compressed", test: (h) => startsWith(h, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { type: "application/wasm", test: (h) => startsWith(h, [0x00, 0x61, 0x73, 0x6d]) },
  { type: "audio/wav", test: (h) => startsWith(h, "RIFF") && startsWith(h, "WAVE", 8) },
  { type: "audio/ogg", test: (h) => startsWith(h, "OggS") },
  { type: "audio/flac", test: (h) => startsWith(h, "fLaC") },
  {
    type: "audio/mpeg",
    test: (h) => startsWith(h, "ID3") || (h[0] === 0xff && ((h[1] ?? 0) & 0xe6) === 0xe2),
  },
];

export const utf8Text = "text/plain; charset=utf-8";

/**
 * The detected content type of a file from its head (up to `headBytes`) and its size: a known
 * signature, else UTF-8 text (valid UTF-8 without control characters other than whitespace and
 * escape), UTF-16 text with a byte order mark, else `application/octet-stream`.
 */
export function detectContentType(head: Uint8Array, size: number): string {
  for (const signature of signatures) if (signature.test(head, size)) return signature.type;
  if (startsWith(head, [0xff, 0xfe])) return "text/plain; charset=utf-16le";
  if (startsWith(head, [0xfe, 0xff])) return "text/plain; charset=utf-16be";
  if (looksLikeUtf8Text(head, head.length === size)) return utf8Text;
  return "application/octet-stream";
}

/** Control characters that text files do contain: \t \n \v \f \r and ESC (terminal colours). */
const allowedControls = new Set([0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b]);

/**
 * Valid UTF-8 without other control characters. When `complete` is false the sample is the start
 * of a longer file, so a multi-byte character cut at its end is fine.
 */
export function looksLikeUtf8Text(sample: Uint8Array, complete: boolean): boolean {
  for (const byte of sample) if ((byte < 0x20 && !allowedControls.has(byte)) || byte === 0x7f) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: !complete });
    return true;
  } catch {
    return false;
  }
}
