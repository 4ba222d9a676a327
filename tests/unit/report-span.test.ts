// What the report works out about its span: where the drone was when something happened, and
// the summary figures, across holes in the record and a thinned path.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { csvTextCell } from '../../app/core/hazing-log';
import { csvDocument, localText, sha256Line } from '../../app/station/report/format';
import { pathLegs, positionAt, summarize, type TimedPosition } from '../../app/station/report/span';
import { HOME, T0_MS } from './report-fixture';

/** A drone flying east at 5 m/s, 20 m up, one point a second, with a hole from 60 s to 300 s. */
function pathWithHole(): TimedPosition[] {
  const points: TimedPosition[] = [];
  for (let s = 0; s <= 400; s++) {
    if (s > 60 && s < 300) continue;
    points.push({
      ...offsetNorthEast(HOME, 0, s * 5),
      altitudeRelM: 20,
      altitudeMslM: 1085,
      timeMs: T0_MS + s * 1000,
    });
  }
  return points;
}

test('positionAt interpolates between points and knows nothing inside a hole', () => {
  const path = pathWithHole();
  const between = positionAt(path, T0_MS + 10_500);
  assert.ok(between);
  assert.ok(Math.abs(between.lonDeg - offsetNorthEast(HOME, 0, 52.5).lonDeg) < 1e-9);
  assert.equal(between.timeMs, T0_MS + 10_500);
  // Just past the last point before the hole: that point stands; deep in the hole: nothing.
  assert.equal(positionAt(path, T0_MS + 62_000)?.lonDeg, path[60].lonDeg);
  assert.equal(positionAt(path, T0_MS + 150_000), null);
  assert.equal(positionAt(path, T0_MS - 60_000), null);
  assert.equal(positionAt(path, T0_MS + 460_000), null);
  assert.equal(positionAt([], T0_MS), null);
});

test('summarize leaves a hole out of the flight time and counts bears and outcomes', () => {
  const path = pathWithHole();
  const summary = summarize(
    500_000,
    path,
    [{ className: 'bear' }, { className: 'person' }, { className: 'bear' }, { className: 'dog' }],
    [],
  );
  assert.equal(summary.flightMs, (60 + 100) * 1000);
  assert.equal(summary.spanMs, 500_000);
  assert.equal(summary.bearTracks, 2);
  assert.deepEqual(summary.otherTracks, { person: 1, dog: 1 });
  assert.equal(summary.maxAltitudeRelM, 20);
  assert.equal(summary.hazingEvents, 0);
  // No leg across the hole: where the drone went in it is not in the record.
  assert.ok(Math.abs(summary.distanceFlownM - 800) < 1, `${summary.distanceFlownM}`);
});

/**
 * Two sessions in one record, in file order: 100 s east at 5 m/s from home, then the clock
 * steps back 50 s and the drone flies 100 s north at 5 m/s from 1 km south of home.
 */
function pathWithJumpBack(): TimedPosition[] {
  const points: TimedPosition[] = [];
  const point = (northM: number, eastM: number, timeMs: number): TimedPosition => ({
    ...offsetNorthEast(HOME, northM, eastM),
    altitudeRelM: 20,
    altitudeMslM: 1085,
    timeMs,
  });
  for (let s = 0; s <= 100; s++) points.push(point(0, s * 5, T0_MS + s * 1000));
  for (let s = 0; s <= 100; s++) points.push(point(-1000 + s * 5, 0, T0_MS + (50 + s) * 1000));
  return points;
}

test('a clock jump back starts a new leg: nothing is taken across it or sorted by time', () => {
  const path = pathWithJumpBack();
  const legs = pathLegs(path);
  assert.deepEqual(
    legs.map((leg) => leg.length),
    [101, 101],
  );
  assert.equal(legs[1][0], path[101]);
  const summary = summarize(200_000, path, [], []);
  assert.ok(Math.abs(summary.distanceFlownM - 1000) < 1, `${summary.distanceFlownM}`);
  assert.equal(summary.flightMs, 200_000);
  // Only the second session covers 120 s; at 20 s the first (earlier in the record) answers.
  const late = positionAt(path, T0_MS + 120_000);
  assert.ok(late && Math.abs(distanceM(late, offsetNorthEast(HOME, -650, 0))) < 0.01);
  const early = positionAt(path, T0_MS + 20_000);
  assert.ok(early && Math.abs(distanceM(early, offsetNorthEast(HOME, 0, 100))) < 0.01);
  // Inside a hole too, legs end at it: two legs, the hole neither flown nor measured.
  assert.equal(pathLegs(pathWithHole()).length, 2);
});

test('a thinned path (a point every 20 s) is not mistaken for holes', () => {
  const thinned = pathWithHole().filter((point) => (point.timeMs - T0_MS) % 20_000 === 0);
  const summary = summarize(500_000, thinned, [], []);
  assert.equal(summary.flightMs, (60 + 100) * 1000);
  assert.ok(positionAt(thinned, T0_MS + 30_000));
});

test('CSV cells: formulas guarded, quotes doubled, CRLF rows', () => {
  assert.equal(csvTextCell('=1+1'), "'=1+1");
  assert.equal(csvTextCell('-2'), "'-2");
  assert.equal(csvTextCell('bear #3'), 'bear #3');
  assert.equal(
    csvDocument([
      ['a', 'b, "c"'],
      ['d\ne', ''],
    ]),
    'a,"b, ""c"""\r\n"d\ne",\r\n',
  );
});

test('sha256 lines escape names as sha256sum does; local times carry their offset', () => {
  const hash = 'a'.repeat(64);
  assert.equal(sha256Line(hash, '/data/flight 1.tlog'), `${hash}  /data/flight 1.tlog\n`);
  assert.equal(sha256Line(hash, 'a\\b\nc'), `\\${hash}  a\\\\b\\nc\n`);
  assert.match(localText(T0_MS), /^\d\d:\d\d:\d\d \(UTC[+-]\d\d:\d\d\)$/);
});
