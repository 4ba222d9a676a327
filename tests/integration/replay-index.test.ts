// The replay's index of a flight record against a straight read of the same file: on every
// shared real log, seeking anywhere (the ends, inside breaks, either side of keyframes, at
// random) gives exactly the vehicle state that reading the log from its start gives. Also: a
// corrupt copy still indexes and says what it skipped, the mode markers are the flight modes
// the summary counts, link markers sit where the link changes, and bad files are refused by name.

import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
  closeSync,
  statSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { common, minimal } from 'node-mavlink';

import { VehicleModel } from '../../app/station/mavlink/vehicle-model';
import { sharedDir } from '../../app/station/paths';
import { TlogIndex } from '../../app/station/replay/tlog-index';
import { seededRandom } from '../../app/station/sim/lossy';
import { summarizeTlogFile } from '../../app/station/tlog/summary';
import { readStraight } from '../helpers/tlog-straight';

const FIXTURES = path.join(sharedDir(), 'fixtures', 'tlog');
const FILES = existsSync(FIXTURES)
  ? readdirSync(FIXTURES)
      .filter((name) => name.endsWith('.tlog'))
      .sort()
      .map((name) => path.join(FIXTURES, name))
  : [];
const skip = FILES.length === 0 ? `no shared tlogs in ${FIXTURES} (set URSA_SHARED_DIR)` : false;
const KEYFRAME_EVERY = 500;
const SEEKS_PER_FILE = 100;
const S = 1_000_000;

const scratch = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-index-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

/** The ends, beyond them, inside every break, either side of keyframes, the rest at random. */
function seekTargets(
  recordAxesUs: number[],
  index: TlogIndex,
  keyframeEvery: number,
  random: () => number,
): number[] {
  const axisEndUs = index.timeline.axisEndUs;
  const targets = [0, axisEndUs, -1 * S, axisEndUs + 1 * S];
  for (const b of index.timeline.breaks.slice(0, 6)) {
    const middleUs = (b.axisStartUs + b.axisEndUs) / 2;
    targets.push(b.axisStartUs, b.axisStartUs + 1, middleUs, b.axisEndUs - 1, b.axisEndUs);
  }
  const keyframes: number[] = [];
  for (let ordinal = keyframeEvery; ordinal < recordAxesUs.length; ordinal += keyframeEvery) {
    keyframes.push(recordAxesUs[ordinal]);
  }
  for (const axisUs of shuffle(keyframes, random).slice(0, 12)) {
    targets.push(axisUs - 1, axisUs, axisUs + 1);
  }
  while (targets.length < SEEKS_PER_FILE) targets.push(random() * axisEndUs);
  return shuffle(targets.slice(0, SEEKS_PER_FILE), random);
}

async function assertSeeksMatch(file: string, keyframeEvery: number, seed: number): Promise<void> {
  const index = await TlogIndex.build(file, { keyframeEveryRecords: keyframeEvery });
  try {
    const { recordAxesUs } = readStraight(file, []);
    assert.equal(recordAxesUs.length, index.records);
    const targets = seekTargets(recordAxesUs, index, keyframeEvery, seededRandom(seed));
    const straight = readStraight(file, targets);
    assert.equal(straight.timeline.axisEndUs, index.timeline.axisEndUs);
    assert.deepEqual(straight.timeline.breaks, index.timeline.breaks);
    for (const [i, axisUs] of targets.entries()) {
      assert.deepEqual(index.vehicleAt(axisUs), straight.answers[i], `${file} at axis ${axisUs}`);
    }
  } finally {
    index.dispose();
  }
}

for (const [n, file] of FILES.entries()) {
  test(`${path.basename(file)}: 100 seeks equal a straight read`, { skip }, async () => {
    await assertSeeksMatch(file, KEYFRAME_EVERY, 1000 + n);
  });
}

test('the default keyframe spacing gives the same answers', { skip }, async () => {
  const file = FILES.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  await assertSeeksMatch(file, 2000, 77);
});

test('a corrupt copy still indexes, says what it skipped, and seeks right', { skip }, async () => {
  const original = FILES.find((f) => f.includes('codelever_2013-10-13_16-58-51')) ?? FILES[0];
  const copy = path.join(scratch, 'corrupt.tlog');
  copyFileSync(original, copy);
  const random = seededRandom(5);
  const noise = Buffer.alloc(3000, 0).map(() => Math.floor(random() * 256));
  const fd = openSync(copy, 'r+');
  writeSync(fd, noise, 0, noise.length, Math.floor(statSync(copy).size / 2));
  closeSync(fd);

  const clean = await TlogIndex.build(original);
  const index = await TlogIndex.build(copy, { keyframeEveryRecords: 300 });
  try {
    assert.ok(index.records < clean.records, `${index.records} < ${clean.records}`);
    assert.ok(index.records > clean.records * 0.9);
    assert.ok(
      index.warnings.some((w) => /^skipped \d+ bytes that were not MAVLink records$/.test(w)),
      index.warnings.join('; '),
    );
    assert.ok(index.stats.bytesSkipped > 0);
    const targets = Array.from({ length: 40 }, () => random() * index.timeline.axisEndUs);
    const straight = readStraight(copy, targets);
    for (const [i, axisUs] of targets.entries()) {
      assert.deepEqual(index.vehicleAt(axisUs), straight.answers[i]);
    }
  } finally {
    clean.dispose();
    index.dispose();
  }
});

test('mode markers are the flight modes the summary counts', { skip }, async () => {
  for (const file of FILES) {
    const index = await TlogIndex.build(file);
    try {
      const vehicle = index.vehicleAt(index.timeline.axisEndUs).vehicle;
      const summary = summarizeTlogFile(file);
      const summarised = summary.vehicles.find((v) => v.systemId === vehicle?.systemId);
      const expected: Record<string, number> = {};
      for (const [mode, count] of Object.entries(summarised?.flightModes ?? {})) {
        expected[mode] = count.entries;
      }
      const entered: Record<string, number> = {};
      const modeMarkers = index.markers.filter((m) => m.kind === 'mode');
      for (const marker of modeMarkers) {
        const mode = marker.label.replace(/^Mode (.* -> )?/, '');
        entered[mode] = (entered[mode] ?? 0) + 1;
      }
      assert.deepEqual(entered, expected, path.basename(file));
      for (const marker of modeMarkers) {
        const at = index.vehicleAt(marker.axisMs * 1000).vehicle;
        assert.equal(`Mode ${at?.modeName}`, marker.label.replace(/ .* -> /, ' '));
      }
      if (file.includes('codelever_2013-10-13_16-58-51')) {
        assert.deepEqual(
          modeMarkers.map((m) => m.label),
          [
            'Mode STABILIZE',
            'Mode STABILIZE -> LOITER',
            'Mode LOITER -> AUTO',
            'Mode AUTO -> LOITER',
            'Mode LOITER -> STABILIZE',
            'Mode STABILIZE -> LOITER',
            'Mode LOITER -> STABILIZE',
          ],
        );
      }
    } finally {
      index.dispose();
    }
  }
});

test('link markers sit where the link is lost and comes back', { skip }, async () => {
  let seen = 0;
  for (const file of FILES) {
    const index = await TlogIndex.build(file);
    try {
      let previousAxisMs = -Infinity;
      for (const marker of index.markers) {
        assert.ok(marker.axisMs >= previousAxisMs, 'markers in axis order');
        previousAxisMs = marker.axisMs;
        if (marker.kind !== 'link-lost' && marker.kind !== 'link-back') continue;
        seen++;
        const axisUs = marker.axisMs * 1000;
        const before = index.vehicleAt(axisUs - 1).vehicle?.link;
        const afterwards = index.vehicleAt(marker.kind === 'link-lost' ? axisUs + 1 : axisUs);
        if (marker.kind === 'link-lost') {
          assert.equal(before, 'connected', `${path.basename(file)} ${marker.axisMs}`);
          assert.equal(afterwards.vehicle?.link, 'lost');
        } else {
          assert.equal(before, 'lost', `${path.basename(file)} ${marker.axisMs}`);
          assert.equal(afterwards.vehicle?.link, 'connected');
        }
      }
    } finally {
      index.dispose();
    }
  }
  // The gap file and the VTOL run lose their link; the codelever logs end without heartbeats.
  assert.ok(seen >= 4, `${seen} link markers`);
});

test('stepping by records lands on the records a straight read lists', { skip }, async () => {
  const file = FILES.find((f) => f.includes('olivieri_20211208-151717')) ?? FILES[0];
  const index = await TlogIndex.build(file, { keyframeEveryRecords: 700 });
  try {
    const { recordAxesUs: axes } = readStraight(file, []);
    const random = seededRandom(9);
    const positions = [0, -5, index.timeline.axisEndUs, index.timeline.axisEndUs + 5];
    for (let i = 0; i < 30; i++) positions.push(axes[Math.floor(random() * axes.length)]);
    for (let i = 0; i < 30; i++) positions.push(random() * index.timeline.axisEndUs);
    for (const axisUs of positions) {
      for (const records of [1, 3, 1000, -1, -7, -1000]) {
        let expected: number;
        if (records > 0) {
          let last = -1;
          while (last + 1 < axes.length && axes[last + 1] <= axisUs) last++;
          expected = axes[Math.min(axes.length - 1, last + records)];
        } else {
          let first = 0;
          while (first < axes.length && axes[first] < axisUs) first++;
          expected = axes[Math.max(0, first + records)];
        }
        assert.equal(index.stepAxisUs(axisUs, records), expected, `${axisUs} ${records}`);
      }
    }
  } finally {
    index.dispose();
  }
});

test('the trail is thinned to 0.5 s and cut down evenly', { skip }, async () => {
  const file = FILES.find((f) => f.includes('olivieri_20211202-132613')) ?? FILES[0];
  const index = await TlogIndex.build(file);
  try {
    const endUs = index.timeline.axisEndUs;
    const all = index.trail(0, endUs, 1_000_000);
    assert.ok(all.length > 100, `${all.length} points`);
    for (let i = 1; i < all.length; i++) {
      assert.ok(Math.abs(all[i].timeMs - all[i - 1].timeMs) >= 500, `point ${i}`);
    }
    const ten = index.trail(0, endUs, 10);
    assert.equal(ten.length, 10);
    assert.deepEqual(ten[0], all[0]);
    assert.deepEqual(ten[9], all[all.length - 1]);
    const half = index.trail(0, endUs / 2, 1_000_000);
    assert.ok(half.length < all.length && half.length > 0);
    // The newest trail point is where the vehicle was last known.
    const { lastKnown } = index.vehicleAt(endUs / 2);
    const newest = half[half.length - 1];
    assert.ok(lastKnown && lastKnown.timeMs - newest.timeMs < 500);
    assert.deepEqual(index.trail(endUs + 1, endUs + 2, 5), []);
    assert.throws(() => index.trail(0, endUs, 0), /maxPoints must be a positive whole number/);
  } finally {
    index.dispose();
  }
});

test('progress is reported and the event loop keeps turning while indexing', { skip }, async () => {
  const file = FILES.reduce((a, b) => (statSync(a).size >= statSync(b).size ? a : b));
  const progress: Array<[number, number]> = [];
  let turns = 0;
  let indexing = true;
  const spin = (): void => {
    turns++;
    if (indexing) setImmediate(spin);
  };
  setImmediate(spin);
  const index = await TlogIndex.build(file, {
    onProgress: (done, total) => progress.push([done, total]),
  });
  indexing = false;
  index.dispose();
  const bytes = statSync(file).size;
  assert.ok(progress.length >= 3, `${progress.length} progress calls`);
  assert.deepEqual(progress[progress.length - 1], [bytes, bytes]);
  for (let i = 1; i < progress.length; i++) assert.ok(progress[i][0] >= progress[i - 1][0]);
  assert.ok(turns >= 3, `${turns} turns of the event loop`);
  assert.throws(() => index.vehicleAt(0), /disposed/);
});

test('files that are not flight records are refused by name', async () => {
  const missing = path.join(scratch, 'no-such.tlog');
  await assert.rejects(TlogIndex.build(missing), (error: Error) => {
    assert.match(error.message, /no-such\.tlog/);
    assert.match(error.message, /no such file/);
    return true;
  });
  await assert.rejects(TlogIndex.build(scratch), (error: Error) => {
    assert.ok(error.message.includes(scratch));
    assert.match(error.message, /folder/);
    return true;
  });
  const empty = path.join(scratch, 'empty.tlog');
  writeFileSync(empty, '');
  await assert.rejects(TlogIndex.build(empty), /empty\.tlog holds no tlog records \(0 bytes\)/);
  const text = path.join(scratch, 'notes.tlog');
  writeFileSync(text, 'a flight record this is not\n'.repeat(500));
  await assert.rejects(TlogIndex.build(text), /notes\.tlog holds no tlog records/);
  await assert.rejects(
    TlogIndex.build(text, { keyframeEveryRecords: 0 }),
    /keyframeEveryRecords must be a positive whole number/,
  );
});

test('a model restored from a snapshot goes on exactly as the original', () => {
  const from = { systemId: 7, componentId: 1, signed: false };
  const heartbeat = Object.assign(new minimal.Heartbeat(), {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: minimal.MavModeFlag.SAFETY_ARMED,
    customMode: 5,
    systemStatus: minimal.MavState.ACTIVE,
    mavlinkVersion: 3,
  });
  const chunk = (seq: number, text: string) => ({
    ...from,
    messageId: common.StatusText.MSG_ID,
    message: Object.assign(new common.StatusText(), { severity: 6, text, id: 9, chunkSeq: seq }),
  });
  const original = new VehicleModel();
  original.apply({ ...from, messageId: minimal.Heartbeat.MSG_ID, message: heartbeat }, 1000);
  // Half of a long status text is held inside the model, waiting for the rest.
  original.apply(chunk(0, 'x'.repeat(50)), 1100);
  const restored = VehicleModel.fromSnapshot(original.snapshot());
  assert.deepEqual(restored.state, original.state);
  assert.deepEqual(restored.vehicle, original.vehicle);
  assert.deepEqual(restored.identity, original.identity);
  const a = original.apply(chunk(1, 'the end'), 1200);
  const b = restored.apply(chunk(1, 'the end'), 1200);
  assert.deepEqual(b, a);
  assert.equal(b.statusTexts[0].text, `${'x'.repeat(50)}the end`);
  assert.deepEqual(restored.state, original.state);
  // The snapshot is a copy: changing the original later leaves it alone.
  const snapshot = original.snapshot();
  original.apply(chunk(0, 'y'.repeat(50)), 1300);
  assert.equal(snapshot.chunks.length, 0);
});
