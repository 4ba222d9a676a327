import assert from 'node:assert/strict';
import { test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import { MultiObjectTracker, iou, type Track } from '../../app/core/tracker';
import type { Detection, PixelBox } from '../../app/core/types';

const T0 = 1_700_000_000_000;
const FRAME_MS = 100;
const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };

function det(box: PixelBox, className = 'bear', score = 0.8): Detection {
  return {
    frameId: 0,
    frameTimeMs: 0,
    classId: className === 'person' ? 0 : 21,
    className,
    score,
    box,
    imageWidth: 640,
    imageHeight: 512,
  };
}

/** Box of a given size whose centre is at (cx, cy). */
const centred = (cx: number, cy: number, w = 40, h = 30): PixelBox => [
  cx - w / 2,
  cy - h / 2,
  w,
  h,
];

const centreOf = (track: Track): [number, number] => [
  track.box[0] + track.box[2] / 2,
  track.box[1] + track.box[3] / 2,
];

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: ${actual} is not within ${tolerance} of ${expected}`,
  );
}

/** Deterministic jitter of a few pixels, like a detector's box noise. */
const jitterPx = (i: number, seed: number): number => 2 * Math.sin(i * 2.3 + seed);

test('a steady object is tentative, then confirmed after three hits', () => {
  const tracker = new MultiObjectTracker();
  const states: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    const result = tracker.update(T0 + i * FRAME_MS, [det(centred(100 + i, 100))]);
    assert.equal(result.accepted, true);
    assert.equal(result.tracks.length, 1);
    assert.deepEqual(result.detectionTrackIds, [result.tracks[0].id]);
    states.push(result.tracks[0].state);
  }
  assert.deepEqual(states, ['tentative', 'tentative', 'confirmed', 'confirmed']);
  const [track] = tracker.tracks();
  assert.equal(track.hits, 4);
  assert.equal(track.ageMs, 3 * FRAME_MS);
  assert.equal(track.sinceHitMs, 0);
  assert.equal(track.className, 'bear');
  assert.equal(track.score, 0.8);
});

test('two objects crossing paths keep their ids', () => {
  const tracker = new MultiObjectTracker();
  // One walks right, one walks left, 12 px apart vertically; the boxes overlap for a while.
  const speedPxPerS = 150;
  let rightId: number | null = null;
  let leftId: number | null = null;
  for (let i = 0; i <= 40; i += 1) {
    const tS = (i * FRAME_MS) / 1000;
    const rightward = centred(100 + speedPxPerS * tS + jitterPx(i, 1), 200 + jitterPx(i, 2));
    const leftward = centred(400 - speedPxPerS * tS + jitterPx(i, 3), 212 + jitterPx(i, 4));
    // Alternate the order so that list position carries no identity.
    const dets = i % 2 === 0 ? [det(rightward), det(leftward)] : [det(leftward), det(rightward)];
    const result = tracker.update(T0 + i * FRAME_MS, dets);
    const [idR, idL] =
      i % 2 === 0
        ? result.detectionTrackIds
        : [result.detectionTrackIds[1], result.detectionTrackIds[0]];
    if (i === 0) {
      rightId = idR;
      leftId = idL;
    }
    assert.equal(idR, rightId, `frame ${i}: the rightward object changed id`);
    assert.equal(idL, leftId, `frame ${i}: the leftward object changed id`);
  }
  // The crossing really happened: they swapped sides.
  const tracks = new Map(tracker.tracks().map((t) => [t.id, t]));
  assert.ok(centreOf(tracks.get(rightId!)!)[0] > centreOf(tracks.get(leftId!)!)[0] + 300);
  assert.ok(tracks.get(rightId!)!.velocityPxPerS.xPxPerS > 100);
  assert.ok(tracks.get(leftId!)!.velocityPxPerS.xPxPerS < -100);
  assert.equal(tracks.size, 2);
});

test('an object missing for a few frames coasts on its velocity and keeps its id', () => {
  const tracker = new MultiObjectTracker();
  const speedPxPerS = 100;
  const at = (i: number): PixelBox => centred(100 + (speedPxPerS * i * FRAME_MS) / 1000, 150);
  let id: number | null = null;
  for (let i = 0; i < 10; i += 1) {
    id = tracker.update(T0 + i * FRAME_MS, [det(at(i))]).detectionTrackIds[0];
  }
  for (let i = 10; i < 15; i += 1) {
    const result = tracker.update(T0 + i * FRAME_MS, []);
    assert.equal(result.tracks.length, 1);
    assert.equal(result.tracks[0].state, 'lost');
    assert.equal(result.tracks[0].id, id);
  }
  const [coasting] = tracker.tracks();
  assert.equal(coasting.sinceHitMs, 5 * FRAME_MS);
  // Predicted forward while unseen: 5 frames at 10 px per frame from x = 190.
  near(centreOf(coasting)[0], 100 + (speedPxPerS * 14 * FRAME_MS) / 1000, 5, 'coasting x');

  const back = tracker.update(T0 + 15 * FRAME_MS, [det(at(15))]);
  assert.equal(back.detectionTrackIds[0], id);
  assert.equal(back.tracks.length, 1);
  assert.equal(back.tracks[0].state, 'confirmed');
});

test('a one-frame false detection never becomes confirmed and ends', () => {
  const tracker = new MultiObjectTracker();
  const confirmedIds = new Set<number>();
  let ghostId: number | null = null;
  let ghostEnded = false;
  for (let i = 0; i < 30; i += 1) {
    const dets = [det(centred(100 + i, 100))];
    if (i === 5) dets.push(det(centred(500, 400)));
    const result = tracker.update(T0 + i * FRAME_MS, dets);
    if (i === 5) ghostId = result.detectionTrackIds[1];
    for (const t of result.tracks) if (t.state !== 'tentative') confirmedIds.add(t.id);
    if (result.ended.some((t) => t.id === ghostId)) {
      ghostEnded = true;
      assert.equal(result.ended.find((t) => t.id === ghostId)!.state, 'tentative');
    }
  }
  assert.ok(ghostId !== null);
  assert.equal(confirmedIds.has(ghostId), false, 'the ghost was confirmed');
  assert.equal(ghostEnded, true, 'the ghost never ended');
  assert.deepEqual(
    tracker.tracks().map((t) => t.state),
    ['confirmed'],
  );
});

test('an object that leaves is ended after the two-second timeout, not before', () => {
  const tracker = new MultiObjectTracker();
  for (let i = 0; i < 5; i += 1) tracker.update(T0 + i * FRAME_MS, [det(centred(50, 50))]);
  const lastHitMs = T0 + 4 * FRAME_MS;
  const before = tracker.update(lastHitMs + 2_000, []);
  assert.equal(before.tracks.length, 1);
  assert.equal(before.tracks[0].state, 'lost');
  assert.deepEqual(before.ended, []);
  const after = tracker.update(lastHitMs + 2_050, []);
  assert.deepEqual(after.tracks, []);
  assert.equal(after.ended.length, 1);
  assert.equal(after.ended[0].sinceHitMs, 2_050);
});

test('velocity of a box moving at a known rate is estimated closely', () => {
  const tracker = new MultiObjectTracker();
  const vxPxPerS = 120;
  const vyPxPerS = -45;
  // Uneven frame intervals, as with a dropped frame now and then.
  let timeMs = T0;
  for (let i = 0; i < 40; i += 1) {
    timeMs += i % 7 === 3 ? 2 * FRAME_MS : FRAME_MS;
    const tS = (timeMs - T0) / 1000;
    const box = centred(50 + vxPxPerS * tS + jitterPx(i, 0), 400 + vyPxPerS * tS + jitterPx(i, 5));
    tracker.update(timeMs, [det(box)]);
  }
  const [track] = tracker.tracks();
  near(track.velocityPxPerS.xPxPerS, vxPxPerS, 10, 'x velocity');
  near(track.velocityPxPerS.yPxPerS, vyPxPerS, 10, 'y velocity');
  near(track.box[2], 40, 2, 'smoothed width');
  near(track.box[3], 30, 2, 'smoothed height');
});

test('ids are never reused after tracks end', () => {
  const tracker = new MultiObjectTracker({ maxCoastMs: 300 });
  const seen = new Set<number>();
  let timeMs = T0;
  // Objects appear and vanish in the same place, again and again.
  for (let round = 0; round < 6; round += 1) {
    for (let i = 0; i < 4; i += 1) {
      timeMs += FRAME_MS;
      const id = tracker.update(timeMs, [det(centred(200, 200))]).detectionTrackIds[0];
      assert.ok(id !== null);
      if (i === 0) {
        assert.equal(seen.has(id), false, `id ${id} was reused`);
        seen.add(id);
      } else {
        assert.ok(seen.has(id));
      }
    }
    for (let i = 0; i < 5; i += 1) {
      timeMs += FRAME_MS;
      tracker.update(timeMs, []);
    }
    assert.deepEqual(tracker.tracks(), []);
  }
  assert.equal(seen.size, 6);
});

test('different classes never match, even on the same box', () => {
  const tracker = new MultiObjectTracker();
  const box = centred(300, 300);
  for (let i = 0; i < 5; i += 1) {
    const className = i % 2 === 0 ? 'bear' : 'person';
    tracker.update(T0 + i * FRAME_MS, [det(box, className)]);
  }
  const tracks = tracker.tracks();
  // Bear hits at frames 0, 2, 4: confirmed. Person hits at 1, 3: still tentative.
  const bear = tracks.filter((t) => t.className === 'bear');
  const person = tracks.filter((t) => t.className === 'person');
  assert.equal(bear.length, 1);
  assert.equal(person.length, 1);
  assert.equal(bear[0].hits, 3);
  assert.equal(person[0].hits, 2);

  // Both classes in one frame on the same box each go to their own track.
  const both = tracker.update(T0 + 5 * FRAME_MS, [det(box, 'person'), det(box, 'bear')]);
  assert.deepEqual(both.detectionTrackIds, [person[0].id, bear[0].id]);
});

test('speed over ground from attached positions', () => {
  const tracker = new MultiObjectTracker();
  const id = tracker.update(T0, [det(centred(100, 100))]).detectionTrackIds[0]!;
  const speedMps = 4;
  const courseDeg = 60;
  const northPerS = speedMps * Math.cos((courseDeg * Math.PI) / 180);
  const eastPerS = speedMps * Math.sin((courseDeg * Math.PI) / 180);
  assert.equal(tracker.tracks()[0].groundSpeedMps, null);
  for (let i = 0; i < 20; i += 1) {
    const tS = i * 0.5;
    // A metre of georeference noise either way.
    const noiseM = i % 2 === 0 ? 1 : -1;
    const fix = offsetNorthEast(CONRAD, northPerS * tS + noiseM, eastPerS * tS - noiseM);
    assert.equal(tracker.attachGround(id, T0 + tS * 1000, fix), true);
    if (i > 0) tracker.update(T0 + tS * 1000, [det(centred(100, 100))]);
  }
  const [track] = tracker.tracks();
  assert.ok(track.groundSpeedMps !== null && track.groundCourseDeg !== null);
  // 5 s window: 2 m of noise over 20 m travelled.
  near(track.groundSpeedMps, speedMps, 0.5, 'ground speed');
  near(track.groundCourseDeg, courseDeg, 8, 'ground course');
  assert.equal(track.groundPath.length, 20);

  // A path is bounded, kept in time order, and fixes for ended tracks are refused.
  const small = new MultiObjectTracker({ groundPathMaxPoints: 3, maxCoastMs: 100 });
  const other = small.update(T0, [det(centred(10, 10))]).detectionTrackIds[0]!;
  for (const tMs of [400, 100, 300, 200, 0]) {
    small.attachGround(other, T0 + tMs, offsetNorthEast(CONRAD, tMs / 100, 0));
  }
  assert.deepEqual(
    small.tracks()[0].groundPath.map((fix) => fix.timeMs - T0),
    [200, 300, 400],
  );
  small.update(T0 + 1_000, []);
  assert.equal(small.attachGround(other, T0 + 1_000, CONRAD), false);
  assert.equal(small.attachGround(999, T0, CONRAD), false);
  assert.throws(() => small.attachGround(other, T0, { latDeg: 91, lonDeg: 0 }), /latitude 91/);
  assert.throws(() => small.attachGround(other, Number.NaN, CONRAD), /time NaN/);
});

test('a standing object has about zero ground speed despite noise', () => {
  const tracker = new MultiObjectTracker();
  const id = tracker.update(T0, [det(centred(100, 100))]).detectionTrackIds[0]!;
  for (let i = 0; i < 10; i += 1) {
    const noiseM = i % 2 === 0 ? 1.5 : -1.5;
    tracker.attachGround(id, T0 + i * 500, offsetNorthEast(CONRAD, noiseM, 0));
  }
  const speed = tracker.tracks()[0].groundSpeedMps;
  assert.ok(speed !== null && speed < 1, `standing object moves at ${speed} m/s`);
});

test('bad frame times are ignored and said so; bad detections are rejected by index', () => {
  const tracker = new MultiObjectTracker();
  tracker.update(T0, [det(centred(100, 100))]);
  const nan = tracker.update(Number.NaN, [det(centred(100, 100))]);
  assert.equal(nan.accepted, false);
  assert.match(nan.reason ?? '', /not a finite number/);
  const backwards = tracker.update(T0 - 1, [det(centred(100, 100))]);
  assert.equal(backwards.accepted, false);
  assert.match(backwards.reason ?? '', /not after the previous frame/);
  assert.deepEqual(backwards.detectionTrackIds, [null]);
  assert.equal(tracker.tracks()[0].hits, 1, 'an ignored frame changed a track');

  const bad = { ...det(centred(100, 100)), box: [0, 0, -5, 10] as PixelBox };
  const nanScore = { ...det(centred(100, 100)), score: Number.NaN };
  const mixed = tracker.update(T0 + FRAME_MS, [bad, det(centred(101, 100)), nanScore]);
  assert.equal(mixed.accepted, true);
  assert.deepEqual(
    mixed.rejected.map((r) => r.index),
    [0, 2],
  );
  assert.match(mixed.rejected[0].reason, /box size -5x10 px is not positive/);
  assert.match(mixed.rejected[1].reason, /score NaN/);
  assert.equal(mixed.detectionTrackIds[1], tracker.tracks()[0].id);
  assert.equal(tracker.tracks().length, 1);
});

test('options are checked', () => {
  assert.throws(() => new MultiObjectTracker({ confirmHits: 0 }), /confirmHits must be/);
  assert.throws(() => new MultiObjectTracker({ confirmHits: 2.5 }), /whole number/);
  assert.throws(() => new MultiObjectTracker({ minIou: 1.5 }), /minIou must be at most 1/);
  assert.throws(() => new MultiObjectTracker({ maxCoastMs: Number.NaN }), /maxCoastMs/);
  assert.throws(
    () => new MultiObjectTracker({ confirmHits: 4, confirmWindowFrames: 3 }),
    /confirmWindowFrames \(3\) must be at least confirmHits \(4\)/,
  );
});

test('iou of boxes', () => {
  assert.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  assert.equal(iou([0, 0, 10, 10], [10, 0, 10, 10]), 0);
  near(iou([0, 0, 10, 10], [5, 0, 10, 10]), 50 / 150, 1e-12, 'half overlap');
});

test('a box that jumps with the camera keeps its id when its ground position holds', () => {
  const geo = (box: PixelBox, timeMs: number, northM: number, className = 'bear') => ({
    ...det(box, className),
    frameTimeMs: timeMs,
    ground: offsetNorthEast(CONRAD, northM, 0),
    groundError: null,
  });
  const run = (options: { groundGateM?: number }, jumpNorthM: number, className = 'bear') => {
    const tracker = new MultiObjectTracker(options);
    let id: number | null = null;
    for (let i = 0; i < 5; i++) {
      const timeMs = T0 + i * FRAME_MS;
      const result = tracker.update(timeMs, [geo(centred(100, 100), timeMs, 0)]);
      id = result.detectionTrackIds[0];
      tracker.attachGround(id as number, timeMs, offsetNorthEast(CONRAD, 0, 0));
    }
    // The gimbal swings: the same bear is now 300 px to the right, no overlap at all.
    const timeMs = T0 + 5 * FRAME_MS;
    const after = tracker.update(timeMs, [geo(centred(400, 120), timeMs, jumpNorthM, className)]);
    return { before: id, after: after.detectionTrackIds[0], tracks: after.tracks };
  };

  const same = run({}, 1.5);
  assert.equal(same.after, same.before, 'one bear, one id, though its box jumped');
  const track = same.tracks.find((t) => t.id === same.after) as Track;
  near(centreOf(track)[0], 400, 1, 'the box starts again where the bear is now');
  assert.equal(track.hits, 6);

  assert.notEqual(run({}, 40).after, run({}, 40).before, '40 m away in 0.1 s is another bear');
  assert.notEqual(run({ groundGateM: 0 }, 1.5).after, 1, 'groundGateM 0 turns it off');
  const person = run({}, 1.5, 'person');
  assert.notEqual(person.after, person.before, 'a person there is not the bear');
  assert.throws(() => new MultiObjectTracker({ groundGateM: -1 }), /groundGateM/);
});
