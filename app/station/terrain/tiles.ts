// Terrain tiles the user brings: a folder z/x/y.png of Terrarium or Mapbox Terrain-RGB tiles,
// the two common ways of packing heights into PNG colours. Tiles are read when a ray first
// crosses them and a few dozen are kept decoded.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

import { createLogger } from '../../core/log';
import { TiledTerrain, type ElevationTiles } from '../../core/terrain';
import { decodePng, type RgbaImage } from './png';

const log = createLogger('terrain');

export type TileEncoding = 'terrarium' | 'mapbox';

/** Decoded tiles kept: 64 tiles of 512 x 512 floats is 64 MiB at most. */
const CACHE_TILES = 64;

/** Heights in metres from a tile's colours; a fully transparent pixel has none (NaN). */
export function decodeHeights(image: RgbaImage, encoding: TileEncoding): Float32Array {
  const { rgba } = image;
  const heights = new Float32Array(image.width * image.height);
  for (let i = 0; i < heights.length; i += 1) {
    const [r, g, b, a] = [rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2], rgba[i * 4 + 3]];
    if (a === 0) heights[i] = Number.NaN;
    else if (encoding === 'terrarium') heights[i] = r * 256 + g + b / 256 - 32768;
    else heights[i] = -10000 + (r * 65536 + g * 256 + b) * 0.1;
  }
  return heights;
}

/** The colours that encode a height (used to make test tiles). */
export function encodeHeight(heightM: number, encoding: TileEncoding): [number, number, number] {
  if (encoding === 'terrarium') {
    const value = heightM + 32768;
    const r = Math.floor(value / 256);
    const g = Math.floor(value - r * 256);
    const b = Math.round((value - r * 256 - g) * 256);
    return b === 256 ? [r, g + 1, 0] : [r, g, b];
  }
  const value = Math.round((heightM + 10000) * 10);
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff];
}

function numericEntries(dir: string): number[] {
  return readdirSync(dir)
    .filter((name) => /^\d+$/.test(name) && statSync(path.join(dir, name)).isDirectory())
    .map(Number)
    .sort((a, b) => a - b);
}

/**
 * Opens a folder of terrain tiles at its highest zoom (or `zoom`). Throws an Error naming the
 * folder when it holds no tiles or its first tile does not decode.
 */
export function openTerrainTiles(dir: string, encoding: TileEncoding, zoom?: number): TiledTerrain {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`terrain tiles: ${dir} is not a folder`);
  }
  const zooms = numericEntries(dir);
  if (zooms.length === 0) {
    throw new Error(`terrain tiles: ${dir} has no zoom folders (expected z/x/y.png)`);
  }
  const z = zoom ?? zooms[zooms.length - 1];
  if (!zooms.includes(z)) {
    throw new Error(`terrain tiles: ${dir} has no zoom ${z} (it has ${zooms.join(', ')})`);
  }
  // One tile to learn the tile size and roughly where on Earth the folder is.
  let first: { x: number; y: number; file: string } | null = null;
  for (const x of numericEntries(path.join(dir, String(z)))) {
    const names = readdirSync(path.join(dir, String(z), String(x))).filter((name) =>
      /^\d+\.png$/.test(name),
    );
    if (names.length > 0) {
      const file = path.join(dir, String(z), String(x), names[0]);
      first = { x, y: parseInt(names[0], 10), file };
      break;
    }
  }
  if (!first) throw new Error(`terrain tiles: ${dir}/${z} holds no x/y.png tiles`);
  let sample: RgbaImage;
  try {
    sample = decodePng(readFileSync(first.file));
  } catch (error) {
    throw new Error(`terrain tiles: ${first.file}: ${(error as Error).message}`);
  }
  if (sample.width !== sample.height) {
    throw new Error(`terrain tiles: ${first.file} is ${sample.width}x${sample.height}, not square`);
  }
  const tileSize = sample.width;
  const cache = new Map<string, Float32Array | null>();
  const warned = new Set<string>();
  const tiles: ElevationTiles = {
    zoom: z,
    tileSize,
    tile(x: number, y: number): Float32Array | null {
      const key = `${x}/${y}`;
      const cached = cache.get(key);
      if (cached !== undefined) {
        // Most recently used last, so the oldest is the first to go.
        cache.delete(key);
        cache.set(key, cached);
        return cached;
      }
      const file = path.join(dir, String(z), String(x), `${y}.png`);
      let heights: Float32Array | null = null;
      if (existsSync(file)) {
        try {
          const image = decodePng(readFileSync(file));
          if (image.width !== tileSize || image.height !== tileSize) {
            throw new Error(`is ${image.width}x${image.height}, not ${tileSize}x${tileSize}`);
          }
          heights = decodeHeights(image, encoding);
        } catch (error) {
          // One bad tile is a hole in the model, not a reason to stop georeferencing.
          if (!warned.has(file)) log.warn(`terrain tile ${file}: ${(error as Error).message}`);
          warned.add(file);
        }
      }
      cache.set(key, heights);
      if (cache.size > CACHE_TILES) cache.delete(cache.keys().next().value as string);
      return heights;
    },
  };
  const n = Math.PI * (1 - (2 * (first.y + 0.5)) / 2 ** z);
  const centreLatDeg = (Math.atan(Math.sinh(n)) * 180) / Math.PI;
  return new TiledTerrain(tiles, `${encoding} tiles ${dir} at zoom ${z}`, centreLatDeg);
}
