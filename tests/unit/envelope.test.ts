import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  DEFAULT_ENVELOPE,
  batteryNeededPct,
  checkEnvelopeLimits,
  checkSetpoint,
  checkSetpointAll,
  type EnvelopeWorld,
  type Setpoint,
} from '../../app/core/envelope';
import { northEastOf, offsetNorthEast } from '../../app/core/geodesy';
import type { LatLon } from '../../app/core/types';

const HOME = { latDeg: 48.17, lonDeg: -111.95 };

/** A point metres north and east of home. */
const at = (northM: number, eastM: number): LatLon => offsetNorthEast(HOME, northM, eastM);
const setpointAt = (northM: number, eastM: number, altitudeAglM = 30): Setpoint => ({
  ...at(northM, eastM),
  altitudeAglM,
});
const square = (northM: number, eastM: number, halfM: number): LatLon[] => [
  at(northM - halfM, eastM - halfM),
  at(northM - halfM, eastM + halfM),
  at(northM + halfM, eastM + halfM),
  at(northM + halfM, eastM - halfM),
];

function world(overrides: Partial<EnvelopeWorld> = {}): EnvelopeWorld {
  return {
    drone: { ...at(0, 0), altitudeAglM: 30 },
    home: HOME,
    bears: [],
    people: [],
    fences: [],
    noFlyZones: [],
    battery: null,
    linkUp: true,
    ...overrides,
  };
}

test('a setpoint clear of every rule passes', () => {
  assert.equal(checkSetpoint(setpointAt(100, 0), world()), null);
  assert.deepEqual(checkSetpointAll(setpointAt(100, 0), world()), []);
});

test('position: a setpoint that is not a place is refused first', () => {
  for (const bad of [
    { latDeg: NaN, lonDeg: 0, altitudeAglM: 30 },
    { latDeg: 91, lonDeg: 0, altitudeAglM: 30 },
    { latDeg: 48, lonDeg: -181, altitudeAglM: 30 },
    { ...at(10, 0), altitudeAglM: Infinity },
  ]) {
    const violation = checkSetpoint(bad, world({ linkUp: false }));
    assert.equal(violation?.rule, 'position', JSON.stringify(bad));
    assert.match(violation.text, /^position/);
  }
});

test('link: no setpoint goes out while the link is lost', () => {
  const violation = checkSetpoint(setpointAt(100, 0), world({ linkUp: false }));
  assert.deepEqual(violation, { rule: 'link', text: 'link lost: no setpoints until it is back' });
});

test('altitude floor and ceiling name the height and the limit', () => {
  const low = checkSetpoint(setpointAt(100, 0, 8), world());
  assert.equal(low?.rule, 'altitude-floor');
  assert.equal(low.text, 'altitude-floor: 8 m above ground is under the 10 m floor');
  const high = checkSetpoint(setpointAt(100, 0, 121), world());
  assert.equal(high?.rule, 'altitude-ceiling');
  assert.equal(high.text, 'altitude-ceiling: 121 m above ground is over the 120 m ceiling');
  assert.equal(checkSetpoint(setpointAt(100, 0, 10), world()), null);
  assert.equal(checkSetpoint(setpointAt(100, 0, 120), world()), null);
});

test('geofence: the setpoint and the whole path stay inside one fence', () => {
  // A U-shaped fence: two arms joined at the south; the drone is in the west arm.
  const fence = [
    at(-100, -100),
    at(-100, 100),
    at(200, 100),
    at(200, 50),
    at(0, 50),
    at(0, -50),
    at(200, -50),
    at(200, -100),
  ];
  const fences = [fence];
  const drone = { ...at(150, -75), altitudeAglM: 30 };
  assert.equal(checkSetpoint(setpointAt(-50, -75), world({ drone, fences })), null);
  const across = checkSetpoint(setpointAt(150, 75), world({ drone, fences }));
  assert.equal(across?.rule, 'geofence');
  assert.equal(across.text, 'geofence: the path from the drone leaves the fence');
  const outside = checkSetpoint(setpointAt(300, 0), world({ drone, fences }));
  assert.equal(outside?.text, 'geofence: the setpoint is 111.8 m outside the fence');
  const outsideDrone = { ...at(300, 0), altitudeAglM: 30 };
  const back = checkSetpoint(setpointAt(150, -75), world({ drone: outsideDrone, fences }));
  assert.equal(back?.text, 'geofence: the drone is outside the fence');
  // With no fence at all the rule does not apply.
  assert.equal(checkSetpoint(setpointAt(150, 75), world({ drone })), null);
  // Another fence that holds the whole path is enough.
  const big = square(0, 0, 500);
  assert.equal(checkSetpoint(setpointAt(150, 75), world({ drone, fences: [fence, big] })), null);
});

test('no-fly zones: never entered, never crossed', () => {
  const noFlyZones = [square(100, 0, 20)];
  const inside = checkSetpoint(setpointAt(100, 0), world({ noFlyZones }));
  assert.deepEqual(inside, {
    rule: 'no-fly-zone',
    text: 'no-fly-zone 1: the setpoint is 20 m inside it',
  });
  const across = checkSetpoint(setpointAt(200, 0), world({ noFlyZones }));
  assert.deepEqual(across, { rule: 'no-fly-zone', text: 'no-fly-zone 1: the path crosses it' });
  assert.equal(checkSetpoint(setpointAt(200, 50), world({ noFlyZones })), null);
});

test('person: the path keeps the radius, with the distance in the text', () => {
  const people = [at(100, 12)];
  const violation = checkSetpoint(setpointAt(200, 0), world({ people }));
  assert.deepEqual(violation, { rule: 'person', text: 'person 12 m from the path; keep 30 m' });
  assert.equal(checkSetpoint(setpointAt(200, 0), world({ people: [at(100, 31)] })), null);
  // A person near the setpoint, not the path's middle, counts as well.
  assert.equal(checkSetpoint(setpointAt(200, 0), world({ people: [at(220, 0)] }))?.rule, 'person');
});

test('person already nearer than the radius: moving away is allowed, approaching is not', () => {
  const drone = { ...at(0, 0), altitudeAglM: 30 };
  const people = [at(0, 10)];
  assert.equal(checkSetpoint(setpointAt(0, -50), world({ drone, people })), null);
  const sideways = checkSetpoint(setpointAt(50, 0), world({ drone, people }));
  assert.equal(sideways, null, 'moving at right angles does not come nearer');
  const toward = checkSetpoint(setpointAt(0, 5), world({ drone, people }));
  assert.equal(toward?.rule, 'person');
  assert.equal(
    toward.text,
    "person 5 m from the path, nearer than the drone's 10 m now; keep 30 m",
  );
});

test('bear standoff: horizontal only, the path as well as the setpoint', () => {
  const bears = [at(100, 0)];
  const overhead = checkSetpoint(setpointAt(100, 0, 110), world({ bears }));
  assert.equal(overhead?.rule, 'bear-standoff', 'altitude does not help');
  assert.equal(overhead.text, 'bear-standoff: bear 0 m from the path; keep 20 m');
  const past = checkSetpoint(setpointAt(200, 15), world({ bears }));
  assert.equal(past?.rule, 'bear-standoff');
  assert.match(past.text, /^bear-standoff: bear 7\.\d m from the path; keep 20 m$/);
  assert.equal(checkSetpoint(setpointAt(100, 21), world({ bears })), null);
  const alongside = { ...at(0, 20), altitudeAglM: 30 };
  const exactly = checkSetpoint(setpointAt(100, 20), world({ bears, drone: alongside }));
  assert.equal(exactly, null, 'exactly the standoff');
  // Every bear counts, not only the first.
  const two = world({ bears: [at(-300, 0), at(50, 5)] });
  assert.equal(checkSetpoint(setpointAt(100, 0), two)?.rule, 'bear-standoff');
});

test('battery: fly home, descend and keep the reserve', () => {
  const budget = { remainingPct: 40, drainPctPerS: 0.1, returnSpeedMps: 10, descentSpeedMps: 2 };
  // 1000 m home at 10 m/s = 100 s, 50 m down at 2 m/s = 25 s: 12.5% + 20% reserve.
  const needed = batteryNeededPct(at(1000, 0), HOME, 50, budget);
  assert.ok(Math.abs(needed - 32.5) < 0.01, `${needed}`);
  const short = world({ battery: { ...budget, remainingPct: 32 } });
  const violation = checkSetpoint(setpointAt(1000, 0, 50), short);
  assert.equal(violation?.rule, 'battery');
  assert.equal(
    violation.text,
    'battery 32% left; 33% needed to fly home from the setpoint and land with the 20% reserve',
  );
  const enough = world({ battery: { ...budget, remainingPct: 33 } });
  assert.equal(checkSetpoint(setpointAt(1000, 0, 50), enough), null);
  assert.equal(checkSetpoint(setpointAt(1000, 0, 50), world({ battery: null })), null);
  const stuck = world({ battery: { ...budget, returnSpeedMps: 0 } });
  assert.equal(batteryNeededPct(at(10, 0), HOME, 30, stuck.battery!), Infinity);
  assert.match(checkSetpoint(setpointAt(10, 0), stuck)?.text ?? '', /^battery need unknown/);
  const reserve = { ...DEFAULT_ENVELOPE, batteryReservePct: 50 };
  assert.ok(Math.abs(batteryNeededPct(at(1000, 0), HOME, 50, budget, reserve) - 62.5) < 0.01);
});

test('the first broken rule is reported; checkSetpointAll lists them in rule order', () => {
  const crowded = world({
    linkUp: false,
    bears: [at(100, 0)],
    people: [at(100, 0)],
    battery: { remainingPct: 5, drainPctPerS: 0.1, returnSpeedMps: 10, descentSpeedMps: 2 },
  });
  const all = checkSetpointAll(setpointAt(100, 0, 5), crowded).map((v) => v.rule);
  assert.deepEqual(all, ['link', 'altitude-floor', 'person', 'bear-standoff', 'battery']);
  assert.equal(checkSetpoint(setpointAt(100, 0, 5), crowded)?.rule, 'link');
  for (const violation of checkSetpointAll(setpointAt(100, 0, 5), crowded)) {
    assert.ok(violation.text.startsWith(violation.rule), violation.text);
  }
});

test('a drone with no position gets no setpoint', () => {
  const lost = world({ drone: { latDeg: NaN, lonDeg: NaN, altitudeAglM: 30 } });
  assert.equal(checkSetpoint(setpointAt(100, 0), lost)?.rule, 'position');
});

test('checkEnvelopeLimits takes good limits and names the bad field', () => {
  assert.deepEqual(checkEnvelopeLimits({ ...DEFAULT_ENVELOPE }), DEFAULT_ENVELOPE);
  const cases: Array<[unknown, string]> = [
    [null, 'envelope is not an object'],
    [{ ...DEFAULT_ENVELOPE, bearStandoffM: 5 }, 'envelope bearStandoffM 5 is outside 10-100 m'],
    [{ ...DEFAULT_ENVELOPE, ceilingAglM: 130 }, 'envelope ceilingAglM 130 is outside 20-120 m'],
    [
      { ...DEFAULT_ENVELOPE, batteryReservePct: 5 },
      'envelope batteryReservePct 5 is outside 10-60 %',
    ],
    [{ ...DEFAULT_ENVELOPE, personRadiusM: '30' }, 'envelope personRadiusM "30" is not a number'],
    [{ ...DEFAULT_ENVELOPE, floorAglM: NaN }, 'envelope floorAglM null is not a number'],
    [
      { ...DEFAULT_ENVELOPE, floorAglM: 40, ceilingAglM: 30 },
      'envelope floorAglM 40 m is not below ceilingAglM 30 m',
    ],
  ];
  for (const [value, message] of cases) {
    assert.throws(() => checkEnvelopeLimits(value), { message });
  }
  const { floorAglM: _floor, ...missing } = DEFAULT_ENVELOPE;
  assert.throws(() => checkEnvelopeLimits(missing, 'config envelope'), {
    message: 'config envelope floorAglM undefined is not a number',
  });
  assert.throws(
    () => checkEnvelopeLimits({ ...DEFAULT_ENVELOPE, standoff: 3 }),
    /unknown field standoff/,
  );
});

/** A ridge across the way north: peakM high at northM, falling to 0 over halfWidthM. */
const ridge =
  (northM: number, peakM: number, halfWidthM: number) =>
  (point: LatLon): number => {
    const offM = Math.abs(northEastOf(HOME, point).northM - northM);
    return peakM * Math.max(0, 1 - offM / halfWidthM);
  };

test('terrain: a ridge between two setpoints 30 m up is refused along the path', () => {
  const groundAboveHomeM = ridge(100, 50, 40);
  const violation = checkSetpoint(setpointAt(200, 0), world({ groundAboveHomeM }));
  assert.equal(violation?.rule, 'altitude-floor');
  // 30 m above home where the ridge stands 50 m high: 20 m under its top.
  assert.equal(
    violation.text,
    'altitude-floor: the path runs 20 m into the ground, 100 m from the drone, ' +
      'under the 10 m floor',
  );
  // Flat ground at home without a model: the same setpoint passes, as before.
  assert.equal(checkSetpoint(setpointAt(200, 0), world()), null);
  // Over the ridge high enough: 30 m above the ridge's top at both ends.
  const drone = { ...at(0, 0), altitudeAglM: 80 };
  assert.equal(checkSetpoint(setpointAt(200, 0, 80), world({ drone, groundAboveHomeM })), null);
  // Onto the ridge's top, 30 m above it: the path climbs with the ground.
  assert.equal(checkSetpoint(setpointAt(100, 0), world({ groundAboveHomeM })), null);
});

test('terrain: a leg over a valley that puts the drone over the ceiling is refused', () => {
  const groundAboveHomeM = ridge(100, -60, 40);
  const drone = { ...at(0, 0), altitudeAglM: 100 };
  const violation = checkSetpoint(setpointAt(200, 0, 100), world({ drone, groundAboveHomeM }));
  assert.equal(violation?.rule, 'altitude-ceiling');
  assert.equal(
    violation.text,
    'altitude-ceiling: the path passes 160 m above ground, 100 m from the drone, ' +
      'over the 120 m ceiling',
  );
  assert.equal(checkSetpoint(setpointAt(200, 0, 100), world({ drone })), null);
  const low = { ...at(0, 0), altitudeAglM: 50 };
  assert.equal(
    checkSetpoint(setpointAt(200, 0, 50), world({ drone: low, groundAboveHomeM })),
    null,
  );
});

test('terrain: a point where the model has no data is refused, naming where', () => {
  // No data in a band 90-110 m north: the setpoint beyond it is fine, the path is not.
  const groundAboveHomeM = (point: LatLon): number | null => {
    const northM = northEastOf(HOME, point).northM;
    return northM > 90 && northM < 110 ? null : 0;
  };
  const violation = checkSetpoint(setpointAt(200, 0), world({ groundAboveHomeM }));
  assert.equal(violation?.rule, 'altitude-floor');
  assert.match(
    violation.text,
    /^altitude-floor: no elevation data at 48\.17\d+, -111\.95\d*, 9\d m from the drone$/,
  );
  const onHole = checkSetpoint(setpointAt(100, 0), world({ groundAboveHomeM }));
  assert.match(onHole?.text ?? '', /^altitude-floor: no elevation data at .*, the setpoint$/);
  assert.equal(checkSetpoint(setpointAt(80, 0), world({ groundAboveHomeM })), null);
});

test('terrain: a drone already under the floor may climb, but not sink lower', () => {
  const groundAboveHomeM = (): number => 0;
  const drone = { ...at(0, 0), altitudeAglM: 6 };
  assert.equal(checkSetpoint(setpointAt(100, 0), world({ drone, groundAboveHomeM })), null);
  // Ground rising 3 m just ahead puts the path 3 m above ground, lower than the drone's 6 m.
  const bump = ridge(5, 3, 5);
  const violation = checkSetpoint(setpointAt(10, 0, 10), world({ drone, groundAboveHomeM: bump }));
  assert.equal(violation?.rule, 'altitude-floor');
  assert.match(violation.text, /lower than the drone's 6 m now/);
});

test('no-fly zones: a drone inside one may leave it, and only leave it', () => {
  const noFlyZones = [square(0, 0, 50)];
  const drone = { ...at(10, 0), altitudeAglM: 30 };
  // Straight out, crossing the edge once, ending outside.
  assert.equal(checkSetpoint(setpointAt(100, 0), world({ drone, noFlyZones })), null);
  assert.equal(checkSetpoint(setpointAt(-80, -80), world({ drone, noFlyZones })), null);
  // Deeper in, or to a point still inside, is refused with the reason.
  const deeper = checkSetpoint(setpointAt(0, 0), world({ drone, noFlyZones }));
  assert.equal(deeper?.rule, 'no-fly-zone');
  assert.equal(
    deeper.text,
    'no-fly-zone 1: the drone is inside no-fly zone 1, 40 m from its edge; ' +
      'only a straight path out of it is allowed',
  );
  // Out and back in through a notch: a U-shaped zone whose arms the path leaves and re-enters.
  const u = [
    at(-50, -50),
    at(-50, 50),
    at(50, 50),
    at(50, 20),
    at(0, 20),
    at(0, -20),
    at(50, -20),
    at(50, -50),
  ];
  const inArm = { ...at(30, -35), altitudeAglM: 30 };
  const across = checkSetpoint(setpointAt(30, 80), world({ drone: inArm, noFlyZones: [u] }));
  assert.equal(across?.rule, 'no-fly-zone');
  assert.match(across.text, /the drone is inside no-fly zone 1/);
  // Leaving one zone into another is still refused by the other.
  const next = [square(0, 0, 50), square(100, 0, 30)];
  const into = checkSetpoint(setpointAt(100, 0), world({ drone, noFlyZones: next }));
  assert.equal(into?.text, 'no-fly-zone 2: the setpoint is 30 m inside it');
  // A drone on the edge may move out, not in.
  const onEdge = { ...at(50, 0), altitudeAglM: 30 };
  assert.equal(checkSetpoint(setpointAt(100, 0), world({ drone: onEdge, noFlyZones })), null);
  assert.equal(
    checkSetpoint(setpointAt(20, 0), world({ drone: onEdge, noFlyZones }))?.rule,
    'no-fly-zone',
  );
});
