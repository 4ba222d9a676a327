// The camera panel's arithmetic: nudges stay between straight down and the horizon, and a
// change of pitch keeps the gimbal's yaw from the nose, whichever frame the gimbal reports in.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkPointCamera } from '../../app/core/protocol';
import {
  formatPitch,
  nudgedPitchDeg,
  PITCH_PRESETS_DEG,
  yawFromNoseDeg,
} from '../../app/ui/components/CameraControls';

test('nudges move 5 deg in whole degrees and stop at -90 and 0', () => {
  assert.equal(nudgedPitchDeg(-45, 5), -40);
  assert.equal(nudgedPitchDeg(-45, -5), -50);
  assert.equal(nudgedPitchDeg(-47.4, 5), -42);
  assert.equal(nudgedPitchDeg(-88, -5), -90);
  assert.equal(nudgedPitchDeg(-2, 5), 0);
  // A gimbal that reports above the horizon is brought back within what may be asked.
  assert.equal(nudgedPitchDeg(20, 5), 0);
  for (const pitchDeg of [...PITCH_PRESETS_DEG, nudgedPitchDeg(-90, -5), nudgedPitchDeg(0, 5)]) {
    assert.equal(checkPointCamera(pitchDeg, 0), null, `${pitchDeg} deg may be sent`);
  }
});

test('the yaw sent with a new pitch is the gimbal yaw from the nose', () => {
  const gimbal = { pitchDeg: -45, rollDeg: 0 };
  assert.equal(yawFromNoseDeg(null, 90), 0);
  assert.equal(yawFromNoseDeg({ ...gimbal, yawDeg: 30.4, yawFrame: 'vehicle' }, 200), 30);
  assert.equal(yawFromNoseDeg({ ...gimbal, yawDeg: 190, yawFrame: 'vehicle' }, null), -170);
  // Earth frame: a camera looking north-east on a drone heading east looks 45 deg left.
  assert.equal(yawFromNoseDeg({ ...gimbal, yawDeg: 45, yawFrame: 'earth' }, 90), -45);
  assert.equal(yawFromNoseDeg({ ...gimbal, yawDeg: 10, yawFrame: 'earth' }, 350), 20);
  assert.equal(yawFromNoseDeg({ ...gimbal, yawDeg: 10, yawFrame: 'earth' }, null), 0);
  for (const headingDeg of [0, 90, 179, 181, 359]) {
    const yawDeg = yawFromNoseDeg({ ...gimbal, yawDeg: 0, yawFrame: 'earth' }, headingDeg);
    assert.equal(checkPointCamera(-45, yawDeg), null, `yaw ${yawDeg} deg may be sent`);
  }
});

test('pitch reads with a true minus sign, rounded', () => {
  assert.equal(formatPitch(-44.6), '\u221245°');
  assert.equal(formatPitch(-90), '\u221290°');
  assert.equal(formatPitch(0), '0°');
  assert.equal(formatPitch(-0.2), '0°');
});
