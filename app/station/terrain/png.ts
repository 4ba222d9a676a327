// Just enough PNG for terrain tiles: 8-bit grey, RGB, RGBA and palette images, not interlaced.
// Terrain-RGB and Terrarium tiles are all of these; a full image library would be dead weight.

import { crc32, deflateSync, inflateSync } from 'node:zlib';

export interface RgbaImage {
  width: number;
  height: number;
  /** Four bytes a pixel, row-major. */
  rgba: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** 8192 x 8192 is far beyond any tile; it stops a forged header from asking for gigabytes. */
const MAX_PIXELS = 8192 * 8192;

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a PNG; throws an Error naming what it cannot read. */
export function decodePng(data: Buffer): RgbaImage {
  if (data.length < 8 || !data.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  let offset = 8;
  let width = 0;
  let height = 0;
  let colourType = -1;
  let palette: Buffer | null = null;
  let transparency: Buffer | null = null;
  const idat: Buffer[] = [];
  while (offset + 12 <= data.length) {
    const length = data.readUInt32BE(offset);
    const type = data.toString('latin1', offset + 4, offset + 8);
    const body = data.subarray(offset + 8, offset + 8 + length);
    if (body.length !== length) throw new Error(`PNG chunk ${type} is cut short`);
    offset += 12 + length;
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const bitDepth = body[8];
      colourType = body[9];
      if (bitDepth !== 8) throw new Error(`PNG bit depth ${bitDepth} is not supported (8 only)`);
      if (!(colourType in CHANNELS)) throw new Error(`PNG colour type ${colourType} is unknown`);
      if (body[12] !== 0) throw new Error('interlaced PNGs are not supported');
      if (width === 0 || height === 0 || width * height > MAX_PIXELS) {
        throw new Error(`PNG size ${width}x${height} is not supported`);
      }
    } else if (type === 'PLTE') {
      palette = body;
    } else if (type === 'tRNS') {
      transparency = body;
    } else if (type === 'IDAT') {
      idat.push(body);
    } else if (type === 'IEND') {
      break;
    }
  }
  if (colourType < 0) throw new Error('PNG has no header (IHDR)');
  if (colourType === 3 && !palette) throw new Error('palette PNG has no palette (PLTE)');
  const channels = CHANNELS[colourType];
  const stride = width * channels;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (error) {
    throw new Error(`PNG image data is corrupt: ${(error as Error).message}`);
  }
  if (raw.length < (stride + 1) * height) {
    throw new Error(`PNG image data has ${raw.length} bytes, ${(stride + 1) * height} needed`);
  }
  const pixels = new Uint8Array(stride * height);
  for (let row = 0; row < height; row += 1) {
    const filter = raw[row * (stride + 1)];
    const source = row * (stride + 1) + 1;
    const target = row * stride;
    for (let i = 0; i < stride; i += 1) {
      const left = i >= channels ? pixels[target + i - channels] : 0;
      const up = row > 0 ? pixels[target - stride + i] : 0;
      const upLeft = row > 0 && i >= channels ? pixels[target - stride + i - channels] : 0;
      const value = raw[source + i];
      let predicted: number;
      if (filter === 0) predicted = 0;
      else if (filter === 1) predicted = left;
      else if (filter === 2) predicted = up;
      else if (filter === 3) predicted = (left + up) >> 1;
      else if (filter === 4) predicted = paeth(left, up, upLeft);
      else throw new Error(`PNG row ${row} has unknown filter ${filter}`);
      pixels[target + i] = (value + predicted) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i += 1) {
    const p = i * channels;
    let [r, g, b, a] = [0, 0, 0, 255];
    if (colourType === 0) [r, g, b] = [pixels[p], pixels[p], pixels[p]];
    else if (colourType === 4) [r, g, b, a] = [pixels[p], pixels[p], pixels[p], pixels[p + 1]];
    else if (colourType === 2) [r, g, b] = [pixels[p], pixels[p + 1], pixels[p + 2]];
    else if (colourType === 6) {
      [r, g, b, a] = [pixels[p], pixels[p + 1], pixels[p + 2], pixels[p + 3]];
    } else {
      const index = pixels[p];
      if (!palette || index * 3 + 2 >= palette.length) {
        throw new Error(`PNG palette index ${index} is outside the palette`);
      }
      [r, g, b] = [palette[index * 3], palette[index * 3 + 1], palette[index * 3 + 2]];
      a = transparency && index < transparency.length ? transparency[index] : 255;
    }
    rgba.set([r, g, b, a], i * 4);
  }
  return { width, height, rgba };
}

function chunk(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(body.length, 0);
  header.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([header.subarray(4), body])) >>> 0, 0);
  return Buffer.concat([header, body, crc]);
}

/** Encodes an RGBA image as an 8-bit RGBA PNG (used to make terrain tiles for tests). */
export function encodePng(image: RgbaImage): Buffer {
  const { width, height, rgba } = image;
  if (rgba.length !== width * height * 4) {
    throw new Error(`RGBA data has ${rgba.length} bytes, not ${width}x${height}x4`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8;
  header[9] = 6;
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let row = 0; row < height; row += 1) {
    raw[row * (width * 4 + 1)] = 0;
    raw.set(rgba.subarray(row * width * 4, (row + 1) * width * 4), row * (width * 4 + 1) + 1);
  }
  return Buffer.concat([
    SIGNATURE,
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
