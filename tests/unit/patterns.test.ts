import assert from 'node:assert/strict';
import { test } from 'node:test';

import { DEFAULT_ENVELOPE, checkSetpoint, type Setpoint } from '../../app/core/envelope';
import {
  bearingDeg,
  destination,
  distanceM,
  normalizeDeg,
  northEastOf,
  offsetNorthEast,
} from '../../app/core/geodesy';
import {
  BEAR_LENGTH_M,
  PATTERN_DEFAULTS,
  checkPatternSettings,
  createPattern,
  groundResolution,
  previewPattern,
  type Pattern,
  type PatternBear,
  type PatternContext,
  type PatternSettings,
  type PatternStep,
} from '../../app/core/patterns';
import type { LatLon } from '../../app/core/types';
import { pointInPolygon } from '../../app/core/zones';

const ORIGIN = { latDeg: 48.17, lonDeg: -111.95 };
const at = (northM: number, eastM: number): LatLon => offsetNorthEast(ORIGIN, northM, eastM);
const CAMERA = { horizontalFovDeg: 8, verticalFovDeg: 6, imageWidthPx: 640 };
const STEP_S = 0.2;
/** The kinematic drone of these tests: flies straight at each setpoint at up to this speed. */
const DRONE_SPEED_MPS = 10;

function angleBetweenDeg(a: number, b: number): number {
  const d = Math.abs(normalizeDeg(a) - normalizeDeg(b));
  return Math.min(d, 360 - d);
}

/** A small world: one bear, a drone that flies toward each setpoint, a clock. */
class Flight {
  nowMs = 1_000_000;
  drone: LatLon & { altitudeAglM: number };
  bear: PatternBear | null;
  safeZone: LatLon[] | null = null;

  constructor(drone: LatLon, bear: LatLon | null) {
    this.drone = { ...drone, altitudeAglM: 30 };
    this.bear = bear
      ? { ...bear, trackId: 7, courseDeg: null, speedMps: null, lastSeenMs: this.nowMs }
      : null;
  }

  ctx(): PatternContext {
    return {
      nowMs: this.nowMs,
      drone: { ...this.drone },
      bear: this.bear ? { ...this.bear } : null,
      safeZone: this.safeZone,
      camera: CAMERA,
    };
  }

  /** One step: the pattern's setpoint, checked by the default envelope, then flown. */
  step(pattern: Pattern): PatternStep {
    const result = pattern.step(this.ctx());
    if (result.setpoint) {
      const violation = checkSetpoint(result.setpoint, {
        drone: this.drone,
        home: ORIGIN,
        bears: this.bear ? [this.bear] : [],
        people: [],
        fences: [],
        noFlyZones: [],
        battery: null,
        linkUp: true,
      });
      assert.equal(violation, null, `the envelope refused: ${violation?.text}`);
      this.fly(result.setpoint);
    }
    this.nowMs += STEP_S * 1000;
    if (this.bear) this.bear.lastSeenMs = this.nowMs;
    return result;
  }

  private fly(to: Setpoint): void {
    const gapM = distanceM(this.drone, to);
    const moveM = Math.min(gapM, DRONE_SPEED_MPS * STEP_S);
    const next = gapM > 0 ? destination(this.drone, bearingDeg(this.drone, to), moveM) : this.drone;
    this.drone = { latDeg: next.latDeg, lonDeg: next.lonDeg, altitudeAglM: to.altitudeAglM };
  }

  moveBear(northM: number, eastM: number): void {
    assert.ok(this.bear);
    const next = offsetNorthEast(this.bear, northM, eastM);
    this.bear = { ...this.bear, ...next };
  }
}

const push = (overrides: Partial<Extract<PatternSettings, { kind: 'push' }>> = {}) =>
  ({ ...PATTERN_DEFAULTS.push, safeBearingDeg: 90, ...overrides }) as PatternSettings;

test('push: from behind, the setpoint is standoff from the bear, opposite the safe way', () => {
  const bear = at(0, 0);
  const flight = new Flight(at(0, -100), bear);
  const pattern = createPattern(push(), flight.ctx());
  const first = flight.step(pattern);
  assert.ok(first.setpoint);
  assert.ok(Math.abs(distanceM(bear, first.setpoint) - 40) < 0.01);
  assert.ok(angleBetweenDeg(bearingDeg(bear, first.setpoint), 270) < 0.01);
  assert.equal(first.setpoint.altitudeAglM, 25);
  assert.equal(first.outcome, null);
  assert.equal(first.bearMovedM, 0);
  assert.equal(first.bearTowardM, 0);
  assert.equal(
    first.text,
    'pushing toward 90 deg: behind the bear, bear 0 m of 200 m toward E (0 m moved)',
  );
});

test('push: from the safe side the drone goes round the bear, never inside the standoff', () => {
  const bear = at(0, 0);
  const flight = new Flight(at(0, 100), bear);
  const pattern = createPattern(push(), flight.ctx());
  let wentRound = false;
  for (let i = 0; i < 300; i++) {
    const result = flight.step(pattern);
    assert.ok(result.setpoint);
    wentRound ||= /going round/.test(result.text);
    assert.ok(distanceM(bear, flight.drone) >= 40 - 0.01, `step ${i}: inside the standoff`);
  }
  assert.ok(wentRound, 'the straight path would cross the bear, so it went round');
  assert.ok(Math.abs(distanceM(bear, flight.drone) - 40) < 0.1);
  assert.ok(angleBetweenDeg(bearingDeg(bear, flight.drone), 270) < 1, 'ends behind the bear');
});

test('push: follows a moving bear and succeeds once it moved the success distance', () => {
  const flight = new Flight(at(0, -60), at(0, 0));
  const pattern = createPattern(push({ successDistanceM: 100 }), flight.ctx());
  let last: PatternStep | null = null;
  for (let i = 0; i < 200 && !last?.outcome; i++) {
    flight.moveBear(0, 0.5);
    last = flight.step(pattern);
    assert.ok(typeof last.bearMovedM === 'number', 'bearMovedM on every step');
  }
  assert.ok(last);
  assert.equal(last.outcome, 'success');
  assert.equal(last.setpoint, null);
  assert.ok(last.bearMovedM! >= 100 && last.bearMovedM! < 101, `${last.bearMovedM}`);
  assert.equal(last.text, 'push succeeded: the bear moved 100 m toward E (100 m in all)');
  // The drone stayed behind the bear, on its west side, all along.
  assert.ok(bearingDeg(flight.bear!, flight.drone) > 260);
});

/** A push started on a bear at the origin, then one step with the bear moved. */
function pushedBear(settings: PatternSettings, northM: number, eastM: number, turnDeg = 0) {
  const flight = new Flight(at(0, -100), at(0, 0));
  const pattern = createPattern(settings, flight.ctx());
  if (turnDeg !== 0) pattern.nudge({ bearingDeltaDeg: turnDeg });
  flight.moveBear(northM, eastM);
  return pattern.step(flight.ctx());
}

test('push: success needs the distance toward the safe bearing, not any 200 m move', () => {
  // Pushed east, the bear runs 250 m west, the wrong way: no success.
  const back = pushedBear(push(), 0, -250);
  assert.equal(back.outcome, null);
  assert.ok(Math.abs(back.bearMovedM! - 250) < 0.01, 'bearMovedM stays the straight line');
  assert.ok(Math.abs(back.bearTowardM! + 250) < 0.01, `${back.bearTowardM}`);
  assert.match(back.text, /, bear -250 m of 200 m toward E \(250 m moved\)$/);
  // 250 m north, across the push: none of it counts.
  const across = pushedBear(push(), 250, 0);
  assert.equal(across.outcome, null);
  assert.match(across.text, /bear 0 m of 200 m toward E \(250 m moved\)$/);
  // 212 m north-east: 150 m of it toward the east, not yet enough.
  const diagonal = pushedBear(push(), 150, 150);
  assert.equal(diagonal.outcome, null);
  assert.ok(diagonal.bearMovedM! > 200);
  assert.match(diagonal.text, /bear 150 m of 200 m toward E \(212 m moved\)$/);
  // 201 m toward the east, a little north as well: success, with both distances in the text.
  const done = pushedBear(push(), 30, 201);
  assert.equal(done.outcome, 'success');
  assert.equal(done.setpoint, null);
  assert.ok(Math.abs(done.bearTowardM! - 201) < 0.01);
  assert.equal(done.text, 'push succeeded: the bear moved 201 m toward E (203 m in all)');
});

test('push: success is measured along the safe bearing as nudged', () => {
  // Turned from east to north while it flies: 200 m north now counts, 250 m east does not.
  const north = pushedBear(push(), 200, 0, -90);
  assert.equal(north.outcome, 'success');
  assert.equal(north.text, 'push succeeded: the bear moved 200 m toward N (200 m in all)');
  const east = pushedBear(push(), 0, 250, -90);
  assert.equal(east.outcome, null);
  assert.match(east.text, /^pushing toward 0 deg: .*bear 0 m of 200 m toward N \(250 m moved\)$/);
  // Turned 45 deg: toward the north-east.
  const ne = pushedBear(push(), 100, 100, -45);
  assert.match(ne.text, /bear 141 m of 200 m toward NE \(141 m moved\)$/);
});

test('push into a safe zone aims at the zone and succeeds inside it', () => {
  const bear = at(0, 0);
  const flight = new Flight(at(0, -100), bear);
  // A zone to the north-east: the drone must sit south-west of the bear.
  flight.safeZone = [at(100, 100), at(100, 200), at(200, 200), at(200, 100)];
  const pattern = createPattern(push({ safeZoneId: 3, safeBearingDeg: 0 }), flight.ctx());
  const result = flight.step(pattern);
  assert.ok(result.setpoint);
  // The zone's nearest point is its corner at (100, 100): 45 deg from the bear.
  assert.ok(angleBetweenDeg(bearingDeg(bear, result.setpoint), 225) < 0.5);
  assert.match(result.text, /^pushing toward 45 deg/);
  flight.moveBear(150, 150);
  const done = flight.step(pattern);
  assert.equal(done.outcome, 'success');
  assert.match(done.text, /in the safe zone/);
});

test('a lost bear: hold at once with the reason, end as lost-bear after 30 s', () => {
  const flight = new Flight(at(0, -100), at(0, 0));
  const pattern = createPattern(push(), flight.ctx());
  assert.ok(flight.step(pattern).setpoint);
  const lastSeenMs = flight.nowMs;
  flight.bear = null;
  const held = pattern.step({ ...flight.ctx(), nowMs: lastSeenMs + 1000 });
  assert.deepEqual(held, { setpoint: null, text: 'bear lost 1 s ago: holding', outcome: null });
  const stale = { ...flight.ctx(), nowMs: lastSeenMs + 31_000 };
  const ended = pattern.step(stale);
  assert.equal(ended.outcome, 'lost-bear');
  assert.equal(ended.setpoint, null);
  // A track that is there but not seen for 6 s is lost too.
  const bear = { ...at(0, 0), trackId: 1, courseDeg: null, speedMps: null, lastSeenMs: 0 };
  const orbit = createPattern(PATTERN_DEFAULTS.orbit, { ...flight.ctx(), bear, nowMs: 0 });
  const staleStep = orbit.step({ ...flight.ctx(), bear, nowMs: 6000 });
  assert.equal(staleStep.setpoint, null);
  assert.match(staleStep.text, /^bear lost 6 s ago: holding$/);
});

test('orbit: every setpoint within 1 m of the radius, the drone within 1 m once on it', () => {
  for (const radiusM of [20, 50, 200]) {
    for (const clockwise of [true, false]) {
      const bear = at(0, 0);
      const flight = new Flight(at(300, 300), bear);
      const settings = { ...PATTERN_DEFAULTS.orbit, radiusM, speedMps: 8, clockwise };
      const pattern = createPattern(settings, flight.ctx());
      let onCircle = false;
      let previousDeg: number | null = null;
      let turnedDeg = 0;
      for (let i = 0; i < 1500; i++) {
        const result = flight.step(pattern);
        assert.ok(result.setpoint);
        const offM = Math.abs(distanceM(bear, result.setpoint) - radiusM);
        assert.ok(offM <= 1, `radius ${radiusM}: setpoint ${offM.toFixed(2)} m off the circle`);
        const droneOffM = Math.abs(distanceM(bear, flight.drone) - radiusM);
        if (droneOffM < 0.5) onCircle = true;
        if (!onCircle) continue;
        assert.ok(droneOffM <= 1, `radius ${radiusM}: drone ${droneOffM.toFixed(2)} m off`);
        const nowDeg = bearingDeg(bear, flight.drone);
        if (previousDeg !== null) turnedDeg += ((nowDeg - previousDeg + 540) % 360) - 180;
        previousDeg = nowDeg;
      }
      assert.ok(onCircle, `radius ${radiusM}: reached the circle`);
      // Clockwise: bearing from the bear grows; at least one full turn.
      if (clockwise) assert.ok(turnedDeg > 360, `turned ${turnedDeg}`);
      else assert.ok(turnedDeg < -360, `turned ${turnedDeg}`);
    }
  }
});

test('zigzag: alternate sides of the line, legSpacingM apart, there and back', () => {
  const line: [LatLon, LatLon] = [at(0, 0), at(0, 200)];
  const settings: PatternSettings = {
    ...PATTERN_DEFAULTS.zigzag,
    line,
    halfWidthM: 30,
    legSpacingM: 50,
  };
  const flight = new Flight(at(-40, -10), null);
  const pattern = createPattern(settings, flight.ctx());
  const vertices = pattern.preview(flight.ctx());
  assert.equal(vertices.length, 5);
  vertices.forEach((vertex, i) => {
    const { northM, eastM } = northEastOf(ORIGIN, vertex);
    assert.ok(Math.abs(eastM - 50 * i) < 0.01, `corner ${i} east ${eastM}`);
    assert.ok(Math.abs(northM - (i % 2 === 0 ? -30 : 30)) < 0.01, `corner ${i} north ${northM}`);
  });
  const visited: number[] = [];
  for (let i = 0; i < 400; i++) {
    const result = flight.step(pattern);
    assert.ok(result.setpoint);
    const index = vertices.findIndex((v) => distanceM(v, result.setpoint!) < 0.01);
    if (visited[visited.length - 1] !== index) visited.push(index);
  }
  assert.deepEqual(visited.slice(0, 9), [0, 1, 2, 3, 4, 3, 2, 1, 0]);
});

test('ground resolution at 60 m with an 8 x 6 deg lens', () => {
  const resolution = groundResolution(60, CAMERA, 640, 20);
  const swathM = 2 * 60 * Math.tan((4 * Math.PI) / 180);
  assert.ok(Math.abs(resolution.swathM - 8.391) < 0.001);
  assert.ok(Math.abs(resolution.swathM - swathM) < 1e-9);
  assert.ok(Math.abs(resolution.legSpacingM - swathM * 0.8) < 1e-9);
  assert.ok(Math.abs(resolution.metresPerPixel - swathM / 640) < 1e-12);
  assert.ok(Math.abs(resolution.bearLengthPx - BEAR_LENGTH_M / (swathM / 640)) < 1e-9);
  assert.ok(Math.round(resolution.bearLengthPx) === 145);
  assert.throws(() => groundResolution(0, CAMERA, 640, 20), /altitude 0 m/);
  assert.throws(() => groundResolution(60, CAMERA, 640, 100), /overlap 100%/);
  assert.throws(() => groundResolution(60, { ...CAMERA, horizontalFovDeg: 0 }, 640, 0), /view/);
});

test('search: a lawnmower over the polygon, legs at the camera spacing, then finished', () => {
  const polygon = [at(0, 0), at(0, 120), at(60, 120), at(60, 0)];
  const settings: PatternSettings = {
    ...PATTERN_DEFAULTS.search,
    polygon,
    altitudeAglM: 60,
    overlapPct: 20,
  };
  const flight = new Flight(at(-20, -20), null);
  const pattern = createPattern(settings, flight.ctx());
  const vertices = pattern.preview(flight.ctx());
  const spacingM = groundResolution(60, CAMERA, 640, 20).legSpacingM;
  const legs = Math.ceil(60 / spacingM);
  assert.equal(vertices.length, legs * 2);
  const norths = vertices.map((v) => northEastOf(ORIGIN, v).northM);
  for (let leg = 0; leg < legs; leg++) {
    assert.ok(Math.abs(norths[2 * leg] - norths[2 * leg + 1]) < 0.01, 'legs run east-west');
    if (leg > 0) {
      const gapM = Math.abs(norths[2 * leg] - norths[2 * leg - 2]);
      assert.ok(gapM <= spacingM + 1e-6 && gapM > spacingM * 0.8, `gap ${gapM}`);
    }
  }
  for (const vertex of vertices) {
    const { northM, eastM } = northEastOf(ORIGIN, vertex);
    assert.ok(northM > 0 && northM < 60 && eastM > -0.01 && eastM < 120.01, 'clipped to it');
  }
  assert.ok(distanceM(flight.drone, vertices[0]) < distanceM(flight.drone, vertices.at(-1)!));
  let last: PatternStep | null = null;
  for (let i = 0; i < 2000 && !last?.outcome; i++) last = flight.step(pattern);
  assert.equal(last?.outcome, 'finished');
  assert.equal(last.setpoint, null);
});

test('search over a concave polygon keeps every leg inside it', () => {
  const polygon = [
    at(0, 0),
    at(0, 100),
    at(100, 100),
    at(100, 70),
    at(30, 70),
    at(30, 30),
    at(100, 30),
    at(100, 0),
  ];
  const settings: PatternSettings = { ...PATTERN_DEFAULTS.search, polygon, altitudeAglM: 120 };
  const flight = new Flight(at(0, 0), null);
  const vertices = previewPattern(settings, flight.ctx());
  for (let i = 0; i + 1 < vertices.length; i += 2) {
    for (let t = 0.05; t < 1; t += 0.05) {
      const a = northEastOf(ORIGIN, vertices[i]);
      const b = northEastOf(ORIGIN, vertices[i + 1]);
      const p = at(a.northM + (b.northM - a.northM) * t, a.eastM + (b.eastM - a.eastM) * t);
      assert.ok(pointInPolygon(p, polygon), `leg ${i / 2 + 1} leaves the polygon`);
    }
  }
});

test('shadow: holds the offset from the bear at the bearing, and follows it', () => {
  const flight = new Flight(at(0, 100), at(0, 0));
  const settings: PatternSettings = {
    ...PATTERN_DEFAULTS.shadow,
    offsetM: 60,
    offsetBearingDeg: 0,
  };
  const pattern = createPattern(settings, flight.ctx());
  for (let i = 0; i < 300; i++) {
    flight.moveBear(0, 0.3);
    flight.step(pattern);
  }
  assert.ok(Math.abs(distanceM(flight.bear!, flight.drone) - 60) < 1);
  assert.ok(angleBetweenDeg(bearingDeg(flight.bear!, flight.drone), 0) < 2);
  assert.deepEqual(pattern.preview(flight.ctx()).length, 2);
});

test('nudge turns and stretches within range, else names the limit', () => {
  const flight = new Flight(at(0, -100), at(0, 0));
  const pushing = createPattern(push({ standoffM: 40 }), flight.ctx());
  const turned = pushing.nudge({ bearingDeltaDeg: -100, distanceDeltaM: 10 });
  assert.equal(turned.kind === 'push' && turned.safeBearingDeg, 350);
  assert.equal(turned.kind === 'push' && turned.standoffM, 50);
  assert.equal(pushing.settings, turned);
  for (let i = 0; i < 200; i++) flight.step(pushing);
  assert.ok(Math.abs(distanceM(flight.bear!, flight.drone) - 50) < 0.1);
  assert.ok(angleBetweenDeg(bearingDeg(flight.bear!, flight.drone), 170) < 1);
  assert.throws(() => pushing.nudge({ distanceDeltaM: 101 }), {
    message: 'push standoffM 151 would be outside 20-150 m',
  });
  const orbit = createPattern(PATTERN_DEFAULTS.orbit, flight.ctx());
  assert.equal((orbit.nudge({ distanceDeltaM: -30 }) as { radiusM: number }).radiusM, 20);
  assert.throws(() => orbit.nudge({ distanceDeltaM: -1 }), /orbit radiusM 19 would be outside/);
  assert.throws(() => orbit.nudge({ bearingDeltaDeg: 10 }), /orbit has no bearing/);
  const shadow = createPattern(PATTERN_DEFAULTS.shadow, flight.ctx());
  const moved = shadow.nudge({ bearingDeltaDeg: 200 - 20, distanceDeltaM: -30 });
  assert.deepEqual(moved, { ...PATTERN_DEFAULTS.shadow, offsetBearingDeg: 0, offsetM: 20 });
  const zigzag = createPattern(
    { ...PATTERN_DEFAULTS.zigzag, line: [at(0, 0), at(0, 100)] },
    flight.ctx(),
  );
  assert.throws(() => zigzag.nudge({ distanceDeltaM: 5 }), /zigzag cannot be nudged/);
  assert.throws(() => pushing.nudge({ bearingDeltaDeg: NaN }), /bearingDeltaDeg NaN/);
});

test('preview: the push point and arrow, the orbit ring', () => {
  const bear = at(0, 0);
  const flight = new Flight(at(0, -100), bear);
  const line = previewPattern(push({ standoffM: 40, successDistanceM: 300 }), flight.ctx());
  assert.equal(line.length, 3);
  assert.ok(Math.abs(distanceM(bear, line[0]) - 40) < 0.01);
  assert.ok(angleBetweenDeg(bearingDeg(bear, line[0]), 270) < 0.01);
  assert.ok(distanceM(bear, line[1]) < 0.01);
  assert.ok(Math.abs(distanceM(bear, line[2]) - 300) < 0.01);
  assert.ok(angleBetweenDeg(bearingDeg(bear, line[2]), 90) < 0.01);
  const ring = previewPattern({ ...PATTERN_DEFAULTS.orbit, radiusM: 80 }, flight.ctx());
  assert.ok(ring.length > 30);
  assert.ok(ring.every((p) => Math.abs(distanceM(bear, p) - 80) < 0.01));
  assert.ok(distanceM(ring[0], ring.at(-1)!) < 0.01, 'closed');
  assert.deepEqual(previewPattern(push(), { ...flight.ctx(), bear: null }), []);
});

test('checkPatternSettings takes the defaults and names what is wrong', () => {
  const good: PatternSettings[] = [
    PATTERN_DEFAULTS.push,
    PATTERN_DEFAULTS.orbit,
    PATTERN_DEFAULTS.shadow,
    { ...PATTERN_DEFAULTS.zigzag, line: [at(0, 0), at(0, 100)] },
    { ...PATTERN_DEFAULTS.search, polygon: [at(0, 0), at(0, 100), at(100, 0)] },
  ];
  for (const settings of good) {
    assert.deepEqual(checkPatternSettings(JSON.parse(JSON.stringify(settings))), settings);
  }
  const cases: Array<[unknown, string | RegExp]> = [
    ['push', 'pattern settings are not an object'],
    [{ kind: 'circle' }, 'pattern kind "circle" is not push, orbit, zigzag, search or shadow'],
    [{ ...PATTERN_DEFAULTS.orbit, radiusM: 5 }, 'orbit radiusM 5 is outside 20-200 m'],
    [{ ...PATTERN_DEFAULTS.orbit, speedMps: 20 }, 'orbit speedMps 20 is outside 1-15 m/s'],
    [{ ...PATTERN_DEFAULTS.push, altitudeAglM: 50 }, 'push altitudeAglM 50 is outside 15-40 m'],
    [{ ...PATTERN_DEFAULTS.push, standoffM: '40' }, 'push standoffM "40" is not a number'],
    [{ ...PATTERN_DEFAULTS.push, safeZoneId: 0 }, /push safeZoneId 0 is not null or a zone id/],
    [{ ...PATTERN_DEFAULTS.push, onSuccess: 'land' }, /onSuccess "land" is not hold or return/],
    [{ ...PATTERN_DEFAULTS.push, standoff: 40 }, /push: unknown field standoff/],
    [{ ...PATTERN_DEFAULTS.shadow, offsetM: 500 }, 'shadow offsetM 500 is outside 20-200 m'],
    [
      { ...PATTERN_DEFAULTS.search, polygon: [at(0, 0), at(0, 1)] },
      'search polygon has 2 corners; it needs 3-100',
    ],
    [
      { ...PATTERN_DEFAULTS.search, polygon: [at(0, 0), at(0, 1), { latDeg: 95, lonDeg: 0 }] },
      /search polygon corner 3: latDeg 95 is not a number in -90\.\.90/,
    ],
    [{ ...PATTERN_DEFAULTS.search, overlapPct: 90 }, /polygon is not a list/],
    [
      { ...PATTERN_DEFAULTS.zigzag, line: [at(0, 0), at(0, 1)] },
      'zigzag line is 1 m long; it must be 5-5000 m',
    ],
    [{ ...PATTERN_DEFAULTS.zigzag, line: [at(0, 0)] }, 'zigzag line is not a list of two points'],
  ];
  for (const [value, message] of cases) {
    assert.throws(
      () => checkPatternSettings(value),
      message instanceof RegExp ? message : { message },
    );
  }
  assert.throws(
    () => checkPatternSettings({ ...PATTERN_DEFAULTS.orbit, radiusM: 5 }, 'The pattern'),
    { message: 'The pattern: orbit radiusM 5 is outside 20-200 m' },
  );
  const normalised = checkPatternSettings({ ...PATTERN_DEFAULTS.push, safeBearingDeg: -90 });
  assert.equal(normalised.kind === 'push' && normalised.safeBearingDeg, 270);
});

test('createPattern refuses a survey with far too many legs', () => {
  const huge = [at(0, 0), at(0, 3_000), at(3_000, 3_000), at(3_000, 0)];
  const settings: PatternSettings = {
    ...PATTERN_DEFAULTS.search,
    polygon: huge,
    altitudeAglM: 10,
    overlapPct: 80,
  };
  const flight = new Flight(at(0, 0), null);
  assert.throws(() => createPattern(settings, flight.ctx()), /legs .* too many/);
});

test('the default push passes the default envelope (standoff and altitude band)', () => {
  assert.ok(PATTERN_DEFAULTS.push.standoffM >= DEFAULT_ENVELOPE.bearStandoffM);
  assert.ok(PATTERN_DEFAULTS.push.altitudeAglM >= DEFAULT_ENVELOPE.floorAglM);
});

test('a search area wider than 5 km is refused as a slip of the map', () => {
  const home = { latDeg: 48.17, lonDeg: -111.95 };
  const corners = [home, offsetNorthEast(home, 0, 6_000), offsetNorthEast(home, 1_000, 0)];
  assert.throws(
    () =>
      checkPatternSettings({
        kind: 'search',
        polygon: corners,
        altitudeAglM: 60,
        overlapPct: 30,
        speedMps: 8,
      }),
    /search polygon spans 6\d{3} m; a search covers at most 5000 m across/,
  );
});
