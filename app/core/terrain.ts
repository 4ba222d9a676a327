// Ground heights for georeferencing. Flat ground at home altitude is the default; a digital
// elevation model the user supplies (a GeoTIFF grid or a folder of terrain tiles) replaces it
// where hills would otherwise put a bear tens of metres off. Pure: loaders live in the station.

import type { LatLon } from './types';

export interface Terrain {
  readonly description: string;
  /** Typical spacing of the model's samples, metres: rays are marched in steps below it. */
  readonly resolutionM: number;
  /** Ground height above mean sea level, or null off the model or where it has no data. */
  elevationMslM(point: LatLon): number | null;
}

const METRES_PER_DEG_LAT = 111_320;
/** The WGS-84 radius Web Mercator uses. */
const MERCATOR_RADIUS_M = 6_378_137;
const toRad = (deg: number): number => (deg * Math.PI) / 180;

export class FlatTerrain implements Terrain {
  readonly description: string;
  readonly resolutionM = Number.POSITIVE_INFINITY;

  constructor(readonly groundMslM: number) {
    if (!Number.isFinite(groundMslM)) {
      throw new Error(`flat ground height ${groundMslM} m is not a number`);
    }
    this.description = `flat ground at ${groundMslM.toFixed(1)} m`;
  }

  elevationMslM(): number {
    return this.groundMslM;
  }
}

export type GridCrs = 'EPSG:4326' | 'EPSG:3857';

export interface ElevationGrid {
  width: number;
  height: number;
  /** Row-major heights in metres, row 0 at the top (north). */
  values: ArrayLike<number>;
  crs: GridCrs;
  /** Coordinates of the top-left corner of pixel (0, 0): degrees (4326) or metres (3857). */
  originX: number;
  originY: number;
  /** Size of one pixel, positive, in the units of the origin; rows go south. */
  pixelSizeX: number;
  pixelSizeY: number;
  /** The value that marks a missing height; NaN is always missing. */
  noData: number | null;
}

export function mercatorFromLatLon(point: LatLon): { x: number; y: number } {
  const latRad = toRad(Math.max(-85.051129, Math.min(85.051129, point.latDeg)));
  return {
    x: MERCATOR_RADIUS_M * toRad(point.lonDeg),
    y: MERCATOR_RADIUS_M * Math.log(Math.tan(Math.PI / 4 + latRad / 2)),
  };
}

/**
 * Bilinear height between four samples; null when any is missing, so a ray never lands on a
 * height made up from a hole in the data.
 */
function bilinear(
  sample: (column: number, row: number) => number | null,
  x: number,
  y: number,
): number | null {
  const column = Math.floor(x);
  const row = Math.floor(y);
  const fx = x - column;
  const fy = y - row;
  const h00 = sample(column, row);
  const h10 = sample(column + 1, row);
  const h01 = sample(column, row + 1);
  const h11 = sample(column + 1, row + 1);
  if (h00 === null || h10 === null || h01 === null || h11 === null) return null;
  return (h00 * (1 - fx) + h10 * fx) * (1 - fy) + (h01 * (1 - fx) + h11 * fx) * fy;
}

/** A regular grid of heights, as in a single-band GeoTIFF. */
export class GridTerrain implements Terrain {
  readonly resolutionM: number;

  constructor(
    private readonly grid: ElevationGrid,
    readonly description: string,
  ) {
    const { width, height, values, pixelSizeX, pixelSizeY } = grid;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width >= 2 && height >= 2)) {
      throw new Error(`elevation grid ${width}x${height} is too small (2x2 at least)`);
    }
    if (values.length !== width * height) {
      throw new Error(`elevation grid has ${values.length} values, not ${width}x${height}`);
    }
    if (!(pixelSizeX > 0 && pixelSizeY > 0 && Number.isFinite(pixelSizeX + pixelSizeY))) {
      throw new Error(`elevation grid pixel size ${pixelSizeX} x ${pixelSizeY} is not positive`);
    }
    const centreLatDeg = grid.crs === 'EPSG:4326' ? grid.originY - (pixelSizeY * height) / 2 : 0;
    this.resolutionM =
      grid.crs === 'EPSG:4326'
        ? Math.min(
            pixelSizeY * METRES_PER_DEG_LAT,
            pixelSizeX * METRES_PER_DEG_LAT * Math.cos(toRad(centreLatDeg)),
          )
        : Math.min(pixelSizeX, pixelSizeY);
  }

  elevationMslM(point: LatLon): number | null {
    const { grid } = this;
    let x: number;
    let y: number;
    if (grid.crs === 'EPSG:4326') {
      x = point.lonDeg;
      y = point.latDeg;
    } else {
      ({ x, y } = mercatorFromLatLon(point));
    }
    // Pixel centres sit half a pixel in from the corner.
    const column = (x - grid.originX) / grid.pixelSizeX - 0.5;
    const row = (grid.originY - y) / grid.pixelSizeY - 0.5;
    // Within the outer half pixel, hold the edge value rather than call it off the model.
    if (column < -0.5 || row < -0.5 || column > grid.width - 0.5 || row > grid.height - 0.5) {
      return null;
    }
    const cx = Math.min(Math.max(column, 0), grid.width - 1);
    const cy = Math.min(Math.max(row, 0), grid.height - 1);
    return bilinear(
      (c, r) => {
        const value =
          grid.values[Math.min(r, grid.height - 1) * grid.width + Math.min(c, grid.width - 1)];
        return Number.isFinite(value) && value !== grid.noData ? value : null;
      },
      cx,
      cy,
    );
  }
}

/** Decoded square tiles of one zoom level in the Web Mercator (slippy map) scheme. */
export interface ElevationTiles {
  zoom: number;
  /** Pixels along a tile edge (256 or 512). */
  tileSize: number;
  /** Heights of the tile at x, y, row-major; null when the folder has no such tile. */
  tile(x: number, y: number): ArrayLike<number> | null;
}

export class TiledTerrain implements Terrain {
  readonly resolutionM: number;

  constructor(
    private readonly tiles: ElevationTiles,
    readonly description: string,
    centreLatDeg = 0,
  ) {
    const { zoom, tileSize } = tiles;
    if (!(Number.isInteger(zoom) && zoom >= 0 && zoom <= 24)) {
      throw new Error(`terrain tile zoom ${zoom} is not 0-24`);
    }
    if (!(Number.isInteger(tileSize) && tileSize > 0)) {
      throw new Error(`terrain tile size ${tileSize} is invalid`);
    }
    this.resolutionM =
      ((2 * Math.PI * MERCATOR_RADIUS_M) / (tileSize * 2 ** zoom)) * Math.cos(toRad(centreLatDeg));
  }

  elevationMslM(point: LatLon): number | null {
    const { zoom, tileSize } = this.tiles;
    const worldPx = tileSize * 2 ** zoom;
    const { x: mx, y: my } = mercatorFromLatLon(point);
    const half = Math.PI * MERCATOR_RADIUS_M;
    const px = ((mx + half) / (2 * half)) * worldPx - 0.5;
    const py = ((half - my) / (2 * half)) * worldPx - 0.5;
    return bilinear(
      (column, row) => {
        if (row < 0 || row >= worldPx) return null;
        const wrapped = ((column % worldPx) + worldPx) % worldPx;
        const tile = this.tiles.tile(Math.floor(wrapped / tileSize), Math.floor(row / tileSize));
        if (!tile) return null;
        const value = tile[(row % tileSize) * tileSize + (wrapped % tileSize)];
        return Number.isFinite(value) ? value : null;
      },
      px,
      py,
    );
  }
}

/** Several models, the first with a height at a point wins (a fine local DEM over a coarse). */
export class LayeredTerrain implements Terrain {
  readonly description: string;
  readonly resolutionM: number;

  constructor(private readonly layers: Terrain[]) {
    if (layers.length === 0) throw new Error('layered terrain needs at least one layer');
    this.description = layers.map((layer) => layer.description).join(', then ');
    this.resolutionM = Math.min(...layers.map((layer) => layer.resolutionM));
  }

  elevationMslM(point: LatLon): number | null {
    for (const layer of this.layers) {
      const height = layer.elevationMslM(point);
      if (height !== null) return height;
    }
    return null;
  }
}
