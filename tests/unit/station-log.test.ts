import assert from 'node:assert/strict';
import { test } from 'node:test';

import { escapeControlCharacters } from '../../app/station/log';

test('control characters from vehicles and files are escaped before they reach the log', () => {
  assert.equal(escapeControlCharacters('PreArm: GPS'), 'PreArm: GPS');
  assert.equal(escapeControlCharacters('a\nFAKE INFO line'), 'a\\nFAKE INFO line');
  assert.equal(escapeControlCharacters('\u001b[2Jcleared'), '\\x1b[2Jcleared');
  assert.equal(escapeControlCharacters('bell\u0007\u0000'), 'bell\\x07\\x00');
  assert.equal(escapeControlCharacters('ünïcødé ok'), 'ünïcødé ok');
});
