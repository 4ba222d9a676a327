import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bearingDeg, distanceM, normalizeDeg } from '../../app/core/geodesy';
import { PUSH_LIMITS, planPush, type PushPlan, type PushRequest } from '../../app/core/hazing';

const BEAR = { latDeg: 48.17, lonDeg: -111.95 };

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

function angleBetweenDeg(a: number, b: number): number {
  const d = Math.abs(normalizeDeg(a) - normalizeDeg(b));
  return Math.min(d, 360 - d);
}

const BASE: PushRequest = { bear: BEAR, safeBearingDeg: 90, standoffM: 40, altitudeM: 30 };

function plan(request: Partial<PushRequest>): PushPlan {
  const result = planPush({ ...BASE, ...request });
  assert.ok(!('error' in result), `unexpected error: ${'error' in result ? result.error : ''}`);
  return result;
}

test('the drone target is standoff from the bear, opposite the safe direction', () => {
  for (const safeBearingDeg of [0, 45, 90, 180, 270, 359]) {
    for (const standoffM of [10, 40, 150]) {
      const p = plan({ safeBearingDeg, standoffM });
      near(distanceM(BEAR, p.droneTarget), standoffM, 1e-6, 'standoff');
      const fromBear = bearingDeg(BEAR, p.droneTarget);
      assert.ok(
        angleBetweenDeg(fromBear, safeBearingDeg + 180) < 1e-6,
        `drone at ${fromBear} from the bear for safe bearing ${safeBearingDeg}`,
      );
    }
  }
});

test('the drone faces the bear, which is also the safe direction', () => {
  const p = plan({ safeBearingDeg: 90, standoffM: 60 });
  near(p.droneHeadingDeg, bearingDeg(p.droneTarget, BEAR), 1e-9, 'heading');
  assert.ok(angleBetweenDeg(p.droneHeadingDeg, 90) < 1e-3, `heading ${p.droneHeadingDeg}`);
  // Facing east, the drone is west of the bear at the same latitude.
  assert.ok(p.droneTarget.lonDeg < BEAR.lonDeg);
  near(p.droneTarget.latDeg, BEAR.latDeg, 1e-6, 'latitude');
});

test('the safe arrow points along the safe direction, at least 50 m long', () => {
  const short = plan({ safeBearingDeg: 200, standoffM: 20 });
  near(distanceM(BEAR, short.safeArrowEnd), 50, 1e-6, 'short arrow');
  assert.ok(angleBetweenDeg(bearingDeg(BEAR, short.safeArrowEnd), 200) < 1e-6);
  const long = plan({ safeBearingDeg: 200, standoffM: 120 });
  near(distanceM(BEAR, long.safeArrowEnd), 120, 1e-6, 'long arrow');
});

test('the plan keeps the request and normalises the safe bearing', () => {
  const p = plan({ safeBearingDeg: -90, standoffM: 25, altitudeM: 45 });
  assert.equal(p.safeBearingDeg, 270);
  assert.equal(p.standoffM, 25);
  assert.equal(p.altitudeM, 45);
  assert.deepEqual(p.bear, BEAR);
  assert.equal(plan({ safeBearingDeg: 450 }).safeBearingDeg, 90);
});

test('standoff, altitude and direction outside the limits give errors that say so', () => {
  const cases: Array<[Partial<PushRequest>, RegExp]> = [
    [{ standoffM: PUSH_LIMITS.minStandoffM - 1 }, /standoff 9 m is outside 10-150 m/],
    [{ standoffM: PUSH_LIMITS.maxStandoffM + 1 }, /standoff 151 m is outside/],
    [{ standoffM: Number.NaN }, /standoff NaN m is outside/],
    [{ altitudeM: PUSH_LIMITS.minAltitudeM - 1 }, /altitude 9 m is outside 10-120 m above home/],
    [{ altitudeM: PUSH_LIMITS.maxAltitudeM + 0.5 }, /altitude 120.5 m is outside/],
    [{ altitudeM: Number.POSITIVE_INFINITY }, /altitude Infinity m is outside/],
    [{ safeBearingDeg: Number.NaN }, /safe direction NaN is not a bearing/],
    [{ safeBearingDeg: -1e300 }, /safe direction -1e\+300 is not a bearing/],
    [{ safeBearingDeg: 721 }, /safe direction 721 is not a bearing/],
  ];
  for (const [request, message] of cases) {
    const result = planPush({ ...BASE, ...request });
    assert.ok('error' in result, `expected an error for ${JSON.stringify(request)}`);
    assert.match(result.error, message);
  }
  // The limits themselves are allowed.
  plan({ standoffM: PUSH_LIMITS.minStandoffM, altitudeM: PUSH_LIMITS.maxAltitudeM });
  plan({ standoffM: PUSH_LIMITS.maxStandoffM, altitudeM: PUSH_LIMITS.minAltitudeM });
});

test('a bear position that is not a number is refused', () => {
  const result = planPush({
    bear: { latDeg: Number.NaN, lonDeg: -111.95 },
    safeBearingDeg: 90,
    standoffM: 40,
    altitudeM: 30,
  });
  assert.ok('error' in result, 'got a plan with a NaN drone target');
  assert.match(result.error, /bear position/);
});
