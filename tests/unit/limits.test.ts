import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkTakeoffAltitude, TAKEOFF_ALTITUDE_RANGE_M } from '../../app/core/limits';

test('take-off altitudes inside 1-120 m pass, the rest say why not', () => {
  assert.equal(checkTakeoffAltitude(TAKEOFF_ALTITUDE_RANGE_M.min), null);
  assert.equal(checkTakeoffAltitude(20), null);
  assert.equal(checkTakeoffAltitude(TAKEOFF_ALTITUDE_RANGE_M.max), null);
  for (const bad of [0.01, 0, -5, 120.5, 499, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.match(checkTakeoffAltitude(bad) ?? '', /outside 1-120 m above home/, String(bad));
  }
});
