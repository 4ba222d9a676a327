import assert from 'node:assert/strict';
import { test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import { parseClientMessage } from '../../app/station/server';

const CONRAD = { latDeg: 48.17, lonDeg: -111.95 };
const SQUARE = [
  CONRAD,
  offsetNorthEast(CONRAD, 0, 40),
  offsetNorthEast(CONRAD, 40, 40),
  offsetNorthEast(CONRAD, 40, 0),
];

const parse = (command: unknown) =>
  parseClientMessage(JSON.stringify({ type: 'command', requestId: 'r1', command }));

test('zone and alert commands are checked before they reach the station', () => {
  const saved = parse({
    kind: 'save-zone',
    zone: { name: ' Silo ', alertDistanceM: 25, polygon: SQUARE, extra: 'dropped' },
  });
  assert.deepEqual(saved, {
    message: {
      type: 'command',
      requestId: 'r1',
      command: { kind: 'save-zone', zone: { name: 'Silo', alertDistanceM: 25, polygon: SQUARE } },
    },
  });
  assert.deepEqual(parse({ kind: 'delete-zone', zoneId: 3 }), {
    message: { type: 'command', requestId: 'r1', command: { kind: 'delete-zone', zoneId: 3 } },
  });
  assert.deepEqual(parse({ kind: 'ack-alert', alertId: 9 }), {
    message: { type: 'command', requestId: 'r1', command: { kind: 'ack-alert', alertId: 9 } },
  });

  const cases: Array<[unknown, RegExp]> = [
    [{ kind: 'save-zone' }, /save-zone: zone is not an object/],
    [{ kind: 'save-zone', zone: { name: 'Silo', alertDistanceM: 5 } }, /polygon is not a list/],
    [
      { kind: 'save-zone', zone: { name: 'Silo', alertDistanceM: 5, polygon: SQUARE.slice(2) } },
      /"Silo": polygon has 2 corners; a zone needs 3 to 100/,
    ],
    [{ kind: 'delete-zone' }, /delete-zone needs a finite number zoneId/],
    [{ kind: 'delete-zone', zoneId: 0 }, /delete-zone needs a whole number zoneId from 1/],
    [{ kind: 'ack-alert', alertId: 1.5 }, /ack-alert needs a whole number alertId from 1/],
  ];
  for (const [command, message] of cases) {
    const parsed = parse(command);
    assert.ok('error' in parsed, JSON.stringify(command));
    assert.match(parsed.error, message);
    assert.equal(parsed.requestId, 'r1', 'the error goes back to the asker');
  }
});
