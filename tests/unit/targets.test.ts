import assert from 'node:assert/strict';
import { test } from 'node:test';

import { distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { MapTargetList } from '../../app/core/targets';
import type { GeoDetection, LatLon } from '../../app/core/types';

const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };
const T0 = 1_700_000_000_000;

let frameCounter = 0;

function seen(
  ground: LatLon | null,
  options: { className?: string; score?: number; frameId?: number; timeMs?: number } = {},
): GeoDetection {
  return {
    frameId: options.frameId ?? ++frameCounter,
    frameTimeMs: options.timeMs ?? T0,
    classId: options.className === 'person' ? 0 : 21,
    className: options.className ?? 'bear',
    score: options.score ?? 0.8,
    box: [10, 10, 40, 30],
    imageWidth: 640,
    imageHeight: 512,
    ground,
    groundError: ground ? null : 'ray at or above the horizon: it never meets the ground',
  };
}

const at = (northM: number, eastM: number): LatLon => offsetNorthEast(CONRAD, northM, eastM);

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

test('a first detection starts a target where it was seen', () => {
  const list = new MapTargetList();
  list.update([seen(at(0, 0), { score: 0.7 })], T0);
  const [target, ...rest] = list.targets(T0);
  assert.equal(rest.length, 0);
  assert.deepEqual(target, {
    id: 1,
    className: 'bear',
    position: at(0, 0),
    score: 0.7,
    firstSeenMs: T0,
    lastSeenMs: T0,
    hits: 1,
  });
});

test('a nearby detection joins the target: moves it, sets the score, counts a hit', () => {
  const list = new MapTargetList({ positionGain: 0.5 });
  list.update([seen(at(0, 0), { score: 0.7 })], T0);
  list.update([seen(at(10, 0), { score: 0.9 })], T0 + 1000);
  const targets = list.targets(T0 + 1000);
  assert.equal(targets.length, 1);
  const [target] = targets;
  assert.equal(target.id, 1);
  assert.equal(target.hits, 2);
  assert.equal(target.score, 0.9);
  assert.equal(target.firstSeenMs, T0);
  assert.equal(target.lastSeenMs, T0 + 1000);
  // Halfway toward the new detection.
  near(distanceM(target.position, at(5, 0)), 0, 1e-6, 'position');

  // Repeated detections at one spot pull the target onto it.
  for (let i = 2; i < 20; i++) list.update([seen(at(10, 0))], T0 + i * 1000);
  const settled = list.targets(T0 + 20_000)[0];
  near(distanceM(settled.position, at(10, 0)), 0, 1e-3, 'settled position');
  assert.equal(settled.hits, 20);
});

test('detections beyond the merge radius start new targets with new ids', () => {
  const list = new MapTargetList({ mergeRadiusM: 25 });
  list.update([seen(at(0, 0))], T0);
  list.update([seen(at(0, 30))], T0 + 100);
  list.update([seen(at(0, 24))], T0 + 200);
  const targets = list.targets(T0 + 200);
  assert.deepEqual(targets.map((t) => t.id), [1, 2]);
  // The one at 24 m east is nearer the target at 30 m (6 m) than the one at 0 m (24 m).
  assert.equal(targets[0].hits, 1);
  assert.equal(targets[1].hits, 2);
});

test('only the configured classes become targets, and classes never mix', () => {
  const bearsOnly = new MapTargetList();
  bearsOnly.update([seen(at(0, 0), { className: 'person' }), seen(at(0, 0))], T0);
  assert.deepEqual(bearsOnly.targets(T0).map((t) => t.className), ['bear']);

  const both = new MapTargetList({ classes: ['bear', 'person'] });
  both.update([seen(at(0, 0))], T0);
  both.update([seen(at(1, 0), { className: 'person' })], T0 + 100);
  const targets = both.targets(T0 + 100);
  assert.deepEqual(targets.map((t) => [t.className, t.hits]), [['bear', 1], ['person', 1]]);
});

test('detections without a ground position are ignored', () => {
  const list = new MapTargetList();
  list.update([seen(null), seen(null)], T0);
  assert.deepEqual(list.targets(T0), []);
  list.update([seen(at(0, 0))], T0);
  list.update([seen(null)], T0 + 100);
  assert.equal(list.targets(T0 + 100)[0].hits, 1);
});

test('targets not seen for longer than expireAfterMs drop off', () => {
  const list = new MapTargetList({ expireAfterMs: 5000 });
  list.update([seen(at(0, 0))], T0);
  list.update([seen(at(100, 0))], T0 + 3000);
  assert.equal(list.targets(T0 + 5000).length, 2);
  assert.deepEqual(list.targets(T0 + 5001).map((t) => t.id), [2]);
  assert.deepEqual(list.targets(T0 + 8001), []);

  // A detection where an expired target was starts a new one rather than reviving it.
  list.update([seen(at(0, 0))], T0 + 9000);
  assert.deepEqual(list.targets(T0 + 9000).map((t) => [t.id, t.hits]), [[3, 1]]);
});

test('two bears in one frame stay two targets, each following its own detection', () => {
  const list = new MapTargetList({ mergeRadiusM: 25 });
  list.update([seen(at(0, 0), { frameId: 1 }), seen(at(0, 15), { frameId: 1 })], T0);
  assert.equal(list.targets(T0).length, 2);
  // Both moved a little east; the one at 13 m is nearest the second target.
  list.update([seen(at(0, 2), { frameId: 2 }), seen(at(0, 13), { frameId: 2 })], T0 + 100);
  const [first, second] = list.targets(T0 + 100);
  assert.equal(first.hits, 2);
  assert.equal(second.hits, 2);
  near(distanceM(first.position, at(0, 1)), 0, 1e-6, 'first');
  near(distanceM(second.position, at(0, 14)), 0, 1e-6, 'second');

  // Detections of one bear from several frames in one batch merge into one target.
  const batch = new MapTargetList();
  batch.update([seen(at(0, 0)), seen(at(1, 0)), seen(at(2, 0))], T0);
  assert.deepEqual(batch.targets(T0).map((t) => t.hits), [3]);
});

test('targets() returns copies that cannot change the list', () => {
  const list = new MapTargetList();
  list.update([seen(at(0, 0))], T0);
  const [copy] = list.targets(T0);
  copy.hits = 99;
  copy.position.latDeg = 0;
  assert.equal(list.targets(T0)[0].hits, 1);
  assert.equal(list.targets(T0)[0].position.latDeg, CONRAD.latDeg);
  list.clear();
  assert.deepEqual(list.targets(T0), []);
});

test('bad options and times are refused with an error that names them', () => {
  assert.throws(() => new MapTargetList({ mergeRadiusM: 0 }), /mergeRadiusM must be a positive/);
  assert.throws(() => new MapTargetList({ expireAfterMs: Number.NaN }), /expireAfterMs/);
  assert.throws(() => new MapTargetList({ positionGain: 1.5 }), /positionGain must be at most 1/);
  const list = new MapTargetList();
  assert.throws(() => list.update([], Number.NaN), /time NaN is not a number/);
  assert.throws(() => list.targets(Number.POSITIVE_INFINITY), /time Infinity is not a number/);
});
