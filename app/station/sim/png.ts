// Reads the bear cut-out for the simulator's camera: 8-bit RGB or RGBA PNGs, not interlaced,
// on node:zlib, so the simulator needs no image library.

import { inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface RgbaImage {
  width: number;
  height: number;
  /** Row-major, 4 bytes a pixel, alpha last. */
  rgba: Uint8Array;
}

function paeth(left: number, up: number, upLeft: number): number {
  const p = left + up - upLeft;
  const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
  if (pa <= pb && pa <= pc) return left;
  return pb <= pc ? up : upLeft;
}

/** Decodes an 8-bit RGB or RGBA PNG into RGBA; `what` names the file in errors. */
export function decodePngRgba(png: Uint8Array, what: string): RgbaImage {
  const bytes = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (bytes.length < 8 || !bytes.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error(`${what} is not a PNG (no PNG signature)`);
  }
  let offset = 8;
  let header: Buffer | null = null;
  const data: Buffer[] = [];
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > bytes.length) throw new Error(`${what}: ${type} chunk is cut off`);
    const body = bytes.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  if (!header || header.length < 13) throw new Error(`${what}: no PNG header (IHDR)`);
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const [bitDepth, colourType, , , interlace] = header.subarray(8, 13);
  if (bitDepth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) {
    throw new Error(
      `${what}: only 8-bit RGB or RGBA PNGs without interlacing are read ` +
        `(bit depth ${bitDepth}, colour type ${colourType}, interlace ${interlace})`,
    );
  }
  const channels = colourType === 6 ? 4 : 3;
  const stride = width * channels;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(data));
  } catch (error) {
    throw new Error(`${what}: image data does not inflate (${(error as Error).message})`);
  }
  if (raw.length !== (stride + 1) * height) {
    throw new Error(`${what}: image data holds ${raw.length} bytes, not ${(stride + 1) * height}`);
  }
  const pixels = new Uint8Array(stride * height);
  for (let row = 0; row < height; row++) {
    const filter = raw[row * (stride + 1)];
    if (filter > 4) throw new Error(`${what}: unknown row filter ${filter} in row ${row}`);
    const line = row * (stride + 1) + 1;
    const out = row * stride;
    for (let i = 0; i < stride; i++) {
      const left = i >= channels ? pixels[out + i - channels] : 0;
      const up = row > 0 ? pixels[out - stride + i] : 0;
      const upLeft = row > 0 && i >= channels ? pixels[out - stride + i - channels] : 0;
      let predictor = 0;
      if (filter === 1) predictor = left;
      else if (filter === 2) predictor = up;
      else if (filter === 3) predictor = (left + up) >> 1;
      else if (filter === 4) predictor = paeth(left, up, upLeft);
      pixels[out + i] = (raw[line + i] + predictor) & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < pixels.length; i += 3, j += 4) {
    rgba[j] = pixels[i];
    rgba[j + 1] = pixels[i + 1];
    rgba[j + 2] = pixels[i + 2];
    rgba[j + 3] = 255;
  }
  return { width, height, rgba };
}
