// Web-Mercator tile arithmetic (the XYZ scheme Leaflet and OpenStreetMap use: y grows south).

import type { LatLon } from '../../core/types';

/** Web Mercator stops here: the map is square. */
export const MAX_MERCATOR_LAT_DEG = 85.05112878;
export const MAX_TILE_ZOOM = 30;

export interface TileXYZ {
  z: number;
  x: number;
  y: number;
}

/** Integers only, inside the zoom's grid: what makes a tile address safe to use in a path. */
export function isTileCoordinate(z: number, x: number, y: number): boolean {
  if (!Number.isInteger(z) || z < 0 || z > MAX_TILE_ZOOM) return false;
  const size = 2 ** z;
  return Number.isInteger(x) && Number.isInteger(y) && x >= 0 && y >= 0 && x < size && y < size;
}

/** The tile that holds a point at a zoom. */
export function latLonToTile(position: LatLon, zoom: number): TileXYZ {
  if (!Number.isInteger(zoom) || zoom < 0 || zoom > MAX_TILE_ZOOM) {
    throw new Error(`tile zoom ${zoom} is not an integer in 0-${MAX_TILE_ZOOM}`);
  }
  if (!Number.isFinite(position.latDeg) || !Number.isFinite(position.lonDeg)) {
    throw new Error(`position ${position.latDeg}, ${position.lonDeg} is not a number`);
  }
  const size = 2 ** zoom;
  const latDeg = Math.max(-MAX_MERCATOR_LAT_DEG, Math.min(MAX_MERCATOR_LAT_DEG, position.latDeg));
  const latRad = (latDeg * Math.PI) / 180;
  const lonDeg = ((((position.lonDeg + 180) % 360) + 360) % 360) - 180;
  const xFraction = (lonDeg + 180) / 360;
  const yFraction = (1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2;
  const clamp = (value: number): number => Math.max(0, Math.min(size - 1, Math.floor(value)));
  return { z: zoom, x: clamp(xFraction * size), y: clamp(yFraction * size) };
}

/** The north-west corner of a tile. */
export function tileToLatLon(z: number, x: number, y: number): LatLon {
  const size = 2 ** z;
  const lonDeg = (x / size) * 360 - 180;
  const latRad = Math.atan(Math.sinh(Math.PI * (1 - (2 * y) / size)));
  return { latDeg: (latRad * 180) / Math.PI, lonDeg };
}
