// A small, generated map around Conrad, Montana, so that tests and the headless station never
// fetch tiles from the internet. Each tile is a real PNG: a green field with a grid, its own
// z/x/y in block digits, and a red cross where the centre point lies.

import Database from 'better-sqlite3';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import type { LatLon } from '../../app/core/types';
import { latLonToTile, tileToLatLon, type TileXYZ } from '../../app/station/tiles/xyz';
import { encodePng } from './png';

export { latLonToTile, tileToLatLon, type TileXYZ };

export const CONRAD_MT: LatLon = { latDeg: 48.17, lonDeg: -111.95 };
export const TILE_SIZE_PX = 256;
export const TEST_TILE_ATTRIBUTION = 'Ursa generated test tiles (no real map data)';

export interface TileSetOptions {
  center?: LatLon;
  minZoom?: number;
  maxZoom?: number;
  /** Tiles on each side of the centre tile, at every zoom. */
  radiusTiles?: number;
}

export interface TileSet {
  center: LatLon;
  minZoom: number;
  maxZoom: number;
  attribution: string;
  tiles: TileXYZ[];
}

const MAX_TILES = 2000;

// 3x5 glyphs, one string a row.
const GLYPHS: Record<string, string[]> = {
  '0': ['111', '101', '101', '101', '111'],
  '1': ['010', '110', '010', '010', '111'],
  '2': ['111', '001', '111', '100', '111'],
  '3': ['111', '001', '111', '001', '111'],
  '4': ['101', '101', '111', '001', '001'],
  '5': ['111', '100', '111', '001', '111'],
  '6': ['111', '100', '111', '101', '111'],
  '7': ['111', '001', '001', '001', '001'],
  '8': ['111', '101', '111', '101', '111'],
  '9': ['111', '101', '111', '001', '111'],
  '/': ['001', '001', '010', '100', '100'],
};

type Rgb = [number, number, number];

class Canvas {
  readonly pixels: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    background: Rgb,
  ) {
    this.pixels = new Uint8Array(width * height * 3);
    this.fill(0, 0, width, height, background);
  }

  fill(left: number, top: number, width: number, height: number, colour: Rgb): void {
    const x0 = Math.max(0, Math.floor(left));
    const y0 = Math.max(0, Math.floor(top));
    const x1 = Math.min(this.width, Math.floor(left + width));
    const y1 = Math.min(this.height, Math.floor(top + height));
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) this.pixels.set(colour, (y * this.width + x) * 3);
    }
  }

  text(value: string, left: number, top: number, scalePx: number, colour: Rgb): void {
    [...value].forEach((char, index) => {
      const glyph = GLYPHS[char];
      if (!glyph) throw new Error(`tiles: no glyph for ${JSON.stringify(char)}`);
      const charLeft = left + index * 4 * scalePx;
      glyph.forEach((row, rowIndex) => {
        [...row].forEach((bit, column) => {
          if (bit !== '1') return;
          const [pixelLeft, pixelTop] = [charLeft + column * scalePx, top + rowIndex * scalePx];
          this.fill(pixelLeft, pixelTop, scalePx, scalePx, colour);
        });
      });
    });
  }
}

/** Where a point falls inside a tile, in pixels from its top-left corner. */
function pixelInTile(point: LatLon, tile: TileXYZ): { x: number; y: number } {
  const nw = tileToLatLon(tile.z, tile.x, tile.y);
  const se = tileToLatLon(tile.z, tile.x + 1, tile.y + 1);
  const mercatorY = (latDeg: number): number =>
    Math.log(Math.tan(Math.PI / 4 + (latDeg * Math.PI) / 360));
  const x = ((point.lonDeg - nw.lonDeg) / (se.lonDeg - nw.lonDeg)) * TILE_SIZE_PX;
  const y =
    ((mercatorY(nw.latDeg) - mercatorY(point.latDeg)) /
      (mercatorY(nw.latDeg) - mercatorY(se.latDeg))) *
    TILE_SIZE_PX;
  return { x, y };
}

/** One tile's PNG: the same bytes for the same address, different for every address. */
export function renderTilePng(tile: TileXYZ, marker: LatLon = CONRAD_MT): Buffer {
  const { z, x, y } = tile;
  // Neighbours alternate shade, so tile seams show on screen.
  const field: Rgb = (x + y) % 2 === 0 ? [86, 138, 70] : [74, 124, 60];
  const canvas = new Canvas(TILE_SIZE_PX, TILE_SIZE_PX, field);
  for (let line = 0; line < TILE_SIZE_PX; line += 32) {
    canvas.fill(line, 0, 1, TILE_SIZE_PX, [104, 156, 88]);
    canvas.fill(0, line, TILE_SIZE_PX, 1, [104, 156, 88]);
  }
  canvas.fill(0, 0, TILE_SIZE_PX, 2, [40, 70, 34]);
  canvas.fill(0, 0, 2, TILE_SIZE_PX, [40, 70, 34]);

  const label = `${z}/${x}/${y}`;
  const scalePx = 3;
  const labelWidthPx = label.length * 4 * scalePx - scalePx;
  const labelLeft = Math.round((TILE_SIZE_PX - labelWidthPx) / 2);
  canvas.fill(labelLeft - 6, 104, labelWidthPx + 12, 5 * scalePx + 12, [238, 238, 220]);
  canvas.text(label, labelLeft, 110, scalePx, [20, 20, 20]);

  const spot = pixelInTile(marker, tile);
  if (spot.x >= 0 && spot.x < TILE_SIZE_PX && spot.y >= 0 && spot.y < TILE_SIZE_PX) {
    canvas.fill(spot.x - 8, spot.y - 1, 17, 3, [220, 30, 30]);
    canvas.fill(spot.x - 1, spot.y - 8, 3, 17, [220, 30, 30]);
  }
  return encodePng({
    width: TILE_SIZE_PX,
    height: TILE_SIZE_PX,
    channels: 3,
    pixels: canvas.pixels,
  });
}

/** The tile addresses of a tile set: a square of tiles around the centre at every zoom. */
export function planTileSet(options: TileSetOptions = {}): TileSet {
  const center = options.center ?? CONRAD_MT;
  const minZoom = options.minZoom ?? 12;
  const maxZoom = options.maxZoom ?? 17;
  const radiusTiles = options.radiusTiles ?? 2;
  if (!Number.isInteger(minZoom) || !Number.isInteger(maxZoom) || minZoom > maxZoom) {
    throw new Error(`tiles: zooms ${minZoom}-${maxZoom} are not an increasing integer range`);
  }
  if (!Number.isInteger(radiusTiles) || radiusTiles < 0) {
    throw new Error(`tiles: radiusTiles ${radiusTiles} is not a whole number >= 0`);
  }
  const tiles: TileXYZ[] = [];
  for (let z = minZoom; z <= maxZoom; z++) {
    const middle = latLonToTile(center, z);
    const last = 2 ** z - 1;
    const [x0, x1] = [Math.max(0, middle.x - radiusTiles), Math.min(last, middle.x + radiusTiles)];
    const [y0, y1] = [Math.max(0, middle.y - radiusTiles), Math.min(last, middle.y + radiusTiles)];
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) tiles.push({ z, x, y });
    }
  }
  if (tiles.length > MAX_TILES) {
    throw new Error(`tiles: ${tiles.length} tiles is more than the ${MAX_TILES} a test needs`);
  }
  return { center, minZoom, maxZoom, attribution: TEST_TILE_ATTRIBUTION, tiles };
}

/** Writes `dir/{z}/{x}/{y}.png` and `dir/metadata.json`. */
export function makeTileFolder(dir: string, options: TileSetOptions = {}): TileSet {
  const set = planTileSet(options);
  for (const tile of set.tiles) {
    const folder = path.join(dir, String(tile.z), String(tile.x));
    mkdirSync(folder, { recursive: true });
    writeFileSync(path.join(folder, `${tile.y}.png`), renderTilePng(tile, set.center));
  }
  writeFileSync(
    path.join(dir, 'metadata.json'),
    `${JSON.stringify(
      {
        name: 'Ursa test tiles',
        attribution: set.attribution,
        format: 'png',
        minzoom: set.minZoom,
        maxzoom: set.maxZoom,
        center: [set.center.lonDeg, set.center.latDeg, set.maxZoom],
      },
      null,
      2,
    )}\n`,
  );
  return set;
}

/** Writes an MBTiles file (replacing any there): rows in TMS order, as the format says. */
export function makeMbtiles(file: string, options: TileSetOptions = {}): TileSet {
  const set = planTileSet(options);
  mkdirSync(path.dirname(file), { recursive: true });
  rmSync(file, { force: true });
  const db = new Database(file);
  try {
    db.exec(
      'CREATE TABLE metadata (name TEXT, value TEXT);' +
        'CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, ' +
        'tile_data BLOB);' +
        'CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);',
    );
    const putMeta = db.prepare('INSERT INTO metadata (name, value) VALUES (?, ?)');
    const putTile = db.prepare(
      'INSERT INTO tiles (zoom_level, tile_column, tile_row, tile_data) VALUES (?, ?, ?, ?)',
    );
    db.transaction(() => {
      for (const [name, value] of [
        ['name', 'Ursa test tiles'],
        ['format', 'png'],
        ['type', 'baselayer'],
        ['attribution', set.attribution],
        ['minzoom', String(set.minZoom)],
        ['maxzoom', String(set.maxZoom)],
        ['center', `${set.center.lonDeg},${set.center.latDeg},${set.maxZoom}`],
      ]) {
        putMeta.run(name, value);
      }
      for (const tile of set.tiles) {
        const tmsRow = 2 ** tile.z - 1 - tile.y;
        putTile.run(tile.z, tile.x, tmsRow, renderTilePng(tile, set.center));
      }
    })();
  } finally {
    db.close();
  }
  return set;
}
