// The ray marched over elevation models with known heights, checked against hand geometry.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { northEastOf } from '../../app/core/geodesy';
import { pixelToGround, type CameraPose, type GroundFix } from '../../app/core/georef';
import {
  FlatTerrain,
  GridTerrain,
  LayeredTerrain,
  TiledTerrain,
  mercatorFromLatLon,
  type ElevationGrid,
  type Terrain,
} from '../../app/core/terrain';
import type { CameraModel, LatLon } from '../../app/core/types';

const ORIGIN = { latDeg: 48.17, lonDeg: -111.95 };
const GROUND_MSL_M = 1000;
const IMAGE = { width: 640, height: 512 };
const CENTRE = { x: 320, y: 256 };
const CAMERA: CameraModel = { horizontalFovDeg: 60, verticalFovDeg: 48 };
const M_PER_DEG_LAT = 111_320;
const mPerDegLon = M_PER_DEG_LAT * Math.cos((ORIGIN.latDeg * Math.PI) / 180);
const rad = (deg: number): number => (deg * Math.PI) / 180;

/** A grid in degrees around ORIGIN, `spacingM` apart, with heights from `height(n, e)`. */
function gridAround(
  halfSizeM: number,
  spacingM: number,
  height: (northM: number, eastM: number) => number,
): ElevationGrid {
  const cells = Math.round((2 * halfSizeM) / spacingM);
  const pixelSizeY = spacingM / M_PER_DEG_LAT;
  const pixelSizeX = spacingM / mPerDegLon;
  const originX = ORIGIN.lonDeg - (cells / 2) * pixelSizeX;
  const originY = ORIGIN.latDeg + (cells / 2) * pixelSizeY;
  const values = new Float32Array(cells * cells);
  for (let row = 0; row < cells; row += 1) {
    for (let column = 0; column < cells; column += 1) {
      const lat = originY - (row + 0.5) * pixelSizeY;
      const lon = originX + (column + 0.5) * pixelSizeX;
      values[row * cells + column] = height(
        (lat - ORIGIN.latDeg) * M_PER_DEG_LAT,
        (lon - ORIGIN.lonDeg) * mPerDegLon,
      );
    }
  }
  return {
    width: cells,
    height: cells,
    values,
    crs: 'EPSG:4326',
    originX,
    originY,
    pixelSizeX,
    pixelSizeY,
    noData: -9999,
  };
}

function pose(altitudeAglM: number, pitchDeg: number, headingDeg = 0): CameraPose {
  return {
    position: ORIGIN,
    altitudeAglM,
    altitudeMslM: GROUND_MSL_M + altitudeAglM,
    vehicleAttitude: { rollDeg: 0, pitchDeg: 0, yawDeg: headingDeg },
    gimbal: { pitchDeg, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle' },
  };
}

function hit(fix: GroundFix): { northM: number; eastM: number; groundMslM: number } {
  assert.ok(fix.ok, `expected a ground position, got: ${fix.ok ? '' : fix.reason}`);
  return { ...northEastOf(ORIGIN, fix.position), groundMslM: fix.groundMslM ?? NaN };
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

const slope =
  (rise: number) =>
  (northM: number): number =>
    GROUND_MSL_M + rise * northM;

test('a ray meets a slope where hand geometry says', () => {
  // Ground rising 0.2 m per metre northward; camera 50 m up looking north 45 deg down:
  // 50 - s sin45 = 0.2 s cos45, so the hit is s = 50 / (1.2 sin45) along the ray.
  const terrain = new GridTerrain(gridAround(600, 5, slope(0.2)), 'test slope');
  const found = hit(pixelToGround(pose(50, -45), CAMERA, CENTRE, IMAGE, { terrain }));
  const slantM = 50 / (1.2 * Math.SQRT1_2);
  near(found.northM, slantM * Math.SQRT1_2, 0.05, 'north');
  near(found.eastM, 0, 0.05, 'east');
  near(found.groundMslM, GROUND_MSL_M + 0.2 * found.northM, 0.05, 'ground height');

  // Looking south, down the slope, the ray runs further: 50 = s sin45 - 0.2 s cos45.
  const south = hit(pixelToGround(pose(50, -45, 180), CAMERA, CENTRE, IMAGE, { terrain }));
  near(south.northM, -(50 / (0.8 * Math.SQRT1_2)) * Math.SQRT1_2, 0.05, 'north, looking south');
});

test('flat terrain at home altitude gives the same answer as no terrain', () => {
  const terrain = new FlatTerrain(GROUND_MSL_M);
  for (const pitchDeg of [-90, -60, -35]) {
    for (const pixel of [CENTRE, { x: 10, y: 500 }, { x: 600, y: 40 }]) {
      const plain = hit(pixelToGround(pose(40, pitchDeg, 30), CAMERA, pixel, IMAGE));
      const marched = hit(pixelToGround(pose(40, pitchDeg, 30), CAMERA, pixel, IMAGE, { terrain }));
      near(marched.northM, plain.northM, 0.01, `north at pitch ${pitchDeg}`);
      near(marched.eastM, plain.eastM, 0.01, `east at pitch ${pitchDeg}`);
    }
  }
});

test('a ridge in front stops the ray before the flat ground behind it', () => {
  // A 20 m wall 30-40 m north. From 30 m up, 30 deg down, flat ground would be 52 m out; the
  // ray is 12.7 m up at 30 m north, so it meets the wall's face.
  const ridge = (northM: number): number => GROUND_MSL_M + (northM >= 30 && northM <= 40 ? 20 : 0);
  const terrain = new GridTerrain(gridAround(300, 1, ridge), 'ridge');
  const found = hit(pixelToGround(pose(30, -30), CAMERA, CENTRE, IMAGE, { terrain }));
  assert.ok(found.northM > 28.5 && found.northM < 31, `north ${found.northM}`);
  // The reported point is on the ray: its height above the camera's foot matches.
  near(found.groundMslM, GROUND_MSL_M + 30 - found.northM * Math.tan(rad(30)), 0.01, 'on ray');

  // From 60 m up, 40 deg down, the ray clears the wall (26 m up at its far side) and lands
  // on the flat ground behind it.
  const over = hit(pixelToGround(pose(60, -40), CAMERA, CENTRE, IMAGE, { terrain }));
  near(over.northM, 60 / Math.tan(rad(40)), 0.05, 'north, over the wall');
});

test('a hill: the hit lies on the terrain and on the ray, wherever the pixel', () => {
  const hill = (northM: number, eastM: number): number =>
    GROUND_MSL_M + 35 * Math.exp(-((northM - 80) ** 2 + (eastM - 10) ** 2) / (2 * 30 ** 2));
  const terrain = new GridTerrain(gridAround(500, 2, hill), 'hill');
  const p = pose(60, -35);
  for (const pixel of [CENTRE, { x: 100, y: 300 }, { x: 500, y: 450 }, { x: 320, y: 60 }]) {
    const fix = pixelToGround(p, CAMERA, pixel, IMAGE, { terrain });
    const found = hit(fix);
    assert.ok(fix.ok);
    const rangeM = Math.hypot(found.northM, found.eastM);
    const rayDropM = Math.sqrt(fix.slantRangeM ** 2 - rangeM ** 2);
    near(found.groundMslM, GROUND_MSL_M + 60 - rayDropM, 0.02, 'on the ray');
    near(found.groundMslM, hill(found.northM, found.eastM), 0.2, 'on the hill');
    // Flat ground would put it further out: the hill is in the way.
    const flat = hit(pixelToGround(p, CAMERA, pixel, IMAGE));
    assert.ok(Math.hypot(flat.northM, flat.eastM) >= rangeM - 1e-6);
  }
});

test('rays that leave the model, holes, and cameras below ground give reasons', () => {
  // 200 m model; a shallow ray from 50 m lands 280 m out, off the model.
  const small = new GridTerrain(gridAround(100, 5, slope(0)), 'small');
  const off = pixelToGround(pose(50, -10), CAMERA, CENTRE, IMAGE, { terrain: small });
  assert.match(off.ok ? '' : off.reason, /leaves the terrain model/);

  const holed = gridAround(300, 5, slope(0));
  const values = holed.values as Float32Array;
  // A hole 40-60 m north, where a 45-deg ray from 50 m lands.
  for (let row = 0; row < holed.height; row += 1) {
    const northM = (holed.originY - (row + 0.5) * holed.pixelSizeY - ORIGIN.latDeg) * M_PER_DEG_LAT;
    if (northM > 40 && northM < 60) values.fill(-9999, row * holed.width, (row + 1) * holed.width);
  }
  const inHole = pixelToGround(pose(50, -45), CAMERA, CENTRE, IMAGE, {
    terrain: new GridTerrain(holed, 'holed'),
  });
  assert.match(inHole.ok ? '' : inHole.reason, /hole \(no data\)/);
  // NaN counts as missing as well.
  values.fill(Number.NaN, 0, values.length);
  const allNan = pixelToGround(pose(50, -45), CAMERA, CENTRE, IMAGE, {
    terrain: new GridTerrain(holed, 'nan'),
  });
  assert.match(allNan.ok ? '' : allNan.reason, /has no data here/);

  const high = new FlatTerrain(GROUND_MSL_M + 80);
  const below = pixelToGround(pose(50, -45), CAMERA, CENTRE, IMAGE, { terrain: high });
  assert.match(below.ok ? '' : below.reason, /camera is 30.0 m below the ground/);

  const noMsl = { ...pose(50, -45), altitudeMslM: undefined };
  const unknown = pixelToGround(noMsl, CAMERA, CENTRE, IMAGE, { terrain: high });
  assert.match(unknown.ok ? '' : unknown.reason, /altitude above sea level is unknown/);
});

test('with a terrain model a ray above the horizon can still meet a mountain', () => {
  const wall = (northM: number): number => GROUND_MSL_M + (northM > 500 ? 400 : 0);
  const terrain = new GridTerrain(gridAround(1000, 10, wall), 'mountain');
  const up = hit(pixelToGround(pose(50, 5), CAMERA, CENTRE, IMAGE, { terrain }));
  assert.ok(up.northM > 490 && up.northM < 510, `north ${up.northM}`);
  const sky = pixelToGround(pose(50, 5), CAMERA, CENTRE, IMAGE, {
    terrain: new GridTerrain(gridAround(1000, 10, slope(0)), 'plain'),
  });
  assert.match(sky.ok ? '' : sky.reason, /leaves the terrain model|above the horizon/);
});

function mercatorGrid(terrainAt: (point: LatLon) => number): ElevationGrid {
  const centre = mercatorFromLatLon(ORIGIN);
  const cells = 200;
  const pixelM = 4;
  const originX = centre.x - (cells / 2) * pixelM;
  const originY = centre.y + (cells / 2) * pixelM;
  const values = new Float32Array(cells * cells);
  const R = 6_378_137;
  for (let row = 0; row < cells; row += 1) {
    for (let column = 0; column < cells; column += 1) {
      const x = originX + (column + 0.5) * pixelM;
      const y = originY - (row + 0.5) * pixelM;
      const lonDeg = (x / R) * (180 / Math.PI);
      const latDeg = (2 * Math.atan(Math.exp(y / R)) - Math.PI / 2) * (180 / Math.PI);
      values[row * cells + column] = terrainAt({ latDeg, lonDeg });
    }
  }
  return {
    width: cells,
    height: cells,
    values,
    crs: 'EPSG:3857',
    originX,
    originY,
    pixelSizeX: pixelM,
    pixelSizeY: pixelM,
    noData: null,
  };
}

test('Web Mercator grids, tiles and layers agree with the degree grid', () => {
  const heightAt = (point: LatLon): number =>
    GROUND_MSL_M + 0.15 * (point.latDeg - ORIGIN.latDeg) * M_PER_DEG_LAT;
  const degrees = new GridTerrain(gridAround(400, 4, slope(0.15)), 'degrees');
  const mercator = new GridTerrain(mercatorGrid(heightAt), 'mercator');

  // Tiles at zoom 17 (about 0.8 m pixels here) around the origin, built on demand.
  const zoom = 17;
  const tileSize = 256;
  const made = new Map<string, Float32Array>();
  const tiles = {
    zoom,
    tileSize,
    tile(x: number, y: number): Float32Array | null {
      const key = `${x}/${y}`;
      let tile = made.get(key);
      if (!tile) {
        tile = new Float32Array(tileSize * tileSize);
        const world = tileSize * 2 ** zoom;
        for (let row = 0; row < tileSize; row += 1) {
          const py = y * tileSize + row + 0.5;
          const latDeg = (Math.atan(Math.sinh(Math.PI * (1 - (2 * py) / world))) * 180) / Math.PI;
          for (let column = 0; column < tileSize; column += 1) {
            tile[row * tileSize + column] = heightAt({ latDeg, lonDeg: ORIGIN.lonDeg });
          }
        }
        made.set(key, tile);
      }
      return tile;
    },
  };
  const tiled = new TiledTerrain(tiles, 'tiles', ORIGIN.latDeg);
  near(tiled.resolutionM, 0.797, 0.01, 'tile resolution');

  const probes = [ORIGIN, { latDeg: ORIGIN.latDeg + 0.001, lonDeg: ORIGIN.lonDeg + 0.001 }];
  for (const probe of probes) {
    for (const terrain of [degrees, mercator, tiled]) {
      near(terrain.elevationMslM(probe) ?? NaN, heightAt(probe), 0.05, terrain.description);
    }
  }
  const layered = new LayeredTerrain([
    new GridTerrain(
      gridAround(50, 5, () => 5000),
      'tiny local',
    ),
    degrees,
  ]);
  assert.equal(layered.elevationMslM(ORIGIN), 5000);
  near(layered.elevationMslM(probes[1]) ?? NaN, heightAt(probes[1]), 0.05, 'falls through');

  const fixes = ([degrees, mercator, tiled] as Terrain[]).map((terrain) =>
    hit(pixelToGround(pose(50, -45), CAMERA, CENTRE, IMAGE, { terrain })),
  );
  for (const fix of fixes) near(fix.northM, fixes[0].northM, 0.1, 'same hit');
});

test('malformed grids are refused with what is wrong', () => {
  const good = gridAround(50, 5, slope(0));
  assert.throws(() => new GridTerrain({ ...good, width: 1, height: 1 }, 'x'), /too small/);
  assert.throws(
    () => new GridTerrain({ ...good, values: new Float32Array(3) }, 'x'),
    /has 3 values, not 20x20/,
  );
  assert.throws(() => new GridTerrain({ ...good, pixelSizeX: 0 }, 'x'), /pixel size/);
  assert.throws(() => new FlatTerrain(Number.NaN), /not a number/);
});
