// The planner and envelope property test at unit-test size: URSA_PROPERTY_SCENARIOS random
// scenarios (default 3000; `npm run property` runs 100,000). See scripts/hazing-property.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkSetpoint, type EnvelopeWorld } from '../../app/core/envelope';
import { offsetNorthEast } from '../../app/core/geodesy';
import {
  RULES,
  judge,
  type Gate,
  makeRandom,
  makeScenario,
  runHazingProperty,
  scenarioSeed,
} from '../../scripts/hazing-property';

const SCENARIOS = Number(process.env.URSA_PROPERTY_SCENARIOS ?? 3000);

test(`no setpoint that breaks a rule gets through (${SCENARIOS} random scenarios)`, () => {
  assert.ok(Number.isInteger(SCENARIOS) && SCENARIOS > 0, 'URSA_PROPERTY_SCENARIOS');
  const report = runHazingProperty({ count: SCENARIOS, seed: 1 });
  const shown = report.failures
    .slice(0, 5)
    .map((f) => `seed ${f.seed} step ${f.step}: ${f.what}: ${f.detail}`);
  assert.deepEqual(shown, [], `${report.failures.length} failures`);
  assert.equal(report.scenarios, SCENARIOS);
  // The test must be able to fail: patterns get setpoints through in a good share of them,
  assert.ok(
    report.scenariosWithSetpoints >= SCENARIOS * 0.3,
    `only ${report.scenariosWithSetpoints} of ${SCENARIOS} scenarios flew a setpoint`,
  );
  assert.ok(report.setpointsAccepted >= report.setpointsChecked * 0.2);
  assert.ok(report.probesAccepted > 0);
  // and every rule both refuses something and is put to the test.
  if (SCENARIOS >= 1000) {
    for (const rule of RULES) assert.ok(report.refusedByRule[rule] > 0, `${rule} never refused`);
    assert.ok((report.outcomes.success ?? 0) > 0, 'no push ever succeeded');
  }
});

test('the checker is not vacuous: refused setpoints, passed off as accepted, are caught', () => {
  let refused = 0;
  let caught = 0;
  for (let i = 0; i < 300; i++) {
    const scenario = makeScenario(scenarioSeed(99, i));
    const random = makeRandom(i);
    const frame = scenario.frame;
    const world: EnvelopeWorld = {
      drone: { ...frame.latLon(scenario.drone), altitudeAglM: scenario.drone.altitudeAglM },
      home: scenario.home,
      bears: scenario.bears.map((bear) => frame.latLon(bear.position)),
      people: scenario.people.map((p) => frame.latLon(p)),
      fences: scenario.fences.map((fence) => fence.map((p) => frame.latLon(p))),
      noFlyZones: scenario.noFlyZones.map((zone) => zone.map((p) => frame.latLon(p))),
      battery: scenario.battery,
      linkUp: true,
    };
    for (let k = 0; k < 10; k++) {
      const anchor = [...world.bears, ...world.people][k % (world.bears.length + 1)];
      const setpoint = {
        ...offsetNorthEast(anchor ?? world.home, random() * 120 - 60, random() * 120 - 60),
        altitudeAglM: 5 + random() * 130,
      };
      const verdict = checkSetpoint(setpoint, world, scenario.limits);
      assert.equal(judge(setpoint, world, scenario.limits, verdict), null);
      if (!verdict) continue;
      refused += 1;
      if (judge(setpoint, world, scenario.limits, null) !== null) caught += 1;
    }
  }
  assert.ok(refused > 500, `${refused} refused`);
  // A few refusals sit within the checker's tolerance of the limit; nearly all are caught.
  assert.ok(caught >= refused * 0.97, `${caught} of ${refused} caught`);
});

test('a violation that names the wrong rule is caught', () => {
  const scenario = makeScenario(5);
  const world: EnvelopeWorld = {
    drone: { ...scenario.home, altitudeAglM: 30 },
    home: scenario.home,
    bears: [offsetNorthEast(scenario.home, 100, 0)],
    people: [],
    fences: [],
    noFlyZones: [],
    battery: null,
    linkUp: true,
  };
  const onBear = { ...offsetNorthEast(scenario.home, 100, 0), altitudeAglM: 30 };
  const verdict = checkSetpoint(onBear, world, scenario.limits);
  assert.equal(verdict?.rule, 'bear-standoff');
  assert.equal(judge(onBear, world, scenario.limits, verdict), null);
  assert.match(
    judge(onBear, world, scenario.limits, { rule: 'person', text: 'person 0 m' }) ?? '',
    /refused for person .* but the rule holds/,
  );
  assert.match(
    judge(onBear, world, scenario.limits, { rule: 'bear-standoff', text: 'too near' }) ?? '',
    /does not name its rule/,
  );
  const clear = { ...offsetNorthEast(scenario.home, -100, 0), altitudeAglM: 30 };
  assert.match(
    judge(clear, world, scenario.limits, { rule: 'bear-standoff', text: 'bear-standoff' }) ?? '',
    /but the rule holds/,
  );
});

test('the property test fails a gate that is a little too lenient', () => {
  const lenient = (name: string, gate: Gate): void => {
    const report = runHazingProperty({ count: 1000, seed: 3, gate, stopOnFailure: true });
    assert.ok(report.failures.length > 0, `${name}: no failure in ${report.scenarios} scenarios`);
  };
  lenient('standoff 2 m short', (setpoint, world, limits) =>
    checkSetpoint(setpoint, world, { ...limits, bearStandoffM: limits.bearStandoffM - 2 }),
  );
  lenient('person radius 2 m short', (setpoint, world, limits) =>
    checkSetpoint(setpoint, world, { ...limits, personRadiusM: limits.personRadiusM - 2 }),
  );
  // Checks the setpoint alone, not the straight path to it.
  lenient('no path', (setpoint, world, limits) =>
    checkSetpoint(setpoint, { ...world, drone: { ...setpoint } }, limits),
  );
  lenient('fences ignored', (setpoint, world, limits) =>
    checkSetpoint(setpoint, { ...world, fences: [] }, limits),
  );
  lenient('no-fly zones ignored', (setpoint, world, limits) =>
    checkSetpoint(setpoint, { ...world, noFlyZones: [] }, limits),
  );
  lenient('no battery', (setpoint, world, limits) =>
    checkSetpoint(setpoint, { ...world, battery: null }, limits),
  );
});
