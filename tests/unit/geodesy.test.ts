import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  EARTH_RADIUS_M,
  bearingDeg,
  destination,
  distanceM,
  normalizeDeg,
  northEastOf,
  offsetNorthEast,
} from '../../app/core/geodesy';

const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

/** Smallest angle between two bearings, so 359.9 and 0.1 are 0.2 apart. */
function angleBetweenDeg(a: number, b: number): number {
  const d = Math.abs(normalizeDeg(a) - normalizeDeg(b));
  return Math.min(d, 360 - d);
}

test('normalizeDeg folds any angle into 0..360', () => {
  assert.equal(normalizeDeg(0), 0);
  assert.equal(normalizeDeg(360), 0);
  assert.equal(normalizeDeg(-90), 270);
  assert.equal(normalizeDeg(725), 5);
  assert.equal(normalizeDeg(-720), 0);
});

test('distanceM matches hand-computed arcs at Conrad, Montana', () => {
  const metresPerDeg = (EARTH_RADIUS_M * Math.PI) / 180;
  near(distanceM(CONRAD, { latDeg: 49.17, lonDeg: -111.95 }), metresPerDeg, 1e-6, 'lat degree');
  // A short hop east is a degree of longitude shrunk by cos(latitude).
  const eastHop = { latDeg: 48.17, lonDeg: -111.949 };
  near(
    distanceM(CONRAD, eastHop),
    0.001 * metresPerDeg * Math.cos((48.17 * Math.PI) / 180),
    1e-4,
    'east hop',
  );
  assert.equal(distanceM(CONRAD, CONRAD), 0);
  near(distanceM(eastHop, CONRAD), distanceM(CONRAD, eastHop), 1e-9, 'symmetry');
});

test('bearingDeg points along the compass', () => {
  const north = { latDeg: 48.18, lonDeg: -111.95 };
  const south = { latDeg: 48.16, lonDeg: -111.95 };
  near(bearingDeg(CONRAD, north), 0, 1e-9, 'north');
  near(bearingDeg(CONRAD, south), 180, 1e-9, 'south');
  // East and west along a parallel differ from 90/270 by the convergence of meridians,
  // tiny over 100 m.
  near(bearingDeg(CONRAD, { latDeg: 48.17, lonDeg: -111.948 }), 90, 1e-3, 'east');
  near(bearingDeg(CONRAD, { latDeg: 48.17, lonDeg: -111.952 }), 270, 1e-3, 'west');
});

test('destination then distanceM and bearingDeg give back what went in', () => {
  for (const distance of [1, 30, 150, 1000, 20_000]) {
    for (let bearing = 0; bearing < 360; bearing += 22.5) {
      const to = destination(CONRAD, bearing, distance);
      near(distanceM(CONRAD, to), distance, distance * 1e-9 + 1e-6, `distance ${distance}`);
      assert.ok(
        angleBetweenDeg(bearingDeg(CONRAD, to), bearing) < 1e-6,
        `bearing ${bearing} at ${distance} m came back as ${bearingDeg(CONRAD, to)}`,
      );
    }
  }
  near(distanceM(destination(CONRAD, 45, 0), CONRAD), 0, 1e-6, 'zero distance');
});

test('destination keeps longitude in -180..180 across the antimeridian', () => {
  const to = destination({ latDeg: 0, lonDeg: 179.9999 }, 90, 1000);
  assert.ok(to.lonDeg < -179.99 && to.lonDeg >= -180, `lon ${to.lonDeg}`);
  near(distanceM({ latDeg: 0, lonDeg: 179.9999 }, to), 1000, 1e-6, 'distance');
});

test('offsetNorthEast and northEastOf round-trip', () => {
  const offsets: Array<[number, number]> = [
    [0, 0],
    [100, 0],
    [0, 100],
    [-250, 40],
    [35.5, -12.25],
    [-1000, -1500],
  ];
  for (const [northM, eastM] of offsets) {
    const moved = offsetNorthEast(CONRAD, northM, eastM);
    const back = northEastOf(CONRAD, moved);
    near(back.northM, northM, 1e-6, `north for ${northM},${eastM}`);
    near(back.eastM, eastM, 1e-6, `east for ${northM},${eastM}`);
    near(distanceM(CONRAD, moved), Math.hypot(northM, eastM), 1e-6, 'distance');
  }
  // 100 m north is 100 / 111195 degrees of latitude, with the longitude untouched.
  const north = offsetNorthEast(CONRAD, 100, 0);
  near(north.latDeg - CONRAD.latDeg, (100 / (EARTH_RADIUS_M * Math.PI)) * 180, 1e-12, 'lat');
  near(north.lonDeg, CONRAD.lonDeg, 1e-12, 'lon');
  assert.notEqual(offsetNorthEast(CONRAD, 0, 0), CONRAD, 'returns a copy');
});
