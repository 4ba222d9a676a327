import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ARDUCOPTER_MODES,
  arduCopterModeName,
  arduCopterModeNumber,
  gpsFixName,
  isArduCopterMode,
} from '../../app/core/ardupilot-modes';

test('mode numbers match ArduCopter for the modes the station uses', () => {
  assert.equal(arduCopterModeNumber('STABILIZE'), 0);
  assert.equal(arduCopterModeNumber('GUIDED'), 4);
  assert.equal(arduCopterModeNumber('LOITER'), 5);
  assert.equal(arduCopterModeNumber('RTL'), 6);
  assert.equal(arduCopterModeNumber('LAND'), 9);
  assert.equal(arduCopterModeNumber('BRAKE'), 17);
  assert.equal(arduCopterModeNumber('SMART_RTL'), 21);
  assert.equal(arduCopterModeNumber('TURTLE'), 28);
});

test('every name maps to its number and back', () => {
  assert.equal(Object.keys(ARDUCOPTER_MODES).length, 26);
  for (const [name, modeNumber] of Object.entries(ARDUCOPTER_MODES)) {
    assert.equal(arduCopterModeName(modeNumber), name);
    assert.equal(arduCopterModeNumber(name), modeNumber);
    assert.ok(isArduCopterMode(modeNumber));
  }
});

test('names are looked up in any letter case, around spaces', () => {
  assert.equal(arduCopterModeNumber('guided'), 4);
  assert.equal(arduCopterModeNumber('Alt_Hold'), 2);
  assert.equal(arduCopterModeNumber('  loiter '), 5);
});

test('unknown names give null; inherited object keys are not modes', () => {
  assert.equal(arduCopterModeNumber('HOVER'), null);
  assert.equal(arduCopterModeNumber(''), null);
  assert.equal(arduCopterModeNumber('toString'), null);
  assert.equal(arduCopterModeNumber('__proto__'), null);
});

test('numbers ArduCopter does not define are named MODE(n)', () => {
  assert.equal(arduCopterModeName(8), 'MODE(8)');
  assert.equal(arduCopterModeName(10), 'MODE(10)');
  assert.equal(arduCopterModeName(12), 'MODE(12)');
  assert.equal(arduCopterModeName(29), 'MODE(29)');
  assert.equal(isArduCopterMode(8), false);
});

test('GPS fix types have readable names', () => {
  assert.equal(gpsFixName(0), 'No GPS');
  assert.equal(gpsFixName(1), 'No fix');
  assert.equal(gpsFixName(2), '2D');
  assert.equal(gpsFixName(3), '3D');
  assert.equal(gpsFixName(4), 'DGPS');
  assert.equal(gpsFixName(5), 'RTK float');
  assert.equal(gpsFixName(6), 'RTK fixed');
  assert.equal(gpsFixName(42), 'FIX(42)');
});
