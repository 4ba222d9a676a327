// The operator's point-camera command: checked where it arrives (the server), so a pitch above
// the horizon or below straight down never reaches the link, and the reason goes back.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { checkPointCamera } from '../../app/core/protocol';
import { parseClientMessage } from '../../app/station/server';
import { commandLabel } from '../../app/ui/components/format';

const parse = (command: object) =>
  parseClientMessage(JSON.stringify({ type: 'command', requestId: 'r1', command }));

test('point-camera carries pitch and yaw; yaw is 0 (the nose) when absent', () => {
  assert.deepEqual(parse({ kind: 'point-camera', pitchDeg: -60, yawDeg: 15 }), {
    message: {
      type: 'command',
      requestId: 'r1',
      command: { kind: 'point-camera', pitchDeg: -60, yawDeg: 15 },
    },
  });
  const straightDown = parse({ kind: 'point-camera', pitchDeg: -90 });
  assert.ok('message' in straightDown);
  assert.deepEqual(straightDown.message.command, {
    kind: 'point-camera',
    pitchDeg: -90,
    yawDeg: 0,
  });
  assert.equal(commandLabel('point-camera'), 'Point camera');
});

test('a pitch outside -90..0 or a bad yaw is refused, saying what was wrong', () => {
  const cases: Array<[object, RegExp]> = [
    [{ kind: 'point-camera', pitchDeg: 10 }, /camera pitch 10 deg is outside -90\.\.0 deg/],
    [{ kind: 'point-camera', pitchDeg: -91 }, /camera pitch -91 deg is outside/],
    [{ kind: 'point-camera' }, /point-camera needs a finite number pitchDeg/],
    [{ kind: 'point-camera', pitchDeg: '-45' }, /needs a finite number pitchDeg/],
    [{ kind: 'point-camera', pitchDeg: -45, yawDeg: 200 }, /camera yaw 200 deg is outside/],
    [{ kind: 'point-camera', pitchDeg: -45, yawDeg: null }, /needs a finite number yawDeg/],
  ];
  for (const [command, message] of cases) {
    const parsed = parse(command);
    assert.ok('error' in parsed, JSON.stringify(command));
    assert.match(parsed.error, message);
    assert.equal(parsed.requestId, 'r1', 'the refusal goes back to the asker');
  }
  assert.equal(checkPointCamera(0, -180), null);
  assert.match(checkPointCamera(Number.NaN, 0) ?? '', /camera pitch NaN deg/);
});
