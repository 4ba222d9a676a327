// tlog:FILE?speed=N link URIs: the file must exist, the speed is above 0 and at most 100.

import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { formatLinkUri, parseLinkUri } from '../../app/station/mavlink/uri';

// Any file that exists will do: the URI parser checks the path, not the content.
const FILE = path.resolve(__filename);

test('a tlog link names an absolute file and a speed, 1 by default', () => {
  assert.deepEqual(parseLinkUri(`tlog:${FILE}?speed=4`), { kind: 'tlog', path: FILE, speed: 4 });
  assert.deepEqual(parseLinkUri(`TLOG:${FILE}`), { kind: 'tlog', path: FILE, speed: 1 });
  assert.deepEqual(parseLinkUri(`tlog://${FILE}?speed=0.5`), {
    kind: 'tlog',
    path: FILE,
    speed: 0.5,
  });
  const relative = path.relative(process.cwd(), FILE);
  assert.equal(parseLinkUri(`tlog:${relative}?speed=100`).kind, 'tlog');
  assert.equal(formatLinkUri(parseLinkUri(`tlog:${FILE}?speed=20`)), `tlog:${FILE}?speed=20`);
});

test('tlog links with a bad speed, no file or a folder are refused by name', () => {
  const cases: [string, RegExp][] = [
    [`tlog:${FILE}?speed=0`, /speed "0" must be a number above 0 and at most 100/],
    [`tlog:${FILE}?speed=-2`, /speed "-2" must be/],
    [`tlog:${FILE}?speed=101`, /speed "101" must be/],
    [`tlog:${FILE}?speed=fast`, /speed "fast" must be/],
    [`tlog:${FILE}?speed=`, /speed "" must be/],
    [`tlog:${FILE}?loop=1`, /unknown option "loop"/],
    ['tlog:/nowhere/flight.tlog', /no file at \/nowhere\/flight\.tlog/],
    ['tlog:?speed=2', /no file/],
    [`tlog:${path.dirname(FILE)}`, /is not a file/],
  ];
  for (const [uri, message] of cases) {
    assert.throws(() => parseLinkUri(uri), message, uri);
    assert.throws(() => parseLinkUri(uri), /^Error: link URI "/, uri);
  }
});
