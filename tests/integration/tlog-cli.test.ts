// `npm run log -- info FILE` as a real process: the JSON summary on stdout, warnings and errors
// on stderr, exit code 1 for a file it cannot read and 2 for a wrong command line.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { projectRoot, sharedDir } from '../../app/station/paths';
import type { TlogSummary } from '../../app/station/tlog/summary';

const VTOL = path.join(sharedDir(), 'fixtures', 'tlog', 'uavlogviewer_vtol.tlog');

function log(...args: string[]) {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(projectRoot, 'app', 'station', 'tlog', 'cli.ts'), ...args],
    { cwd: projectRoot, encoding: 'utf8', timeout: 60_000 },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('info prints the summary of a real log as JSON', { skip: !existsSync(VTOL) }, () => {
  const { code, stdout, stderr } = log('info', VTOL);
  assert.equal(code, 0, stderr);
  const summary = JSON.parse(stdout) as TlogSummary;
  assert.equal(summary.file, VTOL);
  assert.equal(summary.durationS, 207.608);
  assert.equal(summary.firstTime?.iso, '2018-08-08T14:06:01.905Z');
  assert.deepEqual(Object.keys(summary.flightModes), ['QLOITER', 'CIRCLE', 'GUIDED', 'QLAND']);
  assert.equal(summary.maxAltitudeRelM, 63.35);
  assert.deepEqual(
    summary.vehicles.map((v) => [v.systemId, v.type, v.autopilot]),
    [[1, 'FIXED_WING', 'ARDUPILOTMEGA']],
  );
  assert.equal(summary.packetsByMessage.HEARTBEAT, 199);
  assert.equal(summary.missionItems, 5);
  assert.equal(stderr, '');
});

test('a missing or unreadable file exits 1 with a clear message', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const missing = log('info', path.join(dir, 'nowhere.tlog'));
  assert.equal(missing.code, 1);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /cannot open tlog .*nowhere\.tlog: no such file \(ENOENT\)/);

  const folder = log('info', dir);
  assert.equal(folder.code, 1);
  assert.match(folder.stderr, /cannot read tlog .*: it is a folder \(EISDIR\)/);
});

test('a file with no MAVLink gives a zero summary and a warning', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-log-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'photo.jpg');
  writeFileSync(file, Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'));
  const { code, stdout, stderr } = log('info', file);
  assert.equal(code, 0);
  const summary = JSON.parse(stdout) as TlogSummary;
  assert.equal(summary.packets, 0);
  assert.equal(summary.bytesSkipped, 20);
  assert.match(stderr, /WARN .*photo\.jpg: no MAVLink packets found/);
});

test('a wrong command line exits 2 with the usage', () => {
  for (const args of [[], ['summarize', 'x.tlog'], ['info'], ['info', 'a', 'b']]) {
    const { code, stderr } = log(...args);
    assert.equal(code, 2, args.join(' '));
    assert.match(stderr, /^error: .*\n\nUsage: npm run log -- info FILE\.tlog/);
  }
});
