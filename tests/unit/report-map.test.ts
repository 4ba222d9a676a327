// The report's map: a true metric scale (the scale bar against what the drone flew), north up,
// and offline tiles registered under the drawing at a zoom that fits, with their attribution.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { distanceM } from '../../app/core/geodesy';
import type { LatLon } from '../../app/core/types';
import {
  rampColour,
  PATH_RAMP,
  renderMapSvg,
  type MapInput,
} from '../../app/station/report/map-svg';
import { openTileStore, type TileStore } from '../../app/station/tiles/tile-store';
import { latLonToTile } from '../../app/station/tiles/xyz';
import { makeTileFolder, TEST_TILE_ATTRIBUTION } from '../helpers/tiles';
import { HOME, keyFrameJpeg, makeReportInput } from './report-fixture';

const number = (text: string, pattern: RegExp): number => {
  const match = pattern.exec(text);
  assert.ok(match, `no ${pattern} in the map`);
  return Number(match[1]);
};

/** Metres per map pixel, read off the scale bar the map drew. */
function metresPerPx(svg: string): number {
  const lengthM = number(svg, /class="scale-bar" data-length-m="([\d.]+)"/);
  const lengthPx = number(svg, /<path d="M[\d.]+,[\d.]+v6h([\d.]+)v-6"/);
  return lengthM / lengthPx;
}

function startAndEnd(svg: string): { start: [number, number]; end: [number, number] } {
  const start = /class="path-start"><circle cx="([\d.]+)" cy="([\d.]+)"/.exec(svg);
  const end = /class="path-end"><rect x="([\d.]+)" y="([\d.]+)"/.exec(svg);
  assert.ok(start && end);
  return {
    start: [Number(start[1]), Number(start[2])],
    end: [Number(end[1]) + 8, Number(end[2]) + 8],
  };
}

describe('incident report map', { skip: keyFrameJpeg() ? false : 'no key frame' }, () => {
  let work = '';
  let input: MapInput;
  let store: TileStore | null = null;

  before(() => {
    work = mkdtempSync(path.join(os.tmpdir(), 'ursa-report-map-'));
    const report = makeReportInput(work).input;
    input = { ...report, tiles: null };
    makeTileFolder(path.join(work, 'tiles'), {
      center: HOME,
      minZoom: 13,
      maxZoom: 16,
      radiusTiles: 3,
    });
    store = openTileStore(path.join(work, 'tiles'));
  });

  after(() => {
    store?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  test('distances on the map are true: the start-to-end line measures as on the ground', () => {
    const map = renderMapSvg(input);
    assert.ok(map);
    const scale = metresPerPx(map.svg);
    const { start, end } = startAndEnd(map.svg);
    const path = input.vehiclePath;
    const groundM = distanceM(path[0], path[path.length - 1]);
    const mapM = Math.hypot(end[0] - start[0], end[1] - start[1]) * scale;
    assert.ok(Math.abs(mapM - groundM) / groundM < 0.01, `map ${mapM} m, ground ${groundM} m`);
    // North up, east right: 300 m north and 400 m east of the start.
    assert.ok(Math.abs((end[0] - start[0]) * scale - 400) < 5);
    assert.ok(Math.abs((start[1] - end[1]) * scale - 300) < 5);
    assert.match(map.svg, /class="north-arrow"/);
    assert.equal(map.tiles, null);
  });

  test('the path is coloured from the first ramp colour to the last, with UTC time ticks', () => {
    const map = renderMapSvg(input);
    assert.ok(map);
    const colours = [
      ...map.svg.matchAll(/<polyline [^>]*stroke="(#[0-9a-f]{6})" stroke-width="3.5"/g),
    ].map((m) => m[1]);
    assert.ok(colours.length > 10);
    assert.notEqual(colours[0], colours[colours.length - 1]);
    assert.equal(rampColour(0), PATH_RAMP[0]);
    assert.equal(rampColour(1), PATH_RAMP[PATH_RAMP.length - 1]);
    assert.deepEqual(
      [...map.svg.matchAll(/class="time-ticks">(.*?)<\/g>/g)].flatMap((m) =>
        [...m[1].matchAll(/>(\d\d:\d\d)<\/text>/g)].map((t) => t[1]),
      ),
      ['23:59', '00:00', '00:01', '00:02'],
    );
    for (const kind of ['protected', 'no-fly', 'fence', 'safe']) {
      assert.match(map.svg, new RegExp(`class="zone zone-${kind}"`));
    }
    assert.equal([...map.svg.matchAll(/class="track"/g)].length, 3);
  });

  test('offline tiles lie under the map at the finest zoom the store has, registered', () => {
    assert.ok(store);
    const map = renderMapSvg({
      ...input,
      tiles: { provider: store, attribution: store.attribution },
    });
    assert.ok(map && map.tiles);
    // The map is about 0.8 m a pixel: zoom 17 would fit, the store stops at 16.
    assert.equal(map.tiles.zoom, 16);
    assert.equal(map.tiles.attribution, TEST_TILE_ATTRIBUTION);
    assert.ok(map.svg.includes(TEST_TILE_ATTRIBUTION));
    const tilePattern = new RegExp(
      '<image href="data:image/png;base64,[^"]+" x="([-\\d.]+)" y="([-\\d.]+)"' +
        ' width="([\\d.]+)" height="([\\d.]+)"',
      'g',
    );
    const images = [...map.svg.matchAll(tilePattern)].map((m) => m.slice(1, 5).map(Number));
    assert.equal(images.length, map.tiles.count);
    assert.ok(images.length >= 4);
    const scale = metresPerPx(map.svg);
    const tileM = (40_075_016.686 * Math.cos((HOME.latDeg * Math.PI) / 180)) / 2 ** 16;
    for (const [, , width, height] of images) {
      assert.ok(Math.abs(width * scale - tileM) / tileM < 0.01, `tile ${width * scale} m wide`);
      assert.ok(Math.abs(height - width) < 1, 'tiles are square on a conformal map');
    }
    // Home, where the drone took off, lies in its tile where Web Mercator puts it.
    const tile = latLonToTile(HOME, 16);
    const fraction = mercatorFraction(HOME, 16);
    const { start } = startAndEnd(map.svg);
    const holding = images.find(
      ([x, y, w, h]) => start[0] >= x && start[0] < x + w && start[1] >= y && start[1] < y + h,
    );
    assert.ok(holding, 'no tile under the start');
    const [x, y, w, h] = holding;
    assert.ok(Math.abs(x + (fraction.x - tile.x) * w - start[0]) < 1.5);
    assert.ok(Math.abs(y + (fraction.y - tile.y) * h - start[1]) < 1.5);
  });

  test('a tile store that throws costs the map its tiles, not the report its map', () => {
    const broken = {
      getTile: (): never => {
        throw new Error('database disk image is malformed');
      },
    };
    const map = renderMapSvg({ ...input, tiles: { provider: broken, attribution: 'x' } });
    assert.ok(map);
    assert.equal(map.tiles, null);
    assert.match(map.svg, /class="vehicle-path"/);
  });

  test('each session of a record with a clock jump back is its own line, in record order', () => {
    const path = input.vehiclePath;
    // The second half replayed 60 s earlier, 300 m south: as a second session would be.
    const jumped = [
      ...path.slice(0, 150),
      ...path.slice(150).map((point) => ({
        ...point,
        latDeg: point.latDeg - 0.0027,
        timeMs: point.timeMs - 60_000,
      })),
    ];
    const map = renderMapSvg({ ...input, vehiclePath: jumped });
    assert.ok(map);
    assert.match(map.svg, /class="vehicle-path" data-points="300" data-legs="2"/);
    const casings = [...map.svg.matchAll(/class="path-casing" points="([^"]+)"/g)];
    assert.equal(casings.length, 2);
    assert.deepEqual(
      casings.map((casing) => casing[1].trim().split(' ').length),
      [150, 150],
    );
    const single = renderMapSvg(input);
    assert.ok(single);
    assert.match(single.svg, /data-legs="1"/);
  });

  test('nothing with a position: no map', () => {
    assert.equal(renderMapSvg({ ...input, vehiclePath: [], tracks: [], zones: [] }), null);
    const zonesOnly = renderMapSvg({ ...input, vehiclePath: [], tracks: [] });
    assert.ok(zonesOnly && !zonesOnly.svg.includes('vehicle-path'));
  });
});

function mercatorFraction(point: LatLon, zoom: number): { x: number; y: number } {
  const size = 2 ** zoom;
  const latRad = (point.latDeg * Math.PI) / 180;
  return {
    x: ((point.lonDeg + 180) / 360) * size,
    y: ((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * size,
  };
}
