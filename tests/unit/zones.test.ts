import assert from 'node:assert/strict';
import { test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import type { LatLon } from '../../app/core/types';
import {
  checkZoneInput,
  distanceToEdgesM,
  distanceToZoneM,
  formatZonesFile,
  offsetPolygon,
  parseZonesFile,
  pointInPolygon,
  ZoneAlerter,
  zoneKind,
  type ProtectedZone,
  type ZoneKind,
} from '../../app/core/zones';

const CONRAD: LatLon = { latDeg: 48.17, lonDeg: -111.95 };
const at = (northM: number, eastM: number): LatLon => offsetNorthEast(CONRAD, northM, eastM);

/** A 100 m square, south-west corner at Conrad. */
const SQUARE = [at(0, 0), at(0, 100), at(100, 100), at(100, 0)];
/** An L: the square with its north-east quarter cut out. */
const ELL = [at(0, 0), at(0, 100), at(50, 100), at(50, 50), at(100, 50), at(100, 0)];

function near(actual: number, expected: number, toleranceM: number, what: string): void {
  assert.ok(
    Math.abs(actual - expected) <= toleranceM,
    `${what}: ${actual} is not within ${toleranceM} of ${expected}`,
  );
}

test('points inside and outside a square and an L-shaped yard', () => {
  assert.equal(pointInPolygon(at(50, 50), SQUARE), true);
  assert.equal(pointInPolygon(at(1, 99), SQUARE), true);
  assert.equal(pointInPolygon(at(-1, 50), SQUARE), false);
  assert.equal(pointInPolygon(at(50, 101), SQUARE), false);
  assert.equal(pointInPolygon(at(25, 75), ELL), true);
  assert.equal(pointInPolygon(at(75, 25), ELL), true);
  // The cut-out corner is outside, though it is inside the L's bounding box.
  assert.equal(pointInPolygon(at(75, 75), ELL), false);
  // Same answer whichever way round the corners go.
  assert.equal(pointInPolygon(at(75, 75), [...ELL].reverse()), false);
  assert.equal(pointInPolygon(at(25, 75), [...ELL].reverse()), true);
});

test('distance to the nearest edge, from outside and inside', () => {
  near(distanceToZoneM(at(-30, 50), SQUARE), 30, 0.1, 'south of the square');
  near(distanceToZoneM(at(50, 160), SQUARE), 60, 0.1, 'east of the square');
  // Off a corner the nearest point is the corner itself.
  near(distanceToZoneM(at(130, 140), SQUARE), 50, 0.1, 'off the north-east corner');
  assert.equal(distanceToZoneM(at(50, 50), SQUARE), 0, 'inside is 0');
  near(distanceToEdgesM(at(50, 20), SQUARE), 20, 0.1, 'inside, to the west edge');
  // In the L's notch: nearest are the inner edges, 10 m away.
  near(distanceToZoneM(at(60, 60), ELL), 10, 0.1, 'in the notch of the L');
});

test('zones are checked field by field with errors that say what is wrong', () => {
  const good = { name: ' Silo ', alertDistanceM: 50, polygon: SQUARE };
  assert.deepEqual(checkZoneInput(good), { name: 'Silo', alertDistanceM: 50, polygon: SQUARE });
  const cases: Array<[unknown, RegExp]> = [
    [null, /zone is not an object/],
    [{ ...good, name: '  ' }, /name must be a non-empty text/],
    [{ ...good, alertDistanceM: -1 }, /"Silo": alertDistanceM -1 is not a number from 0/],
    [{ ...good, alertDistanceM: '50' }, /alertDistanceM "50"/],
    [{ ...good, polygon: SQUARE.slice(0, 2) }, /polygon has 2 corners; a zone needs 3/],
    [{ ...good, polygon: [SQUARE[0], SQUARE[1], { latDeg: 91, lonDeg: 0 }] }, /corner 3/],
    [{ ...good, polygon: [at(0, 0), at(0, 10), at(0, 20)] }, /has no area/],
    [{ ...good, polygon: [at(0, 0), at(100, 100), at(0, 100), at(100, 0)] }, /edges 1 and 3 cross/],
    [{ ...good, polygon: [at(0, 0), at(0, 30_000), at(10, 0)] }, /spans 30000 m/],
    [{ ...good, id: 1.5 }, /id 1.5 is not a whole number/],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => checkZoneInput(value), message, JSON.stringify(value));
  }
});

test('a zones file round-trips, and bad files name the file and the problem', () => {
  const zones: ProtectedZone[] = [
    { id: 1, name: 'Farm yard', alertDistanceM: 100, polygon: SQUARE },
    { id: 4, name: 'School grounds', alertDistanceM: 0, polygon: ELL },
  ];
  assert.deepEqual(parseZonesFile(formatZonesFile(zones), 'zones.json'), zones);
  assert.deepEqual(parseZonesFile('{"version":1,"zones":[]}', 'z.json'), []);
  const cases: Array<[string, RegExp]> = [
    ['', /z\.json is not JSON/],
    ['{"version":1,"zones":[', /z\.json is not JSON/],
    ['[]', /z\.json is not a JSON object/],
    ['{"version":2,"zones":[]}', /z\.json: version 2 is not 1/],
    ['{"version":1,"zones":{}}', /z\.json: zones is not a list/],
    [
      JSON.stringify({ version: 1, zones: [{ name: 'Silo', alertDistanceM: 5, polygon: SQUARE }] }),
      /zone 1 of z\.json "Silo" has no id/,
    ],
    [
      JSON.stringify({ version: 1, zones: [zones[0], { ...zones[1], id: 1 }] }),
      /zone id 1 is used twice/,
    ],
    [
      JSON.stringify({ version: 1, zones: [zones[0], { ...zones[1], polygon: [] }] }),
      /zone 2 of z\.json "School grounds": polygon has 0 corners/,
    ],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseZonesFile(text, 'z.json'), message, text);
  }
});

test('one alert per entering, none while pacing the line, a new one after leaving', () => {
  const zone: ProtectedZone = { id: 7, name: 'Silo', alertDistanceM: 30, polygon: SQUARE };
  const alerter = new ZoneAlerter({ leaveMarginM: 10 });
  let timeMs = 0;
  const step = (southM: number, trackId = 3, className = 'bear') => {
    timeMs += 200;
    return alerter.update([{ trackId, className, position: at(-southM, 50), timeMs }], [zone]);
  };

  assert.deepEqual(step(100), [], 'far away');
  assert.deepEqual(step(31), [], 'just outside the alert distance');
  const [entry, ...more] = step(29);
  assert.deepEqual(more, []);
  assert.equal(entry.trackId, 3);
  assert.equal(entry.zoneId, 7);
  assert.equal(entry.zoneName, 'Silo');
  assert.equal(entry.inside, false);
  near(entry.distanceM, 29, 0.1, 'distance at the alert');
  assert.equal(entry.raisedMs, timeMs);

  // Pacing along the alert line and wandering in: one alert, not one per frame.
  for (const southM of [31, 29, 33, 38, 20, 0, -20, 39, 25]) {
    assert.deepEqual(step(southM), [], `no repeat at ${southM} m`);
  }
  assert.equal(alerter.isNear(3, 7), true);
  // Beyond the alert distance plus the margin it has left; coming back raises a new alert.
  assert.deepEqual(step(41), []);
  assert.equal(alerter.isNear(3, 7), false);
  const [again] = step(-10);
  assert.equal(again.inside, true, 'inside the yard');
  assert.equal(again.distanceM, 0);

  // Other tracks are their own; other classes raise nothing.
  assert.equal(step(0, 4).length, 1, 'a second bear is a second alert');
  assert.deepEqual(step(0, 5, 'person'), [], 'people do not raise bear alerts');

  // A track that ended is forgotten: the same id (never reused by the tracker) would alert anew.
  alerter.forgetTrack(3);
  assert.equal(step(0).length, 1);
  // A deleted zone is forgotten too.
  assert.deepEqual(alerter.update([], []), []);
  assert.equal(alerter.isNear(4, 7), false);
});

test('a zone with alert distance 0 alerts only on entering', () => {
  const zone: ProtectedZone = { id: 1, name: 'School', alertDistanceM: 0, polygon: SQUARE };
  const alerter = new ZoneAlerter();
  const subject = (northM: number, timeMs: number) => ({
    trackId: 1,
    className: 'bear',
    position: at(northM, 50),
    timeMs,
  });
  assert.deepEqual(alerter.update([subject(-1, 1)], [zone]), []);
  assert.equal(alerter.update([subject(1, 2)], [zone]).length, 1);
  assert.throws(() => new ZoneAlerter({ leaveMarginM: -1 }), /leaveMarginM must be/);
});

test('the alert line is the zone grown by the alert distance, either way round', () => {
  for (const square of [SQUARE, [...SQUARE].reverse()]) {
    const grown = offsetPolygon(square, 10);
    assert.equal(grown.length, 4);
    // Mitered corners: 10 m out from both edges.
    const expected = [at(-10, -10), at(-10, 110), at(110, 110), at(110, -10)];
    const ordered = square === SQUARE ? expected : [...expected].reverse();
    grown.forEach((corner, index) => {
      assert.ok(
        Math.abs(corner.latDeg - ordered[index].latDeg) < 1e-6 &&
          Math.abs(corner.lonDeg - ordered[index].lonDeg) < 1e-6,
        `corner ${index}: ${JSON.stringify(corner)}`,
      );
    });
  }
  // The L's inner corner moves outward too, and the edges stay 10 m from the yard.
  const grownEll = offsetPolygon(ELL, 10);
  near(distanceToZoneM(grownEll[3], ELL), 10, 0.05, 'inner corner');
  near(distanceToZoneM(at(50, 110), ELL), 10, 0.05, 'a point on the grown east edge');
  assert.equal(pointInPolygon(at(50, 105), grownEll), true);
  assert.deepEqual(offsetPolygon(SQUARE, 0), SQUARE);
});

test('zone kinds: checked, kept when given, absent means protected', () => {
  const good = { name: 'Yard', alertDistanceM: 20, polygon: SQUARE };
  for (const kind of ['protected', 'no-fly', 'fence', 'safe'] as const) {
    const zone = checkZoneInput({ ...good, kind });
    assert.equal(zone.kind, kind);
    assert.equal(zoneKind(zone), kind);
  }
  const old = checkZoneInput(good);
  assert.equal('kind' in old, false, 'a zone without a kind stays without one');
  assert.equal(zoneKind(old), 'protected');
  for (const kind of ['school', '', 3, null, 'Fence']) {
    assert.throws(() => checkZoneInput({ ...good, kind }, 'zone 2'), {
      message:
        `zone 2 "Yard": kind ${JSON.stringify(kind)} is not one of protected, no-fly, ` +
        'fence, safe',
    });
  }
});

test('zone kinds round-trip through the zones file; a file from before kinds still loads', () => {
  const zones: ProtectedZone[] = [
    { id: 1, name: 'Silo', kind: 'protected', alertDistanceM: 50, polygon: SQUARE },
    { id: 2, name: 'Highway', kind: 'no-fly', alertDistanceM: 0, polygon: ELL },
    { id: 3, name: 'Ranch', kind: 'fence', alertDistanceM: 0, polygon: SQUARE },
    { id: 4, name: 'Open country', kind: 'safe', alertDistanceM: 0, polygon: ELL },
    { id: 5, name: 'Old zone', alertDistanceM: 10, polygon: SQUARE },
  ];
  assert.deepEqual(parseZonesFile(formatZonesFile(zones), 'zones.json'), zones);
  const before = JSON.stringify({
    version: 1,
    zones: [{ id: 9, name: 'School', alertDistanceM: 100, polygon: SQUARE }],
  });
  const [school] = parseZonesFile(before, 'old.json');
  assert.deepEqual(school, { id: 9, name: 'School', alertDistanceM: 100, polygon: SQUARE });
  assert.equal(zoneKind(school), 'protected');
  assert.throws(
    () =>
      parseZonesFile(
        JSON.stringify({ version: 1, zones: [{ ...zones[0], kind: 'moat' }] }),
        'z.json',
      ),
    /zone 1 of z\.json "Silo": kind "moat" is not one of/,
  );
});

test('only protected and no-fly zones raise alerts; fences and safe areas do not', () => {
  const alerter = new ZoneAlerter();
  const zoneOf = (id: number, kind: ZoneKind | undefined): ProtectedZone => ({
    id,
    name: `zone ${id}`,
    ...(kind ? { kind } : {}),
    alertDistanceM: 30,
    polygon: SQUARE,
  });
  const zones = [
    zoneOf(1, 'protected'),
    zoneOf(2, 'no-fly'),
    zoneOf(3, 'fence'),
    zoneOf(4, 'safe'),
    zoneOf(5, undefined),
  ];
  const bear = (timeMs: number) => [
    { trackId: 8, className: 'bear', position: at(50, 50), timeMs },
  ];
  const entries = alerter.update(bear(1), zones);
  assert.deepEqual(
    entries.map((entry) => [entry.zoneId, entry.inside]),
    [
      [1, true],
      [2, true],
      [5, true],
    ],
  );
  // A safe area turned into a protected zone alerts from then on; one turned into a fence is
  // forgotten, so turning it back alerts again.
  const changed = [zoneOf(1, 'fence'), zones[1], zones[2], zoneOf(4, 'protected'), zones[4]];
  assert.deepEqual(
    alerter.update(bear(2), changed).map((entry) => entry.zoneId),
    [4],
  );
  assert.equal(alerter.isNear(8, 1), false);
  assert.deepEqual(
    alerter.update(bear(3), zones).map((entry) => entry.zoneId),
    [1],
  );
});
