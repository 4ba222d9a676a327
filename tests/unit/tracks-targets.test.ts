import assert from 'node:assert/strict';
import { test } from 'node:test';

import { bearingDeg, distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { TrackedTargets, uncertaintyPolygon } from '../../app/core/targets';
import type { GeoDetection, LatLon, PixelBox } from '../../app/core/types';

const T0 = 1_700_000_000_000;
const FRAME_MS = 200;
const CONRAD: LatLon = { latDeg: 48.17, lonDeg: -111.95 };
const UNCERTAINTY = { alongRangeM: 4, crossRangeM: 1.5, alongRangeBearingDeg: 30 };

function geo(box: PixelBox, ground: LatLon | null, className = 'bear', frameId = 0): GeoDetection {
  return {
    frameId,
    frameTimeMs: 0,
    classId: className === 'bear' ? 21 : className === 'person' ? 0 : 16,
    className,
    score: 0.9,
    box,
    imageWidth: 640,
    imageHeight: 480,
    ground,
    groundError: ground ? null : 'no vehicle position yet',
    uncertainty: ground ? UNCERTAINTY : null,
  };
}

test('a walking bear is one confirmed track with a path, speed and course', () => {
  const targets = new TrackedTargets();
  const ids = new Set<number>();
  // 1 m/s due east on the ground, 2 px a frame in the picture.
  for (let i = 0; i < 30; i += 1) {
    const timeMs = T0 + i * FRAME_MS;
    const ground = offsetNorthEast(CONRAD, 0, i * 0.2);
    const frame = targets.update(timeMs, [geo([100 + 2 * i, 200, 60, 40], ground)]);
    assert.equal(frame.accepted, true);
    const trackId = frame.detections[0].trackId;
    assert.ok(typeof trackId === 'number', 'each detection names its track');
    ids.add(trackId);
    const shown = targets.targets(timeMs);
    // Confirmed after three hits: no target before.
    assert.equal(shown.length, i < 2 ? 0 : 1, `targets at frame ${i}`);
  }
  assert.equal(ids.size, 1, 'one track throughout');
  const [target] = targets.targets(T0 + 29 * FRAME_MS);
  assert.equal(target.id, [...ids][0]);
  assert.equal(target.className, 'bear');
  assert.equal(target.hits, 30);
  assert.ok(distanceM(target.position, offsetNorthEast(CONRAD, 0, 29 * 0.2)) < 0.01);
  assert.equal(target.path?.length, 30);
  assert.ok(target.speedMps !== null && Math.abs(target.speedMps! - 1) < 0.05, 'about 1 m/s');
  assert.ok(target.courseDeg !== null && Math.abs(target.courseDeg! - 90) < 1, 'east');
  assert.deepEqual(target.uncertainty, UNCERTAINTY);
});

test('an ended track stays on the map where it was last seen, then drops off', () => {
  const targets = new TrackedTargets({ memoryMs: 10_000 });
  let timeMs = T0;
  for (let i = 0; i < 5; i += 1) {
    timeMs = T0 + i * FRAME_MS;
    targets.update(timeMs, [geo([100, 200, 60, 40], CONRAD)]);
  }
  const lastSeenMs = timeMs;
  const [id] = targets.targets(timeMs).map((t) => t.id);
  // Empty frames for 5 s: the tracker ends the track after 2 s; the map keeps it.
  for (let i = 1; i <= 25; i += 1) {
    assert.deepEqual(targets.update(lastSeenMs + i * FRAME_MS, []).forgottenIds, []);
  }
  const remembered = targets.find(id, lastSeenMs + 5_000);
  assert.ok(remembered, 'still on the map after its track ended');
  assert.equal(remembered.lastSeenMs, lastSeenMs);
  assert.equal(targets.find(id, lastSeenMs + 10_001), null, 'gone after the memory time');
  assert.deepEqual(targets.update(lastSeenMs + 10_001, []).forgottenIds, [id]);
});

test('a bear seen again near where its track ended keeps its id; one far away does not', () => {
  const targets = new TrackedTargets();
  let timeMs = T0;
  const frames = (count: number, box: PixelBox, ground: LatLon): Array<number | null> => {
    const ids: Array<number | null> = [];
    for (let i = 0; i < count; i += 1) {
      timeMs += FRAME_MS;
      ids.push(targets.update(timeMs, [geo(box, ground)]).detections[0].trackId ?? null);
    }
    return ids;
  };
  const first = frames(5, [100, 100, 60, 40], CONRAD);
  const bearId = first[4]!;
  // A cut: three seconds of nothing ends the track; then the bear, elsewhere in the picture
  // (no overlap for the tracker) but 8 m away on the ground.
  for (let i = 0; i < 15; i += 1) targets.update((timeMs += FRAME_MS), []);
  const again = frames(5, [400, 300, 80, 50], offsetNorthEast(CONRAD, 8, 0));
  assert.equal(again[4], bearId, 'the box is labelled with the old id once confirmed');
  const shown = targets.targets(timeMs);
  assert.deepEqual(
    shown.map((t) => t.id),
    [bearId],
    'one marker, not two stacked',
  );
  assert.equal(shown[0].hits, 10, 'hits of both tracks');
  assert.equal(shown[0].firstSeenMs, T0 + FRAME_MS);
  assert.equal(shown[0].path?.length, 10, 'the path goes on from where it was');

  // Far away is another animal: a new id.
  for (let i = 0; i < 15; i += 1) targets.update((timeMs += FRAME_MS), []);
  const far = frames(5, [100, 100, 60, 40], offsetNorthEast(CONRAD, 0, 80));
  assert.notEqual(far[4], bearId);
  assert.equal(targets.targets(timeMs).length, 2);
});

test('only confirmed tracks of mapped classes with a ground position become targets', () => {
  const targets = new TrackedTargets();
  for (let i = 0; i < 5; i += 1) {
    targets.update(T0 + i * FRAME_MS, [
      geo([10, 10, 50, 50], CONRAD, 'bear'),
      geo([300, 10, 50, 50], CONRAD, 'dog'),
      geo([10, 300, 50, 50], null, 'person'),
    ]);
  }
  const shown = targets.targets(T0 + 4 * FRAME_MS);
  assert.deepEqual(
    shown.map((t) => t.className),
    ['bear'],
    'dogs are not mapped; a person without a ground position cannot be placed',
  );
});

test('a frame out of time order is refused, not thrown, and leaves ids null', () => {
  const targets = new TrackedTargets();
  targets.update(T0, [geo([10, 10, 50, 50], CONRAD)]);
  const late = targets.update(T0 - 1, [geo([10, 10, 50, 50], CONRAD)]);
  assert.equal(late.accepted, false);
  assert.match(late.reason ?? '', /not after the previous frame/);
  assert.equal(late.detections[0].trackId, null);
  assert.throws(() => new TrackedTargets({ memoryMs: 0 }), /memoryMs must be a positive/);
});

test('the uncertainty ellipse has its long axis on the along-range bearing', () => {
  const polygon = uncertaintyPolygon(CONRAD, {
    alongRangeM: 12,
    crossRangeM: 3,
    alongRangeBearingDeg: 60,
  });
  assert.equal(polygon.length, 36);
  const distances = polygon.map((corner) => distanceM(CONRAD, corner));
  const farthest = polygon[distances.indexOf(Math.max(...distances))];
  const nearest = polygon[distances.indexOf(Math.min(...distances))];
  assert.ok(Math.abs(Math.max(...distances) - 12) < 0.01, 'along-range half-axis');
  assert.ok(Math.abs(Math.min(...distances) - 3) < 0.01, 'cross-range half-axis');
  const longBearing = bearingDeg(CONRAD, farthest) % 180;
  const shortBearing = bearingDeg(CONRAD, nearest) % 180;
  assert.ok(Math.abs(longBearing - 60) < 0.5, `long axis at ${longBearing}`);
  assert.ok(Math.abs(shortBearing - 150) < 0.5, `short axis at ${shortBearing}`);
  assert.deepEqual(
    uncertaintyPolygon(CONRAD, { alongRangeM: NaN, crossRangeM: 1, alongRangeBearingDeg: 0 }),
    [],
  );
});
