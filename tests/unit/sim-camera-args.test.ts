// The simulator's camera, bear and farm options: defaults that agree with the station's camera,
// places given as LAT,LON turned into metres from home, and bad values refused by name.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { offsetNorthEast } from '../../app/core/geodesy';
import {
  DEFAULT_BEAR_START,
  DEFAULT_FARM,
  DEFAULT_SIM_HOME,
  parseSimArgs,
} from '../../app/station/sim/args';

const OUT = ['--out', '127.0.0.1:14550'];

test('without --video-port there is no camera; the bear and farm have their defaults', () => {
  const args = parseSimArgs([...OUT, '--bear-seed', '12']);
  assert.equal(args.video, null);
  assert.deepEqual(args.farm, DEFAULT_FARM);
  assert.deepEqual(args.bearStart, DEFAULT_BEAR_START);
  assert.equal(args.bearSeed, 12);
});

test('the camera defaults to the station camera under --video sim: 8 x 6 deg, 640x480', () => {
  const args = parseSimArgs([...OUT, '--video-port', '5600']);
  assert.deepEqual(args.video, {
    port: 5600,
    widthPx: 640,
    heightPx: 480,
    fps: 10,
    camera: { horizontalFovDeg: 8, verticalFovDeg: 6 },
  });
  const zoom = parseSimArgs([
    ...OUT,
    '--video-port',
    '5601',
    '--video-size',
    '320x240',
    '--video-fps',
    '5',
    '--hfov',
    '10',
    '--vfov',
    '7.5',
  ]);
  assert.deepEqual(zoom.video, {
    port: 5601,
    widthPx: 320,
    heightPx: 240,
    fps: 5,
    camera: { horizontalFovDeg: 10, verticalFovDeg: 7.5 },
  });
});

test('--farm and --bear are places, turned into metres from home', () => {
  const farm = offsetNorthEast(DEFAULT_SIM_HOME, 120, -250);
  const bear = offsetNorthEast(DEFAULT_SIM_HOME, -30, 40);
  const args = parseSimArgs([
    ...OUT,
    '--farm',
    `${farm.latDeg},${farm.lonDeg}`,
    '--bear',
    `${bear.latDeg}, ${bear.lonDeg}`,
  ]);
  assert.ok(Math.abs(args.farm.northM - 120) < 0.01 && Math.abs(args.farm.eastM + 250) < 0.01);
  assert.ok(Math.abs(args.bearStart.northM + 30) < 0.01);
  assert.ok(Math.abs(args.bearStart.eastM - 40) < 0.01);
});

test('bad camera and world options are refused by name', () => {
  const far = offsetNorthEast(DEFAULT_SIM_HOME, 6000, 0);
  const cases: Array<[string[], RegExp]> = [
    [['--hfov', '10'], /--hfov needs --video-port/],
    [['--video-port', '0'], /--video-port 0 is not a whole number from 1 to 65535/],
    [['--video-port', '5600.5'], /--video-port 5600.5 is not a whole number/],
    [['--video-port', '5600', '--video-size', '641x480'], /--video-size 641x480 must have even/],
    [['--video-port', '5600', '--video-size', 'big'], /--video-size "big" is not WxH/],
    [['--video-port', '5600', '--video-fps', '60'], /--video-fps 60 is not above 0/],
    [['--video-port', '5600', '--vfov', '180'], /--vfov 180 deg is outside 1-170/],
    [['--farm', '48.2'], /--farm "48.2" is not LAT,LON/],
    [['--bear', '95,0'], /--bear 95,0 is off the globe/],
    [['--farm', `${far.latDeg},${far.lonDeg}`], /--farm is more than 5 km from home/],
    [['--bear-seed', 'soon'], /--bear-seed "soon" is not a number/],
  ];
  for (const [extra, message] of cases) {
    assert.throws(() => parseSimArgs([...OUT, ...extra]), message, extra.join(' '));
  }
});
