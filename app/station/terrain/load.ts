// Turns --dem options into one terrain model: GeoTIFF files and tile folders, the first with
// a height at a point wins, so a fine local model can sit over a coarse regional one.

import path from 'node:path';

import { LayeredTerrain, type Terrain } from '../../core/terrain';
import { loadGeoTiffTerrain } from './geotiff';
import { openTerrainTiles, type TileEncoding } from './tiles';

export const DEM_SPEC_HELP =
  'FILE.tif | terrarium:DIR | mapbox:DIR (z/x/y.png tiles; terrain-rgb: too)';

const TILE_PREFIXES: Record<string, TileEncoding> = {
  'terrarium:': 'terrarium',
  'mapbox:': 'mapbox',
  'terrain-rgb:': 'mapbox',
};

/** One --dem value; throws an Error that says what was wrong with it. */
export async function loadDem(spec: string): Promise<Terrain> {
  for (const [prefix, encoding] of Object.entries(TILE_PREFIXES)) {
    if (spec.startsWith(prefix)) {
      const dir = spec.slice(prefix.length);
      if (dir.trim() === '') throw new Error(`"${spec}": give the tile folder after ${prefix}`);
      return openTerrainTiles(path.resolve(dir), encoding);
    }
  }
  if (/\.tiff?$/i.test(spec)) return loadGeoTiffTerrain(path.resolve(spec));
  throw new Error(`must be ${DEM_SPEC_HELP}, not "${spec}"`);
}

/** Every --dem value, layered in the order given; null when there are none. */
export async function loadDems(specs: string[]): Promise<Terrain | null> {
  if (specs.length === 0) return null;
  const layers: Terrain[] = [];
  for (const spec of specs) layers.push(await loadDem(spec));
  return layers.length === 1 ? layers[0] : new LayeredTerrain(layers);
}
