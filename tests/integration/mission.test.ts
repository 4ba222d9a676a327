// The mission protocol against the simulator in its own process, over real UDP on 127.0.0.1:
// mission, fence and rally lists through a radio that loses 30% of the datagrams, a list the
// vehicle refuses, and a mission flown in AUTO. Needs dist/station/sim.js (node scripts/build.mjs).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { test } from 'node:test';

import { common, minimal } from 'node-mavlink';

import { distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { build, MavlinkDecoder, MavlinkEncoder } from '../../app/station/mavlink/codec';
import { asSent, type MissionItem, type MissionType } from '../../app/station/mavlink/mission';
import { VehicleLink, type MissionStatus } from '../../app/station/mavlink/vehicle-link';
import {
  LOSSY_LINK_OPTIONS,
  LOSSY_RADIO,
  SIM_HOME,
  startSimLink,
  waitForState,
} from '../helpers/sim';

const CONNECT_TIMEOUT_MS = 30_000;
const FLIGHT_TIMEOUT_MS = 60_000;
const { MavCmd, MavFrame } = common;

function item(
  seq: number,
  missionType: MissionType,
  command: number,
  frame: number,
  fields: Partial<MissionItem> = {},
): MissionItem {
  return {
    seq,
    frame,
    command,
    current: 0,
    autocontinue: 1,
    param1: 0,
    param2: 0,
    param3: 0,
    param4: 0,
    x: 0,
    y: 0,
    z: 0,
    missionType,
    ...fields,
  };
}

function at(northM: number, eastM: number): { x: number; y: number } {
  const point = offsetNorthEast(SIM_HOME, northM, eastM);
  return { x: Math.round(point.latDeg * 1e7), y: Math.round(point.lonDeg * 1e7) };
}

/** Home, a takeoff, waypoints on a lawnmower pattern, a speed change, and RTL: `count` items. */
function surveyMission(count: number): MissionItem[] {
  const items = [
    item(0, 'mission', MavCmd.NAV_WAYPOINT, MavFrame.GLOBAL, {
      ...at(0, 0),
      z: SIM_HOME.altitudeMslM,
    }),
    item(1, 'mission', MavCmd.NAV_TAKEOFF, MavFrame.GLOBAL_RELATIVE_ALT, { z: 25 }),
    item(2, 'mission', MavCmd.DO_CHANGE_SPEED, MavFrame.MISSION, {
      param1: 1,
      param2: 7.5,
      param3: -1,
    }),
  ];
  for (let seq = 3; seq < count - 1; seq++) {
    const row = Math.floor((seq - 3) / 6);
    const column = row % 2 === 0 ? (seq - 3) % 6 : 5 - ((seq - 3) % 6);
    items.push(
      item(seq, 'mission', MavCmd.NAV_WAYPOINT, MavFrame.GLOBAL_RELATIVE_ALT, {
        ...at(20 * row, 15 * column),
        z: 25 + 0.1 * seq,
        // Hold time, acceptance radius and a yaw left to the vehicle (NaN), as planners send.
        param1: seq % 3,
        param2: 2.5,
        param4: Number.NaN,
      }),
    );
  }
  items.push(item(count - 1, 'mission', MavCmd.NAV_RETURN_TO_LAUNCH, MavFrame.MISSION));
  return items;
}

function fence(): MissionItem[] {
  const corners = [at(-100, -100), at(-100, 200), at(200, 200), at(200, -100)];
  return [
    ...corners.map((corner, seq) =>
      item(seq, 'fence', MavCmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION, MavFrame.GLOBAL, {
        ...corner,
        param1: corners.length,
      }),
    ),
    item(4, 'fence', MavCmd.NAV_FENCE_CIRCLE_EXCLUSION, MavFrame.GLOBAL, {
      ...at(60, 60),
      param1: 25,
    }),
    item(5, 'fence', MavCmd.NAV_FENCE_RETURN_POINT, MavFrame.GLOBAL_RELATIVE_ALT, {
      ...at(0, 10),
      z: 20,
    }),
  ];
}

function rally(): MissionItem[] {
  return [at(150, 0), at(0, 150), at(-80, -80)].map((point, seq) =>
    item(seq, 'rally', MavCmd.NAV_RALLY_POINT, MavFrame.GLOBAL_RELATIVE_ALT, {
      ...point,
      z: 30 + seq,
    }),
  );
}

/** JSON from the simulator writes NaN as null. */
function viaJson(items: MissionItem[]): MissionItem[] {
  return JSON.parse(JSON.stringify(items.map(asSent))) as MissionItem[];
}

test('50-item mission, fence and rally points: up and back identical, 30% loss', async (t) => {
  const { link, sim, dispose } = await startSimLink({
    link: LOSSY_LINK_OPTIONS,
    sim: { loss: { ...LOSSY_RADIO, seed: 2002 } },
  });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  const lists: Array<[MissionType, MissionItem[]]> = [
    ['mission', surveyMission(50)],
    ['fence', fence()],
    ['rally', rally()],
  ];
  for (const [type, items] of lists) {
    const progress: number[] = [];
    const upload = await link.uploadMission(type, items, (p) => progress.push(p.done));
    assert.equal(upload.ok, true, upload.text);
    assert.match(upload.text, /: done \(ACCEPTED\)$/);
    assert.equal(progress.at(-1), items.length);
    // The vehicle's own list, as it stored it.
    const stored = await sim.waitForEvent('mission-stored', 10_000, (e) => e.missionType === type);
    assert.deepEqual(stored.items, viaJson(items));
  }
  for (const [type, items] of lists) {
    const download = await link.downloadMission(type);
    assert.equal(download.ok, true, download.text);
    assert.equal(
      download.text,
      `Download ${type === 'rally' ? 'rally points' : type}: ${items.length} items (ACCEPTED)`,
    );
    assert.deepEqual(download.items, items.map(asSent));
  }
  // Each list was stored once: no upload restarted or repeated on the vehicle.
  assert.deepEqual(
    sim.events('mission-stored').map((e) => [e.missionType, e.items.length]),
    lists.map(([type, items]) => [type, items.length]),
  );
});

test('cleared lists and refused lists leave the vehicle with what it says', async (t) => {
  const { link, dispose } = await startSimLink({ link: { missionItemTimeoutMs: 300 } });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  assert.equal((await link.uploadMission('rally', rally())).ok, true);
  const wrong = [...rally(), item(3, 'rally', MavCmd.NAV_WAYPOINT, MavFrame.GLOBAL_RELATIVE_ALT)];
  const refused = await link.uploadMission('rally', wrong);
  assert.deepEqual(refused, {
    ok: false,
    result: 'UNSUPPORTED',
    text:
      'Upload rally points (4 items) refused: the vehicle does not support a command in it, ' +
      'or this kind of plan (UNSUPPORTED)',
  });
  assert.deepEqual((await link.downloadMission('rally')).items, rally().map(asSent));

  assert.equal((await link.clearMission('rally')).text, 'Clear rally points: done (ACCEPTED)');
  const empty = await link.downloadMission('rally');
  assert.equal(empty.text, 'Download rally points: the vehicle has none (ACCEPTED)');
  assert.deepEqual(empty.items, []);

  await assert.rejects(
    link.uploadMission('fence', [{ ...fence()[0], seq: 3 }]),
    /fence item 0 has seq 3; items must be numbered 0, 1, 2\.\.\. in order/,
  );
  await assert.rejects(
    link.uploadMission('mission', [{ ...surveyMission(5)[0], x: 1.5 }]),
    /mission item 0: x must be an integer/,
  );
});

test('AUTO flies the mission: takeoff, waypoint, loiter, RTL, each reached', async (t) => {
  const { link, dispose } = await startSimLink({ speedFactor: 8 });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  const pointA = offsetNorthEast(SIM_HOME, 50, 0);
  const pointB = offsetNorthEast(SIM_HOME, 50, 40);
  const mission = [
    item(0, 'mission', MavCmd.NAV_WAYPOINT, MavFrame.GLOBAL, {
      ...at(0, 0),
      z: SIM_HOME.altitudeMslM,
    }),
    item(1, 'mission', MavCmd.NAV_TAKEOFF, MavFrame.GLOBAL_RELATIVE_ALT, { z: 12 }),
    item(2, 'mission', MavCmd.NAV_WAYPOINT, MavFrame.GLOBAL_RELATIVE_ALT, { ...at(50, 0), z: 18 }),
    item(3, 'mission', MavCmd.NAV_LOITER_TIME, MavFrame.GLOBAL_RELATIVE_ALT, {
      ...at(50, 40),
      z: 18,
      param1: 5,
    }),
    item(4, 'mission', MavCmd.NAV_RETURN_TO_LAUNCH, MavFrame.MISSION),
  ];
  assert.equal((await link.uploadMission('mission', mission)).ok, true);

  // At 8x a 10 s DISARM_DELAY passes quickly; this test arms well before it takes off.
  assert.equal((await link.setParam('DISARM_DELAY', 0)).ok, true);
  // Armed on the ground, ArduCopter enters AUTO only for a mission that starts with a takeoff.
  assert.equal(
    (await link.uploadMission('mission', [mission[0], { ...mission[2], seq: 1 }])).ok,
    true,
  );
  assert.equal((await link.setMode('GUIDED')).ok, true);
  assert.equal((await link.arm()).ok, true);
  const refused = await link.setMode('AUTO');
  assert.equal(refused.result, 'FAILED');
  assert.match(refused.text, /cannot enter AUTO now/);
  await waitForState(
    link,
    (s) => s.statusTexts.some((text) => text.text === 'Auto: Missing Takeoff Cmd'),
    10_000,
    'the reason in a STATUSTEXT',
  );

  assert.equal((await link.uploadMission('mission', mission)).ok, true);
  const reached: number[] = [];
  let closestToA = Infinity;
  let closestToB = Infinity;
  const statuses = link.onMissionStatus((status: MissionStatus) => {
    if (status.reachedSeq !== null && reached.at(-1) !== status.reachedSeq) {
      reached.push(status.reachedSeq);
    }
  });
  const track = link.onState((state) => {
    if (!state.position) return;
    closestToA = Math.min(closestToA, distanceM(state.position, pointA));
    closestToB = Math.min(closestToB, distanceM(state.position, pointB));
  });
  t.after(() => {
    void statuses.dispose();
    void track.dispose();
  });
  assert.equal((await link.setMode('AUTO')).result, 'ACCEPTED');
  const landed = await waitForState(
    link,
    (s) => !s.armed && s.position !== null && s.position.altitudeRelM === 0 && reached.length >= 4,
    FLIGHT_TIMEOUT_MS,
    'the mission flown and landed at home',
  );
  assert.deepEqual(reached, [1, 2, 3, 4]);
  assert.ok(closestToA < 2.5, `passed ${closestToA.toFixed(1)} m from the waypoint`);
  assert.ok(closestToB < 1, `loitered ${closestToB.toFixed(1)} m from the loiter point`);
  assert.ok(distanceM(landed.position!, SIM_HOME) < 1.5, 'RTL landed at home');
  assert.equal(landed.modeName, 'AUTO');
  const texts = landed.statusTexts.map((s) => s.text);
  for (const said of [
    'Mission: 1 Takeoff',
    'Mission: 2 WP',
    'Mission: 3 LoitTime',
    'Mission: 4 RTL',
  ]) {
    assert.ok(texts.includes(said), `the vehicle said "${said}"`);
  }
  assert.equal(link.mission.currentSeq, 4);
});

test('a vehicle that asks with the float MISSION_REQUEST gets float MISSION_ITEMs', async (t) => {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  const encoder = new MavlinkEncoder(1, 1);
  let peerPort = 0;
  const send = (message: Parameters<MavlinkEncoder['encode']>[0]): void => {
    socket.send(encoder.encode(message), peerPort, '127.0.0.1');
  };
  const request = (seq: number): common.MissionRequest =>
    build(common.MissionRequest, {
      targetSystem: 255,
      targetComponent: 190,
      seq,
      missionType: common.MavMissionType.MISSION,
    });
  const received: Array<common.MissionItem | common.MissionItemInt> = [];
  const decoder = new MavlinkDecoder(({ message }) => {
    if (message instanceof common.MissionCount) send(request(0));
    if (message instanceof common.MissionItem || message instanceof common.MissionItemInt) {
      received.push(message);
      if (message.seq === 0) {
        send(request(1));
      } else {
        send(
          build(common.MissionAck, {
            targetSystem: 255,
            targetComponent: 190,
            type: common.MavMissionResult.ACCEPTED,
            missionType: common.MavMissionType.MISSION,
            opaqueId: 0,
          }),
        );
      }
    }
  });
  t.after(() => decoder.dispose());
  socket.on('message', (chunk, remote) => {
    peerPort = remote.port;
    decoder.push(chunk);
  });
  const link = await VehicleLink.open(`udpout:127.0.0.1:${socket.address().port}`, {
    requestMessageRates: false,
  });
  t.after(() => link.dispose());
  await new Promise<void>((resolve) => socket.once('message', () => resolve()));
  send(
    build(minimal.Heartbeat, {
      type: minimal.MavType.QUADROTOR,
      autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
      baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
      customMode: 0,
      systemStatus: minimal.MavState.STANDBY,
      mavlinkVersion: 3,
    }),
  );
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'the fake vehicle');
  const items = surveyMission(5).slice(0, 2);
  const outcome = await link.uploadMission('mission', items);
  assert.equal(outcome.ok, true, outcome.text);
  assert.equal(received.length, 2);
  assert.ok(
    received.every((m) => m instanceof common.MissionItem),
    'float items for float requests',
  );
  const takeoff = received[1] as common.MissionItem;
  assert.equal(takeoff.command, MavCmd.NAV_TAKEOFF);
  assert.equal(takeoff.z, 25);
  const home = received[0] as common.MissionItem;
  assert.ok(Math.abs(home.x - SIM_HOME.latDeg) < 1e-5, 'latitude in degrees');
});
