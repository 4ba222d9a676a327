// Elevation models from files: GeoTIFFs and terrain tile folders written here with known heights.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { deflateSync } from 'node:zlib';

import { northEastOf } from '../../app/core/geodesy';
import { pixelToGround } from '../../app/core/georef';
import { mercatorFromLatLon } from '../../app/core/terrain';
import type { LatLon } from '../../app/core/types';
import { loadGeoTiffTerrain } from '../../app/station/terrain/geotiff';
import { loadDem, loadDems } from '../../app/station/terrain/load';
import { decodePng, encodePng } from '../../app/station/terrain/png';
import { decodeHeights, encodeHeight, openTerrainTiles } from '../../app/station/terrain/tiles';
import { writeGeoTiff, writeTerrainTiles } from './terrain-fixtures';

const ORIGIN = { latDeg: 48.17, lonDeg: -111.95 };
const M_PER_DEG_LAT = 111_320;
const M_PER_DEG_LON = M_PER_DEG_LAT * Math.cos((ORIGIN.latDeg * Math.PI) / 180);
const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-terrain-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

/** A plane rising 0.2 m per metre north and 0.1 m per metre east from 1000 m at ORIGIN. */
const plane = (point: LatLon): number =>
  1000 +
  0.2 * (point.latDeg - ORIGIN.latDeg) * M_PER_DEG_LAT +
  0.1 * (point.lonDeg - ORIGIN.lonDeg) * M_PER_DEG_LON;

function degreeTiff(file: string, options: { deflate?: boolean; int16?: boolean } = {}): void {
  const cells = 200;
  const spacingM = 5;
  const sx = spacingM / M_PER_DEG_LON;
  const sy = spacingM / M_PER_DEG_LAT;
  const west = ORIGIN.lonDeg - (cells / 2) * sx;
  const north = ORIGIN.latDeg + (cells / 2) * sy;
  const values = options.int16 ? new Int16Array(cells * cells) : new Float32Array(cells * cells);
  for (let row = 0; row < cells; row += 1) {
    for (let column = 0; column < cells; column += 1) {
      const h = plane({ latDeg: north - (row + 0.5) * sy, lonDeg: west + (column + 0.5) * sx });
      values[row * cells + column] = options.int16 ? Math.round(h) : h;
    }
  }
  writeGeoTiff(file, {
    width: cells,
    height: cells,
    values,
    epsg: 4326,
    pixelScale: [sx, sy],
    tiepoint: [0, 0, west, north],
    noData: '-9999',
    deflate: options.deflate,
  });
}

test('a float GeoTIFF in degrees gives its heights back and meets the ray by hand', async () => {
  const file = path.join(dir, 'plane.tif');
  degreeTiff(file);
  const terrain = await loadGeoTiffTerrain(file);
  near(terrain.resolutionM, 5, 0.01, 'resolution');
  for (const [n, e] of [
    [0, 0],
    [123, -77],
    [-300, 250],
    [480, 480],
  ]) {
    const point = {
      latDeg: ORIGIN.latDeg + n / M_PER_DEG_LAT,
      lonDeg: ORIGIN.lonDeg + e / M_PER_DEG_LON,
    };
    near(terrain.elevationMslM(point) ?? NaN, plane(point), 0.01, `height at ${n},${e}`);
  }
  const offModel = { latDeg: ORIGIN.latDeg + 0.01, lonDeg: ORIGIN.lonDeg };
  assert.equal(terrain.elevationMslM(offModel), null);

  // Looking north 45 deg down from 50 m above the ground below: 50 - s sin45 = 0.2 s cos45.
  const fix = pixelToGround(
    {
      position: ORIGIN,
      altitudeAglM: 50,
      altitudeMslM: 1050,
      vehicleAttitude: { rollDeg: 0, pitchDeg: 0, yawDeg: 0 },
      gimbal: { pitchDeg: -45, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle' },
    },
    { horizontalFovDeg: 60, verticalFovDeg: 48 },
    { x: 320, y: 256 },
    { width: 640, height: 512 },
    { terrain },
  );
  assert.ok(fix.ok, fix.ok ? '' : fix.reason);
  near(northEastOf(ORIGIN, fix.position).northM, 50 / 1.2, 0.05, 'north');
});

test('deflate-compressed and integer GeoTIFFs read the same', async () => {
  const deflated = path.join(dir, 'plane-deflate.tif');
  const integer = path.join(dir, 'plane-int16.tif');
  degreeTiff(deflated, { deflate: true });
  degreeTiff(integer, { int16: true });
  const probe = { latDeg: ORIGIN.latDeg + 100 / M_PER_DEG_LAT, lonDeg: ORIGIN.lonDeg };
  const fromDeflated = (await loadGeoTiffTerrain(deflated)).elevationMslM(probe);
  near(fromDeflated ?? NaN, plane(probe), 0.01, 'deflate');
  const fromInteger = (await loadGeoTiffTerrain(integer)).elevationMslM(probe);
  near(fromInteger ?? NaN, plane(probe), 0.6, 'int16');
});

test('PixelIsPoint grids, nodata and Web Mercator grids are placed right', async () => {
  // 3 x 3 int16 heights, tie point at the centre of the first pixel (as SRTM does).
  const file = path.join(dir, 'point.tif');
  const step = 0.001;
  writeGeoTiff(file, {
    width: 3,
    height: 3,
    values: Int16Array.from([100, 110, 120, 200, 210, -32768, 300, 310, 320]),
    epsg: 4326,
    pixelScale: [step, step],
    tiepoint: [0, 0, -111.95, 48.17],
    noData: '-32768',
    pixelIsPoint: true,
  });
  const grid = await loadGeoTiffTerrain(file);
  near(grid.elevationMslM({ latDeg: 48.17, lonDeg: -111.95 }) ?? NaN, 100, 1e-6, 'first pixel');
  near(
    grid.elevationMslM({ latDeg: 48.17 - step / 2, lonDeg: -111.95 + step / 2 }) ?? NaN,
    (100 + 110 + 200 + 210) / 4,
    1e-3,
    'between four',
  );
  // Next to the nodata pixel there is no height rather than one made up from -32768.
  assert.equal(
    grid.elevationMslM({ latDeg: 48.17 - step / 2, lonDeg: -111.95 + 1.5 * step }),
    null,
  );

  const mercatorFile = path.join(dir, 'mercator.tif');
  const centre = mercatorFromLatLon(ORIGIN);
  const cells = 100;
  const pixelM = 6;
  const values = new Float32Array(cells * cells);
  for (let row = 0; row < cells; row += 1) {
    const y = centre.y + (cells / 2 - row - 0.5) * pixelM;
    const latDeg = (2 * Math.atan(Math.exp(y / 6_378_137)) - Math.PI / 2) * (180 / Math.PI);
    values.fill(plane({ latDeg, lonDeg: ORIGIN.lonDeg }), row * cells, (row + 1) * cells);
  }
  writeGeoTiff(mercatorFile, {
    width: cells,
    height: cells,
    values,
    epsg: 3857,
    pixelScale: [pixelM, pixelM],
    tiepoint: [0, 0, centre.x - (cells / 2) * pixelM, centre.y + (cells / 2) * pixelM],
  });
  const mercator = await loadGeoTiffTerrain(mercatorFile);
  const probe = { latDeg: ORIGIN.latDeg + 50 / M_PER_DEG_LAT, lonDeg: ORIGIN.lonDeg };
  near(mercator.elevationMslM(probe) ?? NaN, plane(probe), 0.05, 'mercator height');
});

test('GeoTIFFs that cannot be used are refused with what is wrong', async () => {
  const utm = path.join(dir, 'utm.tif');
  writeGeoTiff(utm, {
    width: 2,
    height: 2,
    values: new Float32Array(4),
    epsg: 32612,
    pixelScale: [1, 1],
    tiepoint: [0, 0, 500000, 5300000],
  });
  await assert.rejects(loadGeoTiffTerrain(utm), /EPSG:32612 is not supported; reproject/);
  const rgb = path.join(dir, 'rgb.tif');
  writeGeoTiff(rgb, {
    width: 2,
    height: 2,
    values: new Float32Array(12),
    bands: 3,
    epsg: 4326,
    pixelScale: [0.1, 0.1],
    tiepoint: [0, 0, 0, 0],
  });
  await assert.rejects(loadGeoTiffTerrain(rgb), /has 3 bands/);
  const junk = path.join(dir, 'junk.tif');
  writeFileSync(junk, 'this is not a tiff');
  await assert.rejects(loadGeoTiffTerrain(junk), /junk.tif: not a readable GeoTIFF/);
  await assert.rejects(loadGeoTiffTerrain(path.join(dir, 'missing.tif')), /not a readable/);
});

test('terrain colours round-trip: Terrarium to 1/256 m, Terrain-RGB to 0.1 m', () => {
  for (const height of [-412.3, 0, 1.5, 1060.12, 4807.9]) {
    const image = (encoding: 'terrarium' | 'mapbox') => ({
      width: 1,
      height: 1,
      rgba: Uint8Array.from([...encodeHeight(height, encoding), 255]),
    });
    near(decodeHeights(image('terrarium'), 'terrarium')[0], height, 1 / 256, `terrarium ${height}`);
    near(decodeHeights(image('mapbox'), 'mapbox')[0], height, 0.05, `mapbox ${height}`);
  }
  const transparent = { width: 1, height: 1, rgba: Uint8Array.from([1, 2, 3, 0]) };
  assert.ok(Number.isNaN(decodeHeights(transparent, 'terrarium')[0]));
});

test('PNG rows with every filter, grey and palette images decode', () => {
  const width = 3;
  const rows = [
    [10, 20, 30],
    [15, 25, 35],
    [200, 100, 50],
    [1, 255, 128],
    [7, 9, 11],
  ];
  const paeth = (a: number, b: number, c: number): number => {
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
  };
  // Grey image: row i uses filter i (0 none, 1 sub, 2 up, 3 average, 4 Paeth).
  const raw: number[] = [];
  rows.forEach((row, r) => {
    raw.push(r);
    row.forEach((value, i) => {
      const left = i > 0 ? row[i - 1] : 0;
      const up = r > 0 ? rows[r - 1][i] : 0;
      const upLeft = r > 0 && i > 0 ? rows[r - 1][i - 1] : 0;
      const predicted = [0, left, up, (left + up) >> 1, paeth(left, up, upLeft)][r];
      raw.push((value - predicted + 256) & 0xff);
    });
  });
  const chunk = (type: string, body: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    return Buffer.concat([head, body, Buffer.alloc(4)]);
  };
  const ihdr = (colourType: number, height: number): Buffer => {
    const body = Buffer.alloc(13);
    body.writeUInt32BE(width, 0);
    body.writeUInt32BE(height, 4);
    body[8] = 8;
    body[9] = colourType;
    return body;
  };
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const grey = decodePng(
    Buffer.concat([
      signature,
      chunk('IHDR', ihdr(0, rows.length)),
      chunk('IDAT', deflateSync(Buffer.from(raw))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
  assert.deepEqual(
    Array.from({ length: rows.length * width }, (_, i) => grey.rgba[i * 4]),
    rows.flat(),
  );
  const palette = decodePng(
    Buffer.concat([
      signature,
      chunk('IHDR', ihdr(3, 1)),
      chunk('PLTE', Buffer.from([1, 2, 3, 4, 5, 6])),
      chunk('tRNS', Buffer.from([0])),
      chunk('IDAT', deflateSync(Buffer.from([0, 1, 0, 1]))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
  assert.deepEqual(Array.from(palette.rgba), [4, 5, 6, 255, 1, 2, 3, 0, 4, 5, 6, 255]);
  const rgba = Uint8Array.from({ length: 2 * 2 * 4 }, (_, i) => (i * 37) & 0xff);
  assert.deepEqual(decodePng(encodePng({ width: 2, height: 2, rgba })).rgba, rgba);
  assert.throws(() => decodePng(Buffer.from('nope')), /not a PNG file/);
});

test('Terrarium and Terrain-RGB tile folders give the heights they were made with', () => {
  const bounds = { south: 48.165, west: -111.957, north: 48.175, east: -111.943 };
  for (const encoding of ['terrarium', 'mapbox'] as const) {
    const folder = path.join(dir, `tiles-${encoding}`);
    const count = writeTerrainTiles(folder, encoding, 15, bounds, plane);
    assert.ok(count >= 2, `${count} tiles`);
    // A lower zoom beside it: the highest is the one used.
    mkdirSync(path.join(folder, '3', '1'), { recursive: true });
    const terrain = openTerrainTiles(folder, encoding);
    assert.match(terrain.description, /zoom 15/);
    near(terrain.resolutionM, 3.19, 0.01, 'resolution at zoom 15');
    for (const [n, e] of [
      [0, 0],
      [200, -300],
      [-400, 350],
    ]) {
      const point = {
        latDeg: ORIGIN.latDeg + n / M_PER_DEG_LAT,
        lonDeg: ORIGIN.lonDeg + e / M_PER_DEG_LON,
      };
      near(
        terrain.elevationMslM(point) ?? NaN,
        plane(point),
        encoding === 'mapbox' ? 0.1 : 0.02,
        `${encoding} at ${n},${e}`,
      );
    }
    // Outside the folder's tiles there is no height.
    assert.equal(terrain.elevationMslM({ latDeg: 48.3, lonDeg: -111.95 }), null);
  }
});

test('a corrupt tile is a hole, not a crash; bad folders and specs are refused', async () => {
  const folder = path.join(dir, 'tiles-corrupt');
  writeTerrainTiles(
    folder,
    'terrarium',
    14,
    { south: 48.169, west: -111.951, north: 48.171, east: -111.949 },
    plane,
  );
  const terrain = openTerrainTiles(folder, 'terrarium');
  assert.notEqual(terrain.elevationMslM(ORIGIN), null);
  // Another tile that exists but is junk: reads as no data.
  const x = Math.floor(((ORIGIN.lonDeg + 180) / 360) * 2 ** 14) + 1;
  mkdirSync(path.join(folder, '14', String(x)), { recursive: true });
  const lat = (ORIGIN.latDeg * Math.PI) / 180;
  const y = Math.floor(((1 - Math.log(Math.tan(lat) + 1 / Math.cos(lat)) / Math.PI) / 2) * 2 ** 14);
  writeFileSync(path.join(folder, '14', String(x), `${y}.png`), 'junk');
  const fresh = openTerrainTiles(folder, 'terrarium', 14);
  const east = { latDeg: ORIGIN.latDeg, lonDeg: ((x + 0.5) / 2 ** 14) * 360 - 180 };
  assert.equal(fresh.elevationMslM(east), null);

  assert.throws(() => openTerrainTiles(path.join(dir, 'nowhere'), 'mapbox'), /is not a folder/);
  const empty = path.join(dir, 'empty');
  mkdirSync(empty);
  assert.throws(() => openTerrainTiles(empty, 'mapbox'), /no zoom folders/);
  assert.throws(() => openTerrainTiles(folder, 'mapbox', 9), /has no zoom 9 \(it has 14\)/);
  await assert.rejects(loadDem('hills.asc'), /must be FILE.tif/);
  await assert.rejects(loadDem('terrarium:'), /give the tile folder/);
  assert.equal(await loadDems([]), null);
  const layered = await loadDems([path.join(dir, 'plane.tif'), `terrarium:${folder}`]);
  assert.match(layered?.description ?? '', /GeoTIFF .* then terrarium tiles/);
});
