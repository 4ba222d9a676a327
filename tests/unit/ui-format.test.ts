// The UI's number formatting: numbers that never read "-0", bearings that read 0..359°.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatDeg, formatM, toFixedSigned } from '../../app/ui/components/format';

describe('numbers on screen', () => {
  test('a value that rounds to zero reads 0, never -0', () => {
    // The pattern card: "Bear pushed -0 m of 200 m" at the start of a push.
    assert.equal(`${formatM(-0.3)} of ${formatM(200)}`, '0 m of 200 m');
    assert.equal(toFixedSigned(-0.3, 0), '0');
    assert.equal(toFixedSigned(-0.04, 1), '0.0');
    assert.equal(toFixedSigned(-0, 2), '0.00');
    assert.equal(toFixedSigned(-0.6, 0), '-1');
    assert.equal(toFixedSigned(2.5, 1), '2.5');
    assert.equal(formatM(-0.49), '0 m');
    assert.equal(formatM(-12.4), '-12 m');
    assert.equal(formatM(-0.001 - 1000), '-1.00 km');
    assert.equal(formatM(1520), '1.52 km');
  });

  test('bearings read 0..359°, never negative', () => {
    assert.equal(formatDeg(-0.3), '0°');
    assert.equal(formatDeg(-10), '350°');
    assert.equal(formatDeg(359.6), '0°');
    assert.equal(formatDeg(725), '5°');
    assert.equal(formatDeg(90), '90°');
  });
});
