// Tiled detection for small targets: a person 60 m below a drone is 10 px tall in a 640 px
// frame, and letterboxing that frame into a 416 px model input shrinks them to 6 px, below
// what the network resolves. Cutting the frame into overlapping tiles of the model's own
// input size keeps every pixel; a pass over the whole frame still finds the large objects
// that no tile holds entirely.

import type { RawBox } from './yolox';

export interface TilingOptions {
  /** Overlap of neighbouring tiles, px; an object cut by one tile edge is whole in the other. */
  overlapPx: number;
  /**
   * Side of a tile in frame pixels; the model's input size by default. Smaller tiles are
   * enlarged to the input size, which helps targets only a few pixels tall.
   */
  tileSizePx?: number;
}

export const DEFAULT_TILE_OVERLAP_PX = 96;

/** Intersection over the smaller box above which two boxes of a class are one object. */
const SAME_OBJECT_IOS = 0.6;

export interface Tile {
  xPx: number;
  yPx: number;
  widthPx: number;
  heightPx: number;
}

/** Start offsets along one axis: evenly spread, first at 0, last flush with the far edge. */
function offsets(lengthPx: number, tilePx: number, overlapPx: number): number[] {
  if (lengthPx <= tilePx) return [0];
  const strideMaxPx = tilePx - overlapPx;
  const count = Math.ceil((lengthPx - tilePx) / strideMaxPx) + 1;
  const strideHere = (lengthPx - tilePx) / (count - 1);
  return Array.from({ length: count }, (_, i) => Math.round(i * strideHere));
}

/**
 * Tiles of tileSizePx squared covering the frame, each overlapping its neighbours by at least
 * overlapPx. A frame no bigger than one tile needs none (the whole-frame pass sees it all).
 */
export function planTiles(
  widthPx: number,
  heightPx: number,
  tileSizePx: number,
  overlapPx: number,
): Tile[] {
  for (const [name, value] of [
    ['frame width', widthPx],
    ['frame height', heightPx],
    ['tile size', tileSizePx],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) {
      throw new Error(`tiling: ${name} must be a positive whole number of pixels, got ${value}`);
    }
  }
  if (!Number.isInteger(overlapPx) || overlapPx < 0 || overlapPx >= tileSizePx) {
    throw new Error(
      `tiling: overlap must be a whole number of pixels from 0 to below the tile size ` +
        `${tileSizePx}, got ${overlapPx}`,
    );
  }
  if (widthPx <= tileSizePx && heightPx <= tileSizePx) return [];

  const tiles: Tile[] = [];
  for (const yPx of offsets(heightPx, tileSizePx, overlapPx)) {
    for (const xPx of offsets(widthPx, tileSizePx, overlapPx)) {
      tiles.push({
        xPx,
        yPx,
        widthPx: Math.min(tileSizePx, widthPx - xPx),
        heightPx: Math.min(tileSizePx, heightPx - yPx),
      });
    }
  }
  return tiles;
}

/** Copies one tile out of an rgb24 frame. */
export function cropRgb(rgb: Uint8Array, frameWidthPx: number, tile: Tile): Uint8Array {
  const out = new Uint8Array(tile.widthPx * tile.heightPx * 3);
  const rowBytes = tile.widthPx * 3;
  for (let row = 0; row < tile.heightPx; row++) {
    const from = ((tile.yPx + row) * frameWidthPx + tile.xPx) * 3;
    out.set(rgb.subarray(from, from + rowBytes), row * rowBytes);
  }
  return out;
}

export function shiftBox(box: RawBox, tile: Tile): RawBox {
  return {
    ...box,
    x1Px: box.x1Px + tile.xPx,
    y1Px: box.y1Px + tile.yPx,
    x2Px: box.x2Px + tile.xPx,
    y2Px: box.y2Px + tile.yPx,
  };
}

function area(box: RawBox): number {
  return Math.max(0, box.x2Px - box.x1Px) * Math.max(0, box.y2Px - box.y1Px);
}

function intersectionOverSmaller(a: RawBox, b: RawBox): number {
  const widthPx = Math.min(a.x2Px, b.x2Px) - Math.max(a.x1Px, b.x1Px);
  const heightPx = Math.min(a.y2Px, b.y2Px) - Math.max(a.y1Px, b.y1Px);
  if (widthPx <= 0 || heightPx <= 0) return 0;
  const smaller = Math.min(area(a), area(b));
  return smaller > 0 ? (widthPx * heightPx) / smaller : 0;
}

/**
 * Boxes from the tiles and the whole frame to one per object. Plain IoU suppression is not
 * enough: a tile edge cuts an animal into a part whose box sits inside the whole one with a
 * low IoU, so a box mostly inside a stronger box of its class is the same object.
 */
export function mergeTiledBoxes(boxes: readonly RawBox[]): RawBox[] {
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: RawBox[] = [];
  for (const box of sorted) {
    const duplicate = kept.some(
      (other) =>
        other.classId === box.classId && intersectionOverSmaller(other, box) > SAME_OBJECT_IOS,
    );
    if (!duplicate) kept.push(box);
  }
  return kept;
}
