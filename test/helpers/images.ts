import { crc32, deflateSync } from "node:zlib";

/**
 * Image files made in tests. The PNG is a complete, decodable image; the GIF and the JPEG have
 * valid headers (for the JPEG: JFIF, an optional EXIF-sized APP1, a quantization table, the frame
 * and scan headers) around filler image data, which is all a header reader looks at.
 */

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "latin1"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** An RGB PNG of the given size with a gradient. */
export function makePng(width: number, height: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8 bits per channel, RGB, deflate, no filter, no interlace
  const rows = Buffer.alloc(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    const row = y * (1 + width * 3);
    for (let x = 0; x < width; x++) rows.set([x % 256, y % 256, (x + y) % 256], row + 1 + x * 3);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", header),
    pngChunk("IDAT", deflateSync(rows)),
    pngChunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A PNG whose IHDR fails its CRC check: a deliberately corrupt image. */
export function makeCorruptPng(): Buffer {
  const png = makePng(4, 4);
  png[20] = png[20]! ^ 0xff; // a byte of the width, after the CRC was computed
  return png;
}

function segment(marker: number, data: Buffer): Buffer {
  const head = Buffer.from([0xff, marker, 0, 0]);
  head.writeUInt16BE(data.length + 2, 2);
  return Buffer.concat([head, data]);
}

/** A JPEG's headers around filler scan data; `exifBytes` puts an APP1 segment of that size first. */
export function makeJpeg(
  width: number,
  height: number,
  { exifBytes = 0, progressive = false }: { exifBytes?: number; progressive?: boolean } = {},
): Buffer {
  const parts: Buffer[] = [Buffer.from([0xff, 0xd8])];
  parts.push(segment(0xe0, Buffer.from("JFIF\0\x01\x01\0\0\x01\0\x01\0\0", "latin1")));
  if (exifBytes > 0) {
    const exif = Buffer.alloc(exifBytes, 0x2a);
    exif.write("Exif\0\0", "latin1");
    parts.push(segment(0xe1, exif));
  }
  parts.push(segment(0xdb, Buffer.concat([Buffer.from([0]), Buffer.alloc(64, 1)])));
  const frame = Buffer.from([8, 0, 0, 0, 0, 1, 1, 0x11, 0]);
  frame.writeUInt16BE(height, 1);
  frame.writeUInt16BE(width, 3);
  parts.push(Buffer.from([0xff, 0xff])); // a fill byte before the marker is allowed
  parts.push(segment(progressive ? 0xc2 : 0xc0, frame));
  parts.push(segment(0xc4, Buffer.concat([Buffer.from([0]), Buffer.alloc(16, 0), Buffer.alloc(0)])));
  parts.push(segment(0xda, Buffer.from([1, 1, 0, 0, 63, 0])));
  parts.push(Buffer.alloc(200, 0x55), Buffer.from([0xff, 0xd9]));
  return Buffer.concat(parts);
}

/** A GIF89a header of the given size. */
export function makeGif(width: number, height: number): Buffer {
  const screen = Buffer.alloc(7);
  screen.writeUInt16LE(width, 0);
  screen.writeUInt16LE(height, 2);
  screen.set([0x80, 0, 0], 4); // a global colour table of 2 entries
  const descriptor = Buffer.alloc(10);
  descriptor[0] = 0x2c;
  descriptor.writeUInt16LE(width, 5);
  descriptor.writeUInt16LE(height, 7);
  return Buffer.concat([
    Buffer.from("GIF89a", "latin1"),
    screen,
    Buffer.from([0, 0, 0, 0xff, 0xff, 0xff]),
    descriptor,
    Buffer.from([2, 2, 0x44, 0x01, 0, 0x3b]), // LZW minimum code size 2, one tiny block, trailer
  ]);
}
