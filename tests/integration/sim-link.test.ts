// The station's VehicleLink against the built-in simulator in its own process, over real UDP
// on 127.0.0.1. Needs dist/station/sim.js (node scripts/build.mjs).

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';

import { common, minimal } from 'node-mavlink';

import { bearingDeg, distanceM, offsetNorthEast } from '../../app/core/geodesy';
import { build, MavlinkDecoder, MavlinkEncoder } from '../../app/station/mavlink/codec';
import { VehicleLink } from '../../app/station/mavlink/vehicle-link';
import { SIM_HOME, startSimLink, takeOffTo, waitForLink, waitForState } from '../helpers/sim';

/** Generous ceilings so a broken link fails the test instead of hanging it. */
const CONNECT_TIMEOUT_MS = 15_000;
const FLIGHT_TIMEOUT_MS = 60_000;
/** Simulated seconds per real second in flight tests; the kinematics take small steps anyway. */
const SPEED_FACTOR = 4;

function angleBetweenDeg(a: number, b: number): number {
  const d = Math.abs((((a - b) % 360) + 360) % 360);
  return Math.min(d, 360 - d);
}

test('heartbeats go both ways and the station builds the vehicle state', async (t) => {
  const { link, sim, dispose } = await startSimLink();
  t.after(dispose);

  const gcs = await sim.waitForEvent('gcs', CONNECT_TIMEOUT_MS);
  assert.deepEqual(gcs, { event: 'gcs', systemId: 255, componentId: 190 });

  const state = await waitForState(
    link,
    (s) =>
      s.link === 'connected' &&
      s.position !== null &&
      s.home !== null &&
      s.gps !== null &&
      s.battery !== null &&
      s.gimbal !== null &&
      s.attitude !== null,
    CONNECT_TIMEOUT_MS,
    'a connected vehicle with full telemetry',
  );
  assert.equal(state.systemId, 1);
  assert.equal(state.autopilot, 'ArduPilot');
  assert.equal(state.vehicleType, 'QUADROTOR');
  assert.equal(state.customMode, 0);
  assert.equal(state.modeName, 'STABILIZE');
  assert.equal(state.armed, false);
  assert.ok(state.lastHeartbeatMs !== null && state.lastHeartbeatMs <= Date.now());

  assert.ok(state.position);
  assert.ok(distanceM(state.position, SIM_HOME) < 0.5, 'it starts at home');
  assert.equal(state.position.altitudeRelM, 0);
  assert.equal(state.position.altitudeMslM, SIM_HOME.altitudeMslM);
  assert.deepEqual(state.home, SIM_HOME);
  assert.deepEqual(state.gps, { fixType: 3, fixName: '3D', satellites: 14, hdop: 0.7 });
  assert.ok(
    state.battery?.voltageV !== null && Math.abs((state.battery?.voltageV ?? 0) - 16.8) < 0.05,
  );
  assert.equal(state.battery?.remainingPct, 100);
  assert.ok(
    state.gimbal && Math.abs(state.gimbal.pitchDeg - -45) < 0.5,
    'the camera looks down 45',
  );
  assert.equal(state.gimbal?.yawFrame, 'vehicle');
  assert.ok(
    state.statusTexts.some((s) => s.text.startsWith('ArduCopter')),
    'the banner arrived',
  );
});

test('a takeoff while disarmed is refused with the vehicle FAILED answer', async (t) => {
  const { link, dispose } = await startSimLink();
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  const outcome = await link.takeoff(20);
  // ArduCopter's Mode::do_user_takeoff fails when disarmed, and the handler answers FAILED.
  assert.equal(outcome.ok, false);
  assert.equal(outcome.result, 'FAILED');
  assert.match(outcome.text, /^Take off to 20 m refused: the vehicle is not armed \(FAILED\)$/);
  assert.equal(link.state.armed, false);
});

test('arm and take off to 20 m: the vehicle climbs to 20 m in GUIDED', async (t) => {
  const { link, dispose } = await startSimLink({ speedFactor: SPEED_FACTOR });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  const outcome = await link.armAndTakeoff(20);
  assert.deepEqual(outcome, {
    ok: true,
    result: 'ACCEPTED',
    text: 'Take off to 20 m: accepted (ACCEPTED)',
  });

  const up = await waitForState(
    link,
    (s) =>
      Math.abs((s.position?.altitudeRelM ?? 0) - 20) < 0.3 &&
      Math.abs(s.velocity?.downMps ?? 1) < 0.1,
    FLIGHT_TIMEOUT_MS,
    'hovering at 20 m',
  );
  assert.equal(up.armed, true);
  assert.equal(up.modeName, 'GUIDED');
  assert.ok(distanceM(up.position!, SIM_HOME) < 1, 'a takeoff goes straight up');
  assert.ok(Math.abs(up.position!.altitudeMslM - (SIM_HOME.altitudeMslM + 20)) < 0.3);
  assert.ok(up.battery!.remainingPct! < 100, 'flying drains the battery');
  assert.ok(up.statusTexts.some((s) => s.text === 'Arming motors'));
});

test('gotoGuided flies to a point 80 m away, nose first, and holds there', async (t) => {
  const { link, dispose } = await startSimLink({ speedFactor: SPEED_FACTOR });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  await takeOffTo(link, 20, 19.5, FLIGHT_TIMEOUT_MS);

  const target = { ...offsetNorthEast(SIM_HOME, 56.6, 56.6), altitudeRelM: 25 };
  assert.ok(Math.abs(distanceM(SIM_HOME, target) - 80) < 0.5);
  const outcome = await link.gotoGuided(target);
  assert.equal(outcome.result, 'ACCEPTED');
  assert.equal(outcome.ok, true);

  const cruising = await waitForState(
    link,
    (s) => Math.hypot(s.velocity?.northMps ?? 0, s.velocity?.eastMps ?? 0) > 5,
    FLIGHT_TIMEOUT_MS,
    'cruising toward the target',
  );
  const headingToTarget = bearingDeg(cruising.position!, target);
  assert.ok(
    angleBetweenDeg(cruising.attitude!.yawDeg, headingToTarget) < 10,
    `yaw ${cruising.attitude!.yawDeg} faces the target at ${headingToTarget}`,
  );
  const speedMps = Math.hypot(cruising.velocity!.northMps, cruising.velocity!.eastMps);
  assert.ok(speedMps <= 10.05, `ground speed ${speedMps} m/s stays within 10 m/s`);

  const arrived = await waitForState(
    link,
    (s) =>
      s.position !== null &&
      distanceM(s.position, target) <= 2 &&
      Math.abs(s.position.altitudeRelM - 25) < 0.5,
    FLIGHT_TIMEOUT_MS,
    'arrival within 2 m of the target',
  );
  assert.equal(arrived.modeName, 'GUIDED');
  const stopped = await waitForState(
    link,
    (s) => Math.hypot(s.velocity?.northMps ?? 1, s.velocity?.eastMps ?? 1) < 0.05,
    FLIGHT_TIMEOUT_MS,
    'holding at the target',
  );
  assert.ok(distanceM(stopped.position!, target) < 0.5, 'it holds on the target');
});

test('RTL climbs to 15 m where it is, flies home, lands and disarms', async (t) => {
  const { link, dispose } = await startSimLink({ speedFactor: 2 * SPEED_FACTOR });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  await takeOffTo(link, 10, 9.8, FLIGHT_TIMEOUT_MS);
  const away = { ...offsetNorthEast(SIM_HOME, 40, 0), altitudeRelM: 10 };
  assert.equal((await link.gotoGuided(away)).ok, true);
  await waitForState(
    link,
    (s) => s.position !== null && distanceM(s.position, away) < 0.5,
    FLIGHT_TIMEOUT_MS,
    '40 m north of home',
  );

  assert.equal((await link.setMode('RTL')).result, 'ACCEPTED');
  const climbed = await waitForState(
    link,
    (s) => (s.position?.altitudeRelM ?? 0) > 14.8,
    FLIGHT_TIMEOUT_MS,
    'the climb to RTL altitude',
  );
  assert.ok(distanceM(climbed.position!, away) < 2, 'it climbs before it heads home');

  const landed = await waitForState(
    link,
    (s) => !s.armed && s.position !== null && s.position.altitudeRelM === 0,
    FLIGHT_TIMEOUT_MS,
    'landing and disarming at home',
  );
  assert.ok(distanceM(landed.position!, SIM_HOME) < 1.5, 'it lands at home');
  assert.equal(landed.modeName, 'RTL');
  assert.ok(landed.statusTexts.some((s) => s.text === 'Land complete'));
});

test('the ROI turns the nose and the camera to a point; setGimbal sets the camera', async (t) => {
  const { link, dispose } = await startSimLink({ speedFactor: SPEED_FACTOR });
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  await takeOffTo(link, 20, 19.8, FLIGHT_TIMEOUT_MS);

  // A bear on the ground 60 m east: 20 m down over 60 m is 18.4 deg below the horizon.
  const bear = { ...offsetNorthEast(SIM_HOME, 0, 60), altitudeMslM: SIM_HOME.altitudeMslM };
  assert.equal((await link.setRegionOfInterest(bear)).result, 'ACCEPTED');
  const facing = await waitForState(
    link,
    (s) =>
      s.attitude !== null &&
      angleBetweenDeg(s.attitude.yawDeg, 90) < 1 &&
      s.gimbal !== null &&
      Math.abs(s.gimbal.pitchDeg - -18.4) < 0.5 &&
      Math.abs(s.gimbal.yawDeg) < 1,
    FLIGHT_TIMEOUT_MS,
    'nose east and camera on the bear',
  );
  assert.equal(facing.gimbal?.yawFrame, 'vehicle');

  assert.equal((await link.setGimbal(-90, 0)).result, 'ACCEPTED');
  await waitForState(
    link,
    (s) => s.gimbal !== null && Math.abs(s.gimbal.pitchDeg - -90) < 0.5,
    FLIGHT_TIMEOUT_MS,
    'camera straight down',
  );
});

test('DO_REPOSITION outside GUIDED is DENIED, as ArduCopter does', async (t) => {
  const { link, dispose } = await startSimLink();
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');

  assert.equal((await link.setMode('loiter')).result, 'ACCEPTED');
  await waitForState(link, (s) => s.modeName === 'LOITER', CONNECT_TIMEOUT_MS, 'LOITER');

  const target = { ...offsetNorthEast(SIM_HOME, 50, 0), altitudeRelM: 20 };
  const outcome = await link.gotoGuided(target);
  assert.equal(outcome.ok, false);
  assert.equal(outcome.result, 'DENIED');
  assert.match(
    outcome.text,
    /refused: the vehicle is not in GUIDED mode \(it is in LOITER\) \(DENIED\)$/,
  );
  assert.equal(link.state.modeName, 'LOITER', 'DO_REPOSITION without the flag keeps the mode');

  await assert.rejects(link.setMode('HOVER'), /unknown ArduCopter flight mode "HOVER"/);
});

test('killing the simulator makes the link lost, and commands are then not sent', async (t) => {
  const { link, sim, dispose } = await startSimLink({ link: { heartbeatTimeoutMs: 3000 } });
  t.after(dispose);
  await waitForState(
    link,
    (s) => s.link === 'connected' && s.position !== null,
    CONNECT_TIMEOUT_MS,
    'connection and a position',
  );
  const changes: string[] = [];
  const subscription = link.onLinkChange((status) => changes.push(status));
  t.after(() => subscription.dispose());

  process.kill(sim.pid, 'SIGKILL');
  await waitForLink(link, 'lost', 3000 + 3000);
  assert.deepEqual(changes, ['lost']);
  assert.equal(link.state.link, 'lost');
  assert.ok(link.state.position, 'the last known position is kept');

  const outcome = await link.setMode('LAND');
  assert.equal(outcome.result, 'NOT_SENT');
  assert.match(outcome.text, /not sent: the link to the vehicle is lost/);
});

test('garbage on the link is skipped and the vehicle stays connected', async (t) => {
  const { link, dispose } = await startSimLink();
  t.after(dispose);
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'connection');
  const before = link.state.lastHeartbeatMs ?? 0;

  const noise = dgram.createSocket('udp4');
  t.after(() => new Promise<void>((resolve) => noise.close(() => resolve())));
  const port = link.localPort!;
  const valid = new MavlinkEncoder(1, 1).encode(
    build(common.Attitude, {
      timeBootMs: 0,
      roll: 0,
      pitch: 0,
      yaw: 0,
      rollspeed: 0,
      pitchspeed: 0,
      yawspeed: 0,
    }),
  );
  const corrupt = Buffer.from(valid);
  corrupt[corrupt.length - 1] ^= 0xff;
  const datagrams = [
    Buffer.from([0xfd, 0xfe, 0x00, 0x01, 0xfd, 0x30]),
    corrupt,
    valid.subarray(0, 7),
    Buffer.from('not mavlink at all'),
    Buffer.alloc(300, 0xfd),
  ];
  for (const datagram of datagrams) {
    await new Promise<void>((resolve) => noise.send(datagram, port, '127.0.0.1', () => resolve()));
  }

  const after = await waitForState(
    link,
    (s) => s.link === 'connected' && (s.lastHeartbeatMs ?? 0) > before + 1500,
    CONNECT_TIMEOUT_MS,
    'heartbeats still arriving after the garbage',
  );
  assert.equal(after.systemId, 1);
});

test('a vehicle that never answers gets retransmissions, then TIMEOUT', async (t) => {
  // A bare MAVLink peer: it sends heartbeats as ArduCopter would and counts commands.
  const vehicle = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => vehicle.bind(0, '127.0.0.1', () => resolve()));
  t.after(() => new Promise<void>((resolve) => vehicle.close(() => resolve())));
  const seen: common.CommandLong[] = [];
  const decoder = new MavlinkDecoder(({ message }) => {
    if (message instanceof common.CommandLong) seen.push(message);
  });
  t.after(() => decoder.dispose());
  vehicle.on('message', (chunk) => decoder.push(chunk));

  const link = await VehicleLink.open(`udpout:127.0.0.1:${vehicle.address().port}`, {
    commandAckTimeoutMs: 200,
    commandAttempts: 3,
  });
  t.after(() => link.dispose());
  const linkPort = await new Promise<number>((resolve) => {
    vehicle.once('message', (_chunk, remote) => resolve(remote.port));
  });
  const encoder = new MavlinkEncoder(1, 1);
  const heartbeat = encoder.encode(
    build(minimal.Heartbeat, {
      type: minimal.MavType.QUADROTOR,
      autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
      baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
      customMode: 5,
      systemStatus: minimal.MavState.STANDBY,
      mavlinkVersion: 3,
    }),
  );
  vehicle.send(heartbeat, linkPort, '127.0.0.1');
  await waitForState(link, (s) => s.modeName === 'LOITER', CONNECT_TIMEOUT_MS, 'the fake vehicle');

  const outcome = await link.setMode('BRAKE');
  assert.equal(outcome.ok, false);
  assert.equal(outcome.result, 'TIMEOUT');
  assert.match(outcome.text, /^Switch to BRAKE: no answer from the vehicle \(TIMEOUT\)$/);
  const setModes = seen.filter((c) => c.command === common.MavCmd.DO_SET_MODE);
  assert.deepEqual(
    setModes.map((c) => [c.targetSystem, c.targetComponent, c.confirmation, c._param1, c._param2]),
    [
      [1, 1, 0, 1, 17],
      [1, 1, 1, 1, 17],
      [1, 1, 2, 1, 17],
    ],
  );
});

test('a TCP link hears the vehicle, and reconnects when the vehicle end drops it', async (t) => {
  // A bare MAVLink vehicle behind a TCP server, as ArduPilot SITL serves on port 5760.
  const encoder = new MavlinkEncoder(1, 1);
  const heartbeat = (): Buffer =>
    encoder.encode(
      build(minimal.Heartbeat, {
        type: minimal.MavType.QUADROTOR,
        autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
        baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
        customMode: 4,
        systemStatus: minimal.MavState.STANDBY,
        mavlinkVersion: 3,
      }),
    );
  const sockets: net.Socket[] = [];
  let gcsHeartbeats = 0;
  const server = net.createServer((socket) => {
    sockets.push(socket);
    const decoder = new MavlinkDecoder(({ message }) => {
      if (message instanceof minimal.Heartbeat && message.type === minimal.MavType.GCS) {
        gcsHeartbeats++;
      }
    });
    socket.on('data', (chunk) => decoder.push(chunk));
    socket.on('error', () => {});
    // After a drop the vehicle stays silent a while, as one that rebooted would.
    const silentMs = sockets.length > 1 ? 2000 : 0;
    let timer: NodeJS.Timeout | null = null;
    const start = setTimeout(() => {
      timer = setInterval(() => socket.write(heartbeat()), 200);
    }, silentMs);
    socket.on('close', () => {
      clearTimeout(start);
      if (timer) clearInterval(timer);
      decoder.dispose();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;

  const link = await VehicleLink.open(`tcp:127.0.0.1:${port}`, { heartbeatTimeoutMs: 1000 });
  t.after(() => link.dispose());
  await waitForState(link, (s) => s.link === 'connected', CONNECT_TIMEOUT_MS, 'TCP connection');
  assert.equal(link.state.modeName, 'GUIDED');
  assert.ok(link.localPort !== null, 'a connected TCP link has a local port');

  const changes: string[] = [];
  const subscription = link.onLinkChange((status) => changes.push(status));
  t.after(() => subscription.dispose());
  sockets[0].destroy();
  await waitForLink(link, 'lost', CONNECT_TIMEOUT_MS);
  await waitForLink(link, 'connected', CONNECT_TIMEOUT_MS);
  assert.deepEqual(changes, ['lost', 'connected']);
  assert.equal(sockets.length, 2, 'the link connected a second time');
  assert.ok(gcsHeartbeats >= 1, 'the station heartbeat goes over TCP too');
});
