import assert from 'node:assert/strict';
import { test } from 'node:test';

import { distanceM, northEastOf } from '../../app/core/geodesy';
import { PoseHistory, interpolateAngleDeg, type PoseSample } from '../../app/core/pose-history';

const ORIGIN = { latDeg: 48.17, lonDeg: -111.95 };
const T0 = 1_700_000_000_000;

function sample(
  timeMs: number,
  overrides: Partial<{
    northM: number;
    altitudeRelM: number;
    yawDeg: number;
    gimbalYawDeg: number;
    gimbalPitchDeg: number;
  }> = {},
): PoseSample {
  const latDeg = ORIGIN.latDeg + (overrides.northM ?? 0) / 111_195;
  return {
    timeMs,
    position: {
      latDeg,
      lonDeg: ORIGIN.lonDeg,
      altitudeMslM: 1060 + (overrides.altitudeRelM ?? 30),
      altitudeRelM: overrides.altitudeRelM ?? 30,
    },
    attitude: { rollDeg: 0, pitchDeg: 0, yawDeg: overrides.yawDeg ?? 0 },
    gimbal: {
      pitchDeg: overrides.gimbalPitchDeg ?? -45,
      rollDeg: 0,
      yawDeg: overrides.gimbalYawDeg ?? 0,
      yawFrame: 'vehicle',
    },
  };
}

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

test('angles interpolate the short way round the circle', () => {
  near(interpolateAngleDeg(359, 1, 0.5), 360, 1e-9, '359 -> 1');
  near(interpolateAngleDeg(1, 359, 0.25), 0.5, 1e-9, '1 -> 359');
  near(interpolateAngleDeg(-170, 170, 0.5), -180, 1e-9, '-170 -> 170');
  near(interpolateAngleDeg(10, 50, 0.25), 20, 1e-9, 'plain');
});

test('a frame between two poses gets the pose interpolated to its time', () => {
  const history = new PoseHistory();
  history.push(sample(T0, { northM: 0, altitudeRelM: 30, gimbalPitchDeg: -40 }));
  history.push(sample(T0 + 200, { northM: 10, altitudeRelM: 40, gimbalPitchDeg: -60 }));
  const at = history.at(T0 + 50);
  assert.ok(at.ok);
  assert.equal(at.method, 'interpolated');
  assert.equal(at.offsetMs, 50);
  const { northM, eastM } = northEastOf(ORIGIN, at.sample.position);
  near(northM, 2.5, 0.01, 'north');
  near(eastM, 0, 0.01, 'east');
  near(at.sample.position.altitudeRelM, 32.5, 1e-9, 'relative altitude');
  near(at.sample.gimbal?.pitchDeg ?? NaN, -45, 1e-9, 'gimbal pitch');
  assert.equal(at.sample.timeMs, T0 + 50);
});

test('heading and gimbal yaw cross north the short way', () => {
  const history = new PoseHistory();
  history.push(sample(T0, { yawDeg: 359, gimbalYawDeg: 170 }));
  history.push(sample(T0 + 100, { yawDeg: 1, gimbalYawDeg: -170 }));
  const mid = history.at(T0 + 50);
  assert.ok(mid.ok);
  near(mid.sample.attitude.yawDeg % 360, 0, 1e-9, 'heading at the midpoint');
  near(Math.abs(mid.sample.gimbal?.yawDeg ?? NaN), 180, 1e-9, 'gimbal yaw at the midpoint');
  const quarter = history.at(T0 + 25);
  assert.ok(quarter.ok);
  near(quarter.sample.attitude.yawDeg, 359.5, 1e-9, 'heading at a quarter');
  near(quarter.sample.gimbal?.yawDeg ?? NaN, 175, 1e-9, 'gimbal yaw at a quarter');
});

test('frames a little outside the buffer hold the nearest pose; far outside are refused', () => {
  const history = new PoseHistory({ clampToleranceMs: 300 });
  history.push(sample(T0, { northM: 0 }));
  history.push(sample(T0 + 100, { northM: 1 }));

  const late = history.at(T0 + 350);
  assert.ok(late.ok);
  assert.equal(late.method, 'held-newest');
  assert.equal(late.offsetMs, 250);
  near(distanceM(late.sample.position, history.newest!.position), 0, 1e-9, 'held newest');

  const tooLate = history.at(T0 + 1100);
  assert.equal(tooLate.ok, false);
  assert.match(tooLate.ok ? '' : tooLate.reason, /1000 ms newer than the newest vehicle pose/);

  const early = history.at(T0 - 200);
  assert.ok(early.ok);
  assert.equal(early.method, 'held-oldest');
  const tooEarly = history.at(T0 - 5000);
  assert.match(tooEarly.ok ? '' : tooEarly.reason, /5000 ms older than the oldest vehicle pose/);
});

test('an empty history and a gap in telemetry say why there is no pose', () => {
  const history = new PoseHistory({ maxGapMs: 1000, clampToleranceMs: 200 });
  const empty = history.at(T0);
  assert.match(empty.ok ? '' : empty.reason, /no vehicle position yet/);
  history.push(sample(T0));
  history.push(sample(T0 + 5000, { northM: 50 }));
  const inGap = history.at(T0 + 2500);
  assert.match(inGap.ok ? '' : inGap.reason, /5000 ms gap in telemetry/);
  const nearEdge = history.at(T0 + 4900);
  assert.ok(nearEdge.ok);
  assert.equal(nearEdge.method, 'held-nearest');
  near(northEastOf(ORIGIN, nearEdge.sample.position).northM, 50, 0.01, 'nearest is the later');
  assert.match(history.at(Number.NaN).ok ? '' : 'invalid', /invalid/);
});

test('the buffer is bounded by count and by age, and keeps time order', () => {
  const history = new PoseHistory({ capacity: 5, maxAgeMs: 10_000 });
  for (let i = 0; i < 12; i += 1) history.push(sample(T0 + i * 100, { northM: i }));
  assert.equal(history.size, 5);
  assert.equal(history.oldest?.timeMs, T0 + 700);

  const aged = new PoseHistory({ maxAgeMs: 1000 });
  for (let i = 0; i < 30; i += 1) aged.push(sample(T0 + i * 100));
  assert.equal(aged.oldest?.timeMs, T0 + 1900);
  assert.equal(aged.size, 11);

  // A late sample goes to its place; one at the same time replaces the old one.
  const ordered = new PoseHistory();
  ordered.push(sample(T0 + 200, { northM: 2 }));
  ordered.push(sample(T0, { northM: 0 }));
  ordered.push(sample(T0 + 100, { northM: 1 }));
  ordered.push(sample(T0 + 100, { northM: 5 }));
  assert.equal(ordered.size, 3);
  const exact = ordered.at(T0 + 100);
  assert.ok(exact.ok);
  assert.equal(exact.method, 'exact');
  near(northEastOf(ORIGIN, exact.sample.position).northM, 5, 0.01, 'replaced');
});

test('bad samples and options are refused with the field named', () => {
  const history = new PoseHistory();
  const bad = sample(T0);
  bad.attitude.yawDeg = Number.NaN;
  assert.throws(() => history.push(bad), /attitude yawDeg is not a finite number/);
  const offEarth = sample(T0);
  offEarth.position.latDeg = 95;
  assert.throws(() => history.push(offEarth), /is not on Earth/);
  assert.equal(history.size, 0);
  assert.throws(() => new PoseHistory({ capacity: 0 }), /capacity must be a positive number/);
});

test('a gimbal that appears or changes frame is taken from the nearer sample', () => {
  const history = new PoseHistory();
  history.push({ ...sample(T0), gimbal: null });
  history.push(sample(T0 + 100, { gimbalPitchDeg: -80 }));
  const early = history.at(T0 + 30);
  assert.ok(early.ok);
  assert.equal(early.sample.gimbal, null);
  const late = history.at(T0 + 70);
  assert.ok(late.ok);
  assert.equal(late.sample.gimbal?.pitchDeg, -80);
});
