// The simulated bear's mind: it walks toward the farm at about 1 m/s, stays in the yard, runs
// from a flying drone inside its flight distance until it is twice that away, and a seed
// decides all of it.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  CALM_AT_FLIGHT_DISTANCES,
  FORAGE_RADIUS_M,
  FLIGHT_DISTANCE_RANGE_M,
  RUN_SPEED_MPS,
  SimBear,
  type DroneSighting,
} from '../../app/station/sim/bear';
import { DEFAULT_BEAR_START, DEFAULT_FARM } from '../../app/station/sim/args';

const FARM = { northM: 0, eastM: 300 };
const STEP_S = 0.05;

function run(bear: SimBear, seconds: number, drone: DroneSighting | null = null): void {
  for (let t = 0; t < seconds; t += STEP_S) bear.step(STEP_S, drone);
}

test('the bear walks toward the farm at about walking speed', () => {
  const bear = new SimBear({ start: { northM: 0, eastM: 0 }, farm: FARM, seed: 7 });
  const startDistanceM = bear.farmDistanceM;
  let pathM = 0;
  let [north, east] = [bear.northM, bear.eastM];
  for (let t = 0; t < 120; t += STEP_S) {
    bear.step(STEP_S, null);
    pathM += Math.hypot(bear.northM - north, bear.eastM - east);
    [north, east] = [bear.northM, bear.eastM];
  }
  const closerM = startDistanceM - bear.farmDistanceM;
  const meanSpeedMps = pathM / 120;
  assert.ok(meanSpeedMps > 0.7 && meanSpeedMps < 1.3, `mean speed ${meanSpeedMps} m/s`);
  // It wanders, so it gains less than it walks, but most of it goes toward the farm.
  assert.ok(closerM > 0.7 * pathM, `${closerM} m closer after walking ${pathM} m`);
  assert.equal(bear.fleeing, false);
});

test('at the farm the bear forages slowly within a few metres of the middle', () => {
  const bear = new SimBear({ start: { northM: 0, eastM: 260 }, farm: FARM, seed: 11 });
  run(bear, 120);
  let farthestM = 0;
  for (let t = 0; t < 600; t += STEP_S) {
    bear.step(STEP_S, null);
    farthestM = Math.max(farthestM, bear.farmDistanceM);
  }
  assert.ok(farthestM < FORAGE_RADIUS_M + 2, `strayed ${farthestM} m from the farm`);
  assert.ok(bear.speedMps < 0.6, `forages at ${bear.speedMps} m/s`);
});

test('a flying drone inside the flight distance makes it run away until it is well clear', () => {
  const bear = new SimBear({ start: { northM: 0, eastM: 0 }, farm: FARM, seed: 3 });
  // The drone hovers 10 m up, 10 m east of the bear: between it and the farm.
  const drone: DroneSighting = { northM: 0, eastM: 10, altitudeRelM: 10, flying: true };
  bear.step(STEP_S, drone);
  assert.equal(bear.fleeing, true, `flight distance ${bear.flightDistanceM} m`);
  run(bear, 4, drone);
  assert.ok(bear.speedMps > RUN_SPEED_MPS - 0.5, `runs at ${bear.speedMps} m/s`);
  assert.ok(bear.eastM < -5, `ran away from the drone (east ${bear.eastM} m)`);
  // It keeps running until twice its flight distance away, then calms down and walks.
  let calmedAtM: number | null = null;
  for (let t = 0; t < 60 && calmedAtM === null; t += STEP_S) {
    bear.step(STEP_S, drone);
    if (!bear.fleeing) calmedAtM = bear.droneDistanceM;
  }
  assert.ok(calmedAtM !== null, 'it never calmed down');
  assert.ok(calmedAtM >= CALM_AT_FLIGHT_DISTANCES * bear.flightDistanceM);
  run(bear, 5, drone);
  assert.ok(bear.speedMps < 1.6, `walks again at ${bear.speedMps} m/s`);
});

test('a drone on the ground, or one beyond the flight distance, does not scare it', () => {
  const parked = new SimBear({ start: { northM: 0, eastM: 0 }, farm: FARM, seed: 5 });
  run(parked, 10, { northM: 0, eastM: 3, altitudeRelM: 0, flying: false });
  assert.equal(parked.fleeing, false);

  const far = new SimBear({ start: { northM: 0, eastM: 0 }, farm: FARM, seed: 5 });
  run(far, 10, { northM: 0, eastM: -60, altitudeRelM: 30, flying: true });
  assert.equal(far.fleeing, false);
  assert.ok(far.eastM > 5, 'it walked on toward the farm');
});

test('the seed decides the walk and the flight distance, drawn from 20-45 m', () => {
  const walk = (seed: number): string => {
    const bear = new SimBear({ start: { northM: 0, eastM: 0 }, farm: FARM, seed });
    run(bear, 60, { northM: 30, eastM: 40, altitudeRelM: 20, flying: true });
    return `${bear.northM.toFixed(6)},${bear.eastM.toFixed(6)},${bear.flightDistanceM}`;
  };
  assert.equal(walk(42), walk(42));
  assert.notEqual(walk(42), walk(43));

  const distances = Array.from(
    { length: 300 },
    (_, seed) => new SimBear({ start: { northM: 0, eastM: 0 }, farm: FARM, seed }).flightDistanceM,
  );
  const { min, max } = FLIGHT_DISTANCE_RANGE_M;
  assert.ok(distances.every((d) => d >= min && d <= max));
  assert.ok(Math.min(...distances) < min + 3 && Math.max(...distances) > max - 3);
});

test('a start or farm that is not a number is refused by name', () => {
  assert.throws(
    () => new SimBear({ start: { northM: Number.NaN, eastM: 0 }, farm: FARM, seed: 1 }),
    /bear start north NaN is not a number/,
  );
  const farAway = { northM: 0, eastM: Infinity };
  assert.throws(
    () => new SimBear({ start: { northM: 0, eastM: 0 }, farm: farAway, seed: 1 }),
    /farm east Infinity is not a number/,
  );
});

test('the default demo bear stays where the demo camera looks, whatever the seed', () => {
  // The demo drone hovers 50 m up over home with the camera 45 deg down, looking north at the
  // yard's middle: an 8 x 6 deg view covers about 45-55 m north and 5 m either side there.
  for (let seed = 0; seed < 50; seed++) {
    const bear = new SimBear({ start: DEFAULT_BEAR_START, farm: DEFAULT_FARM, seed });
    const drone: DroneSighting = { northM: 0, eastM: 0, altitudeRelM: 50, flying: true };
    // Take-off and climbing to 50 m take about 15 s: by then it has ambled in.
    run(bear, 15, drone);
    let farthestNorthM = 0;
    let farthestEastM = 0;
    for (let t = 0; t < 600; t += STEP_S) {
      bear.step(STEP_S, drone);
      farthestNorthM = Math.max(farthestNorthM, Math.abs(bear.northM - DEFAULT_FARM.northM));
      farthestEastM = Math.max(farthestEastM, Math.abs(bear.eastM - DEFAULT_FARM.eastM));
    }
    const where = `seed ${seed}: ${farthestNorthM} m north-south, ${farthestEastM} m east-west`;
    assert.ok(farthestNorthM < 5 && farthestEastM < 5, where);
    assert.equal(bear.fleeing, false, `seed ${seed}: the hovering drone scared it`);
  }
});
