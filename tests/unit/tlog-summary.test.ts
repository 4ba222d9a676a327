// `log info` on the real logs in ../shared/fixtures/tlog, and the summary's rules on hand-made
// logs. The expected values were computed with an independent Python reader (its own CRC, its
// own resync) and checked against the fixtures' README: the codelever flights reach about 100
// and 150 m, olivieri_20211202-132613 flies AUTO then RTL, olivieri_20211208-151717 holds a
// long gap, olivieri_2021-12-08-14-59-44 stays on the ground (never armed; relative_alt drifts
// to 6.7 m once) with a 37-item mission, the VTOL run flies QLOITER/CIRCLE/GUIDED/QLAND.
// Where a file holds sessions written over each other (time jumps back), the duration runs
// from the earliest to the latest record.

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import {
  MavLinkProtocolV1,
  MavLinkProtocolV2,
  common,
  minimal,
  type MavLinkData,
} from 'node-mavlink';

import {
  ARDUPLANE_MODES,
  ARDUROVER_MODES,
  ARDUSUB_MODES,
  arduPilotFirmware,
  flightModeName,
} from '../../app/core/autopilot-modes';
import { sharedDir } from '../../app/station/paths';
import { TlogParser } from '../../app/station/tlog/reader';
import { TlogSummarizer, summarizeTlogFile } from '../../app/station/tlog/summary';
import { encodeTlogRecord } from '../../app/station/tlog/writer';

const FIXTURES = path.join(sharedDir(), 'fixtures', 'tlog');

interface Expected {
  packets: number;
  durationS: number;
  /** Heartbeats per flight mode. */
  modes: Record<string, number>;
  maxAltitudeRelM: number;
  vehicle: [systemId: number, type: string];
  crcErrors: number;
  bytesSkipped: number;
  zeroBytesSkipped: number;
  missionItems: number;
  timeJumpsBack: number;
  v1: boolean;
}

const EXPECTED: Record<string, Expected> = {
  'codelever_2013-10-13_16-58-51.tlog': {
    packets: 16187,
    durationS: 570.796875,
    modes: { STABILIZE: 299, LOITER: 96, AUTO: 115 },
    maxAltitudeRelM: 100.76,
    vehicle: [1, 'QUADROTOR'],
    crcErrors: 0,
    bytesSkipped: 0,
    zeroBytesSkipped: 0,
    missionItems: 1,
    timeJumpsBack: 0,
    v1: true,
  },
  'codelever_2013-10-13_18-31-24.tlog': {
    packets: 13382,
    durationS: 1113.78125,
    modes: { STABILIZE: 251, LOITER: 163 },
    maxAltitudeRelM: 150.95,
    vehicle: [1, 'QUADROTOR'],
    crcErrors: 0,
    bytesSkipped: 0,
    zeroBytesSkipped: 0,
    missionItems: 1,
    timeJumpsBack: 0,
    v1: true,
  },
  'olivieri_20211202-132613.tlog': {
    packets: 27520,
    durationS: 523.873506,
    modes: { STABILIZE: 650, ALT_HOLD: 13, LOITER: 262, AUTO: 179, RTL: 60 },
    maxAltitudeRelM: 25.449,
    vehicle: [10, 'QUADROTOR'],
    crcErrors: 0,
    bytesSkipped: 4731,
    zeroBytesSkipped: 4731,
    missionItems: 0,
    timeJumpsBack: 2,
    v1: false,
  },
  'olivieri_20211208-151717.tlog': {
    packets: 19385,
    durationS: 3521.395831,
    modes: { AUTO: 607, ALT_HOLD: 33, STABILIZE: 155 },
    maxAltitudeRelM: 25.365,
    vehicle: [10, 'QUADROTOR'],
    crcErrors: 1,
    bytesSkipped: 450,
    zeroBytesSkipped: 431,
    missionItems: 0,
    timeJumpsBack: 2,
    v1: false,
  },
  'olivieri_2021-12-08-14-59-44.tlog': {
    packets: 18951,
    durationS: 326.101724,
    modes: { STABILIZE: 327 },
    maxAltitudeRelM: 6.693,
    vehicle: [10, 'QUADROTOR'],
    crcErrors: 0,
    bytesSkipped: 0,
    zeroBytesSkipped: 0,
    missionItems: 37,
    timeJumpsBack: 0,
    v1: true,
  },
  'olivieri_20211202-133659.tlog': {
    packets: 722,
    durationS: 31.145992,
    modes: { STABILIZE: 31 },
    maxAltitudeRelM: 0.166,
    vehicle: [10, 'QUADROTOR'],
    crcErrors: 0,
    bytesSkipped: 3434,
    zeroBytesSkipped: 3434,
    missionItems: 0,
    timeJumpsBack: 0,
    v1: false,
  },
  'uavlogviewer_vtol.tlog': {
    packets: 23894,
    durationS: 207.608,
    modes: { QLOITER: 36, CIRCLE: 46, GUIDED: 34, QLAND: 83 },
    maxAltitudeRelM: 63.35,
    vehicle: [1, 'FIXED_WING'],
    crcErrors: 0,
    bytesSkipped: 0,
    zeroBytesSkipped: 0,
    missionItems: 5,
    timeJumpsBack: 0,
    v1: true,
  },
  'ardusub_small.tlog': {
    packets: 35912,
    durationS: 263.43,
    modes: { MANUAL: 263 },
    maxAltitudeRelM: 0.323,
    vehicle: [1, 'SUBMARINE'],
    crcErrors: 4,
    bytesSkipped: 315,
    zeroBytesSkipped: 95,
    missionItems: 0,
    timeJumpsBack: 0,
    v1: false,
  },
};

for (const [name, expected] of Object.entries(EXPECTED)) {
  const file = path.join(FIXTURES, name);
  test(`log info: ${name}`, { skip: !existsSync(file) && `${file} is missing` }, () => {
    const summary = summarizeTlogFile(file);
    assert.equal(summary.packets, expected.packets);
    assert.equal(summary.durationS, expected.durationS);
    assert.equal(
      summary.lastTime!.us - summary.firstTime!.us,
      Math.round(expected.durationS * 1e6),
    );
    const modes = Object.fromEntries(
      Object.entries(summary.flightModes).map(([mode, count]) => [mode, count.heartbeats]),
    );
    assert.deepEqual(modes, expected.modes);
    assert.equal(summary.maxAltitudeRelM, expected.maxAltitudeRelM);
    assert.deepEqual(
      summary.vehicles.map((v) => [v.systemId, v.type, v.autopilot]),
      [[...expected.vehicle, 'ARDUPILOTMEGA']],
      'one vehicle: ground station heartbeats are not vehicles',
    );
    assert.equal(summary.crcErrors, expected.crcErrors);
    assert.equal(summary.bytesSkipped, expected.bytesSkipped);
    assert.equal(summary.zeroBytesSkipped, expected.zeroBytesSkipped);
    assert.equal(summary.truncatedTailBytes, 0);
    assert.equal(summary.missionItems, expected.missionItems);
    assert.equal(summary.timeJumpsBack, expected.timeJumpsBack);
    assert.equal(summary.packetsByVersion.v1 > 0, expected.v1);
    const counted = Object.values(summary.packetsByMessage).reduce((sum, n) => sum + n, 0);
    assert.equal(counted, summary.packets);
    const box = summary.positionBounds!;
    assert.ok(box.minLatDeg <= box.maxLatDeg && box.minLonDeg <= box.maxLonDeg);
    // A flight stays within a few kilometres.
    assert.ok(box.maxLatDeg - box.minLatDeg < 0.05 && box.maxLonDeg - box.minLonDeg < 0.05);
  });
}

test('the fixtures say what their README says', { skip: !existsSync(FIXTURES) }, () => {
  const sub = summarizeTlogFile(path.join(FIXTURES, 'ardusub_small.tlog'));
  assert.ok(sub.packetsByMessage.MOUNT_STATUS > 0, 'ArduSub log carries MOUNT_STATUS');
  const mission = summarizeTlogFile(path.join(FIXTURES, 'olivieri_2021-12-08-14-59-44.tlog'));
  assert.deepEqual(mission.missions, [{ systemId: 10, missionType: 'MISSION', items: 37 }]);
  const gap = summarizeTlogFile(path.join(FIXTURES, 'olivieri_20211208-151717.tlog'));
  assert.ok(gap.longestGapS > 3000, `a long gap inside the log (${gap.longestGapS} s)`);
  const auto = summarizeTlogFile(path.join(FIXTURES, 'olivieri_20211202-132613.tlog'));
  assert.equal(auto.firstTime?.iso, '2021-12-02T16:26:14.810Z');
  assert.equal(auto.lastTime?.iso, '2021-12-02T16:34:58.684Z');
  assert.match(auto.warnings.join(' '), /time goes back 2 time/);
});

const T0_US = Date.UTC(2026, 0, 1) * 1000;

function beat(systemId: number, componentId: number, fields: Partial<minimal.Heartbeat>) {
  const message = Object.assign(new minimal.Heartbeat(), {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: 0,
    customMode: 0,
    systemStatus: minimal.MavState.ACTIVE,
    mavlinkVersion: 3,
    ...fields,
  });
  return new MavLinkProtocolV2(systemId, componentId).serialize(message, 0);
}

function positionFrame(systemId: number, latDeg: number, lonDeg: number, relM: number) {
  const message = Object.assign(new common.GlobalPositionInt(), {
    timeBootMs: 0,
    lat: Math.round(latDeg * 1e7),
    lon: Math.round(lonDeg * 1e7),
    alt: 0,
    relativeAlt: Math.round(relM * 1000),
    vx: 0,
    vy: 0,
    vz: 0,
    hdg: 0,
  });
  return new MavLinkProtocolV1(systemId, 1).serialize(message, 0);
}

function itemFrame(systemId: number, seq: number, targetSystem: number, missionType = 0) {
  const message: MavLinkData = Object.assign(new common.MissionItemInt(), {
    targetSystem,
    targetComponent: 1,
    seq,
    frame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
    command: common.MavCmd.NAV_WAYPOINT,
    current: 0,
    autocontinue: 1,
    param1: 0,
    param2: 0,
    param3: 0,
    param4: 0,
    x: 481700000,
    y: -1119500000,
    z: 20,
    missionType,
  });
  return new MavLinkProtocolV2(systemId, systemId === 255 ? 190 : 1).serialize(message, 0);
}

function summarize(frames: Uint8Array[]) {
  const parser = new TlogParser();
  frames.forEach((frame, i) => parser.push(encodeTlogRecord(T0_US + i * 100_000, frame)));
  parser.end();
  const summarizer = new TlogSummarizer();
  for (let r = parser.next(); r; r = parser.next()) summarizer.add(r);
  return summarizer.summary('test.tlog', parser.stats);
}

test('only autopilot heartbeats are vehicles; modes count heartbeats and entries', () => {
  const guided = 4;
  const loiter = 5;
  const summary = summarize([
    beat(255, 190, { type: minimal.MavType.GCS, autopilot: minimal.MavAutopilot.INVALID }),
    beat(1, 154, { type: minimal.MavType.GIMBAL, autopilot: minimal.MavAutopilot.INVALID }),
    beat(1, 1, { customMode: guided }),
    beat(1, 1, { customMode: guided }),
    beat(1, 1, { customMode: loiter }),
    beat(1, 1, { customMode: guided }),
    // A companion on the same system claiming to be the autopilot is not counted.
    beat(1, 191, { customMode: 99 }),
    beat(2, 1, { type: minimal.MavType.SUBMARINE, customMode: ARDUSUB_MODES.SURFACE }),
  ]);
  assert.deepEqual(
    summary.vehicles.map((v) => [v.systemId, v.componentId, v.type, v.heartbeats]),
    [
      [1, 1, 'QUADROTOR', 4],
      [2, 1, 'SUBMARINE', 1],
    ],
  );
  assert.deepEqual(summary.flightModes, {
    GUIDED: { heartbeats: 3, entries: 2 },
    LOITER: { heartbeats: 1, entries: 1 },
    SURFACE: { heartbeats: 1, entries: 1 },
  });
  assert.deepEqual(summary.vehicles[0].flightModes.GUIDED, { heartbeats: 3, entries: 2 });
  assert.equal(summary.durationS, 0.7);
});

test('positions: only the vehicle counts, 0,0 is no position, altitude is above home', () => {
  const summary = summarize([
    beat(1, 1, {}),
    positionFrame(1, 0, 0, 500),
    positionFrame(1, 48.17, -111.95, 12.5),
    positionFrame(1, 48.171, -111.951, 31.25),
    positionFrame(1, 48.1705, -111.949, -2),
    // A ground station's own position (follow-me) is not the vehicle's.
    positionFrame(255, 10, 10, 900),
  ]);
  assert.deepEqual(summary.positionBounds, {
    minLatDeg: 48.17,
    minLonDeg: -111.951,
    maxLatDeg: 48.171,
    maxLonDeg: -111.949,
  });
  assert.equal(summary.maxAltitudeRelM, 31.25);
  assert.equal(summary.packetsByVersion.v1, 5);
});

test('mission items count distinct seq per vehicle and mission type, either direction', () => {
  const summary = summarize([
    beat(255, 190, { type: minimal.MavType.GCS, autopilot: minimal.MavAutopilot.INVALID }),
    beat(1, 1, {}),
    // Uploaded by the ground station, then read back from the vehicle: 3 items, not 6.
    itemFrame(255, 0, 1),
    itemFrame(255, 1, 1),
    itemFrame(255, 2, 1),
    itemFrame(1, 0, 255),
    itemFrame(1, 1, 255),
    itemFrame(1, 2, 255),
    itemFrame(1, 1, 255),
    // Two fence points.
    itemFrame(1, 0, 255, common.MavMissionType.FENCE),
    itemFrame(1, 1, 255, common.MavMissionType.FENCE),
  ]);
  assert.equal(summary.missionItems, 5);
  assert.deepEqual(summary.missions, [
    { systemId: 1, missionType: 'MISSION', items: 3 },
    { systemId: 1, missionType: 'FENCE', items: 2 },
  ]);
});

test('a file without MAVLink gives an empty summary and a warning', (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-tlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'notes.txt');
  writeFileSync(file, 'Flight notes: windy, bear seen near the silo at 19:40.\n'.repeat(100));
  const summary = summarizeTlogFile(file);
  assert.equal(summary.packets, 0);
  assert.equal(summary.firstTime, null);
  assert.equal(summary.durationS, 0);
  assert.equal(summary.bytesSkipped, summary.bytes);
  assert.deepEqual(summary.warnings, ['no MAVLink packets found: this does not look like a tlog']);
  assert.throws(() => summarizeTlogFile(path.join(dir, 'missing.tlog')), /no such file \(ENOENT\)/);
});

test('ArduPilot mode names follow the vehicle type', () => {
  const ardupilot = minimal.MavAutopilot.ARDUPILOTMEGA;
  assert.equal(flightModeName(ardupilot, minimal.MavType.QUADROTOR, 6), 'RTL');
  assert.equal(flightModeName(ardupilot, minimal.MavType.FIXED_WING, 6), 'FLY_BY_WIRE_B');
  assert.equal(flightModeName(ardupilot, minimal.MavType.VTOL_TILTROTOR, 19), 'QLOITER');
  assert.equal(flightModeName(ardupilot, minimal.MavType.SUBMARINE, 19), 'MANUAL');
  assert.equal(flightModeName(ardupilot, minimal.MavType.GROUND_ROVER, 4), 'HOLD');
  assert.equal(flightModeName(ardupilot, minimal.MavType.QUADROTOR, 77), 'MODE(77)');
  assert.equal(
    flightModeName(minimal.MavAutopilot.GENERIC, minimal.MavType.QUADROTOR, 3),
    'MODE(3)',
  );
  assert.equal(arduPilotFirmware(minimal.MavType.ANTENNA_TRACKER), null);
  assert.equal(ARDUPLANE_MODES.QLAND, 20);
  assert.equal(ARDUROVER_MODES.SMART_RTL, 12);
});
