// Writes small elevation models for tests: GeoTIFFs (a minimal writer, so tests need nothing
// beyond Node) and Terrarium / Terrain-RGB tile folders.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';

import { encodePng } from '../../app/station/terrain/png';
import { encodeHeight, type TileEncoding } from '../../app/station/terrain/tiles';
import type { LatLon } from '../../app/core/types';

export interface TiffSpec {
  width: number;
  height: number;
  /** Band-interleaved by pixel when bands > 1. */
  values: Float32Array | Int16Array;
  bands?: number;
  /** EPSG code: 4326 geographic, anything else projected. */
  epsg: number;
  /** Size of a pixel in CRS units, x then y (both positive). */
  pixelScale: [number, number];
  /** The raster position (column, row) and the CRS coordinates it sits at. */
  tiepoint: [number, number, number, number];
  noData?: string;
  pixelIsPoint?: boolean;
  deflate?: boolean;
}

type Entry = { tag: number; type: number; values: number[] | string };
const TYPE_SIZE: Record<number, number> = { 2: 1, 3: 2, 4: 4, 12: 8 };

export function writeGeoTiff(file: string, spec: TiffSpec): void {
  const bands = spec.bands ?? 1;
  const isFloat = spec.values instanceof Float32Array;
  const bytes = Buffer.from(spec.values.buffer, spec.values.byteOffset, spec.values.byteLength);
  const strip = spec.deflate ? deflateSync(bytes) : bytes;
  const projected = spec.epsg !== 4326;
  const geoKeys = [
    1,
    1,
    0,
    3,
    1024,
    0,
    1,
    projected ? 1 : 2,
    1025,
    0,
    1,
    spec.pixelIsPoint ? 2 : 1,
    projected ? 3072 : 2048,
    0,
    1,
    spec.epsg,
  ];
  const entries: Entry[] = [
    { tag: 256, type: 4, values: [spec.width] },
    { tag: 257, type: 4, values: [spec.height] },
    { tag: 258, type: 3, values: Array(bands).fill(isFloat ? 32 : 16) },
    { tag: 259, type: 3, values: [spec.deflate ? 8 : 1] },
    { tag: 262, type: 3, values: [1] },
    { tag: 273, type: 4, values: [0] },
    { tag: 277, type: 3, values: [bands] },
    { tag: 278, type: 4, values: [spec.height] },
    { tag: 279, type: 4, values: [strip.length] },
    { tag: 284, type: 3, values: [1] },
    { tag: 339, type: 3, values: Array(bands).fill(isFloat ? 3 : 2) },
    { tag: 33550, type: 12, values: [spec.pixelScale[0], spec.pixelScale[1], 0] },
    {
      tag: 33922,
      type: 12,
      values: [spec.tiepoint[0], spec.tiepoint[1], 0, spec.tiepoint[2], spec.tiepoint[3], 0],
    },
    { tag: 34735, type: 3, values: geoKeys },
  ];
  if (spec.noData !== undefined) entries.push({ tag: 42113, type: 2, values: `${spec.noData}\0` });

  const ifdOffset = 8;
  const ifdSize = 2 + entries.length * 12 + 4;
  let dataOffset = ifdOffset + ifdSize;
  const extra: Buffer[] = [];
  const ifd = Buffer.alloc(ifdSize);
  ifd.writeUInt16LE(entries.length, 0);
  const stripEntry = entries.find((e) => e.tag === 273) as Entry;
  // Lay out out-of-line values first, then the strip.
  const encoded = entries.map((entry) => {
    const count = typeof entry.values === 'string' ? entry.values.length : entry.values.length;
    const data = Buffer.alloc(count * TYPE_SIZE[entry.type]);
    if (typeof entry.values === 'string') data.write(entry.values, 'latin1');
    else {
      entry.values.forEach((value, i) => {
        if (entry.type === 3) data.writeUInt16LE(value, i * 2);
        else if (entry.type === 4) data.writeUInt32LE(value, i * 4);
        else data.writeDoubleLE(value, i * 8);
      });
    }
    return { entry, count, data };
  });
  const placed = encoded.map(({ entry, count, data }) => {
    if (data.length <= 4) return { entry, count, data, offset: -1 };
    const offset = dataOffset;
    dataOffset += data.length + (data.length % 2);
    extra.push(data, Buffer.alloc(data.length % 2));
    return { entry, count, data, offset };
  });
  const stripOffset = dataOffset;
  (stripEntry.values as number[])[0] = stripOffset;
  placed.forEach(({ entry, count, data, offset }, i) => {
    const base = 2 + i * 12;
    ifd.writeUInt16LE(entry.tag, base);
    ifd.writeUInt16LE(entry.type, base + 2);
    ifd.writeUInt32LE(count, base + 4);
    if (entry.tag === 273) ifd.writeUInt32LE(stripOffset, base + 8);
    else if (offset < 0) data.copy(ifd, base + 8);
    else ifd.writeUInt32LE(offset, base + 8);
  });
  const header = Buffer.from([0x49, 0x49, 42, 0, ifdOffset, 0, 0, 0]);
  writeFileSync(file, Buffer.concat([header, ifd, ...extra, strip]));
}

/** Writes every tile of `zoom` that covers `bounds`, heights from `heightAt`. */
export function writeTerrainTiles(
  dir: string,
  encoding: TileEncoding,
  zoom: number,
  bounds: { south: number; west: number; north: number; east: number },
  heightAt: (point: LatLon) => number,
  tileSize = 256,
): number {
  const n = 2 ** zoom;
  const tileX = (lonDeg: number): number => Math.floor(((lonDeg + 180) / 360) * n);
  const tileY = (latDeg: number): number => {
    const lat = (latDeg * Math.PI) / 180;
    return Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * n);
  };
  let written = 0;
  for (let x = tileX(bounds.west); x <= tileX(bounds.east); x += 1) {
    for (let y = tileY(bounds.north); y <= tileY(bounds.south); y += 1) {
      const rgba = new Uint8Array(tileSize * tileSize * 4);
      for (let row = 0; row < tileSize; row += 1) {
        const py = (y * tileSize + row + 0.5) / (tileSize * n);
        const latDeg = (Math.atan(Math.sinh(Math.PI * (1 - 2 * py))) * 180) / Math.PI;
        for (let column = 0; column < tileSize; column += 1) {
          const px = (x * tileSize + column + 0.5) / (tileSize * n);
          const height = heightAt({ latDeg, lonDeg: px * 360 - 180 });
          const i = (row * tileSize + column) * 4;
          if (Number.isNaN(height)) continue;
          rgba.set([...encodeHeight(height, encoding), 255], i);
        }
      }
      mkdirSync(path.join(dir, String(zoom), String(x)), { recursive: true });
      writeFileSync(
        path.join(dir, String(zoom), String(x), `${y}.png`),
        encodePng({ width: tileSize, height: tileSize, rgba }),
      );
      written += 1;
    }
  }
  return written;
}
