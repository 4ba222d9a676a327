// The operator's look-at command: a tracked target's id, checked where it arrives (the server),
// so a malformed id never reaches the station and the reason goes back to the asker.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseClientMessage } from '../../app/station/server';
import { commandLabel } from '../../app/ui/components/format';

const parse = (command: object) =>
  parseClientMessage(JSON.stringify({ type: 'command', requestId: 'r7', command }));

test('look-at carries the target id', () => {
  assert.deepEqual(parse({ kind: 'look-at', targetId: 3 }), {
    message: { type: 'command', requestId: 'r7', command: { kind: 'look-at', targetId: 3 } },
  });
  // Fields the command does not have are not passed on.
  const extra = parse({ kind: 'look-at', targetId: 12, pitchDeg: -45 });
  assert.ok('message' in extra);
  assert.deepEqual(extra.message.command, { kind: 'look-at', targetId: 12 });
  assert.equal(commandLabel('look-at'), 'Look at');
});

test('a missing, fractional or negative target id is refused, saying what was wrong', () => {
  const cases: Array<[object, RegExp]> = [
    [{ kind: 'look-at' }, /look-at needs a finite number targetId/],
    [{ kind: 'look-at', targetId: '3' }, /look-at needs a finite number targetId/],
    [{ kind: 'look-at', targetId: null }, /look-at needs a finite number targetId/],
    [{ kind: 'look-at', targetId: 2.5 }, /look-at needs a whole number targetId from 1, not 2\.5/],
    [{ kind: 'look-at', targetId: 0 }, /whole number targetId from 1, not 0/],
    [{ kind: 'look-at', targetId: -4 }, /whole number targetId from 1, not -4/],
  ];
  for (const [command, message] of cases) {
    const parsed = parse(command);
    assert.ok('error' in parsed, JSON.stringify(command));
    assert.match(parsed.error, message);
    assert.equal(parsed.requestId, 'r7', 'the refusal goes back to the asker');
  }
});
