// The runner's helpers: the people the envelope keeps clear of (detected and remembered, or
// marked by hand) and the battery budget measured from the vehicle's remaining percent.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import type { MapTarget } from '../../app/core/types';
import {
  ASSUMED_DRAIN_PCT_PER_S,
  BatteryMeter,
  DEFAULT_RETURN_SPEED_MPS,
} from '../../app/station/hazing/battery';
import { KnownPeople, PERSON_MEMORY_MS } from '../../app/station/hazing/people';

function target(id: number, className: string, lastSeenMs: number, northDeg = 0): MapTarget {
  return {
    id,
    className,
    position: { latDeg: 48.17 + northDeg, lonDeg: -111.95 },
    score: 0.8,
    firstSeenMs: 0,
    lastSeenMs,
    hits: 5,
  };
}

test('detected people are remembered ten minutes after last seen; marks stay', () => {
  const people = new KnownPeople();
  assert.equal(people.update([target(1, 'bear', 1000), target(2, 'person', 1000)], 1000), 'list');
  assert.equal(people.update([target(2, 'person', 1000)], 1100), null, 'nothing new');
  assert.equal(people.update([target(2, 'person', 2000, 0.0001)], 2000), 'moved');
  const mark = people.mark({ latDeg: 48.2, lonDeg: -111.9 }, 2000);
  assert.equal(mark.id, 'mark-1');
  assert.deepEqual(
    people.list(3000).map((p) => [p.id, p.source]),
    [
      ['track-2', 'detected'],
      ['mark-1', 'marked'],
    ],
  );
  // Ten minutes after the person was last seen, only the mark is left.
  assert.equal(people.update([], 2000 + PERSON_MEMORY_MS + 1), 'list');
  assert.deepEqual(
    people.list(2000 + PERSON_MEMORY_MS + 1).map((p) => p.id),
    ['mark-1'],
  );
  assert.equal(people.remove('mark-1').id, 'mark-1');
  assert.throws(() => people.remove('mark-1'), /no person "mark-1" is known/);
  assert.throws(
    () => people.mark({ latDeg: 95, lonDeg: 0 }, 0),
    /a marked person needs a position with latDeg -90\.\.90/,
  );
});

test('a detected person the operator removes stays out while the track lives on', () => {
  const people = new KnownPeople();
  people.update([target(4, 'person', 1000), target(5, 'person', 1000, 0.001)], 1000);
  assert.equal(people.remove('track-4').id, 'track-4');
  // The tracker still reports track 4 (it is the bear, seen as a person): it stays removed.
  const again = [target(4, 'person', 2000), target(5, 'person', 2000, 0.001)];
  assert.equal(people.update(again, 2000), null);
  assert.deepEqual(
    people.list(2000).map((p) => p.id),
    ['track-5'],
  );
  // A new track, even at the same place, is a new person to keep clear of.
  assert.equal(people.update([target(6, 'person', 3000)], 3000), 'list');
  assert.deepEqual(
    people.list(3000).map((p) => p.id),
    ['track-5', 'track-6'],
  );
});

test('a battery reading that stalls or rises never drains slower than assumed', () => {
  const meter = new BatteryMeter();
  for (let s = 0; s <= 40; s++) meter.sample(s * 1000, 60, true);
  assert.equal(meter.drainPctPerS, ASSUMED_DRAIN_PCT_PER_S, 'a stalled reading');
  const rising = new BatteryMeter();
  for (let s = 0; s <= 40; s++) rising.sample(s * 1000, 60 + s * 0.01, true);
  assert.equal(rising.drainPctPerS, ASSUMED_DRAIN_PCT_PER_S, 'sag recovering');
});

test('the battery drain is assumed for the first half minute, then measured in flight', () => {
  const meter = new BatteryMeter();
  assert.equal(meter.budget(null), null, 'no reading, no budget');
  meter.sample(0, 80, true);
  let budget = meter.budget(null);
  assert.deepEqual(budget, {
    remainingPct: 80,
    drainPctPerS: ASSUMED_DRAIN_PCT_PER_S,
    returnSpeedMps: DEFAULT_RETURN_SPEED_MPS,
    descentSpeedMps: 1.5,
  });
  // 0.2 %/s over 40 s of flight.
  for (let s = 1; s <= 40; s++) meter.sample(s * 1000, 80 - s * 0.2, true);
  budget = meter.budget(10);
  assert.ok(Math.abs((budget?.drainPctPerS ?? 0) - 0.2) < 1e-9);
  assert.equal(budget?.returnSpeedMps, 10);
  // Landing starts the measure again; a lost reading gives no budget.
  meter.sample(41_000, 78, false);
  assert.equal(meter.drainPctPerS, ASSUMED_DRAIN_PCT_PER_S);
  meter.sample(42_000, null, true);
  assert.equal(meter.budget(10), null);
});
