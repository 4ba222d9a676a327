// The headless station with `--sim --video sim`: the simulator streams its camera to the UDP
// port the station names, the station decodes it as a live source with the delay measured from
// the frames' wall-clock PTS, and the bear's true position comes out in the event stream as
// simulator truth. Also the options' refusals. Needs dist/ (node scripts/build.mjs), ffmpeg, and
// ../shared's model and bear picture.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { sharedDir } from '../../app/station/paths';
import { BEAR_PICTURE } from '../../app/station/sim/world';
import { freeUdpPort } from '../helpers/net';
import {
  runStation,
  stationEnv,
  stationMissing,
  StationProcess,
  YOLOX_MODEL,
  type StationEvent,
} from '../helpers/station';

const HOME = { latDeg: 48.17, lonDeg: -111.95 };
const skip = stationMissing([YOLOX_MODEL, path.join(sharedDir(), BEAR_PICTURE)]);
let workDir: string;

before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-sim-camera-'));
});

after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

type Event = StationEvent;

const TITLE = '--video sim: the station watches the simulator camera, the bear is reported';

test(TITLE, { skip }, async (t) => {
  const port = await freeUdpPort();
  const bearStart = offsetNorthEast(HOME, 45, -15);
  // A farm far to the east: the bear walks the whole time instead of foraging in a yard.
  const farm = offsetNorthEast(HOME, 80, 300);
  const station = StationProcess.start(
    [
      '--sim',
      '--video',
      'sim',
      '--sim-video-port',
      String(port),
      '--sim-bear',
      `${bearStart.latDeg},${bearStart.lonDeg}`,
      '--sim-farm',
      `${farm.latDeg},${farm.lonDeg}`,
      '--sim-seed',
      '9',
      '--events',
      '-',
      '--record',
      'off',
      '--signing-keys',
      'off',
      '--duration',
      '25',
    ],
    stationEnv(workDir),
  );
  t.after(() => station.stop());
  const events = station.events;
  const code = await station.exited;
  assert.equal(code, 0, station.log);

  const truths = events.filter((e) => e.type === 'sim-truth');
  assert.ok(truths.length >= 15, `${truths.length} truth lines`);
  const first = truths[0];
  assert.equal(first.what, 'bear');
  const firstAt = { latDeg: first.lat as number, lonDeg: first.lon as number };
  const startOffM = distanceM(bearStart, firstAt);
  assert.ok(startOffM < 5, `the bear began ${startOffM} m from where it was put`);
  for (const truth of truths) {
    const flight = truth.flightDistanceM as number;
    assert.ok(flight >= 20 && flight <= 45, `flight distance ${flight} m`);
    assert.equal(typeof truth.fleeing, 'boolean');
  }
  // It walks: a metre a second or so, toward the farm to the east.
  const last = truths.at(-1) as Event;
  const walkedM = distanceM(firstAt, { latDeg: last.lat as number, lonDeg: last.lon as number });
  const seconds = ((last.t as number) - (first.t as number)) / 1000;
  assert.ok(walkedM > 0.4 * seconds && walkedM < 1.6 * seconds, `${walkedM} m in ${seconds} s`);

  const video = events.filter((e) => e.type === 'video');
  assert.ok(
    video.some((v) => String(v.label).includes(`udp://127.0.0.1:${port}`)),
    'its port',
  );
  const running = video.filter((v) => v.state === 'running' && v.width === 640);
  assert.ok(running.length >= 5, 'the stream ran');
  assert.equal(running.at(-1)?.height, 480);
  const measured = running.filter((v) => typeof v.delayMs === 'number');
  assert.ok(measured.length > 0, 'the delay was measured from the wall-clock PTS');
  for (const v of measured) assert.ok((v.delayMs as number) < 3000, `delay ${v.delayMs} ms`);
  assert.ok(
    running.some((v) => (v.framesPerSecond as number) > 7),
    'about 10 frames a second',
  );
});

test('the simulator camera options are refused without --sim or with bad values', () => {
  const run = (args: string[]) => runStation([...args, '--record', 'off'], stationEnv(workDir));
  const cases: Array<[string[], RegExp]> = [
    [['--link', 'udpin:127.0.0.1:14550', '--video', 'sim'], /--video sim needs --sim/],
    [['--sim', '--video', 'sim', '--sim-video-port', '70000'], /--sim-video-port must be/],
    [['--sim', '--sim-video-port', '5600'], /--sim-video-port is for --video sim/],
    [['--sim', '--sim-farm', '48.2'], /--sim-farm must be LAT,LON/],
    [['--sim', '--sim-bear', '91,0'], /--sim-bear must be LAT,LON/],
    [['--sim', '--sim-seed', 'x'], /--sim-seed must be a number/],
  ];
  for (const [args, message] of cases) {
    const result = run(args);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
