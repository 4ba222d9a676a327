// What a hostile or broken network must not do to a vehicle link: redirect its replies, hide
// the real vehicle behind a stray one, swallow real frames behind a fake header, or move the
// vehicle off the globe. Real sockets on 127.0.0.1, a bare vehicle made of node-mavlink frames.

import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';

import { common, minimal } from 'node-mavlink';

import { MavlinkDecoder, MavlinkEncoder, build } from '../../app/station/mavlink/codec';
import { openTransport } from '../../app/station/mavlink/transport';
import { parseLinkUri } from '../../app/station/mavlink/uri';
import { VehicleLink } from '../../app/station/mavlink/vehicle-link';
import { waitForState } from '../helpers/sim';
import { captureLog, delay, FakeVehicle, udpPeer, until } from './link-fake-vehicle';

const WAIT_MS = 10_000;

/** A udpin link on a free port and a fake vehicle (system `systemId`) talking to it. */
async function udpinWithVehicle(
  t: { after: (fn: () => unknown) => void },
  systemId = 1,
): Promise<{
  link: VehicleLink;
  vehicle: FakeVehicle;
  port: number;
  peer: Awaited<ReturnType<typeof udpPeer>>;
}> {
  const link = await VehicleLink.open('udpin:127.0.0.1:0', { requestMessageRates: false });
  t.after(() => link.dispose());
  const port = link.localPort!;
  let vehicle: FakeVehicle | null = null;
  const peer = await udpPeer((chunk) => vehicle?.hear(chunk));
  t.after(() => peer.close());
  vehicle = new FakeVehicle({ systemId, send: (frame) => void peer.sendTo(port, frame) });
  t.after(() => vehicle?.dispose());
  return { link, vehicle, port, peer };
}

function countFrames(datagrams: { chunk: Buffer }[]): number {
  let frames = 0;
  const decoder = new MavlinkDecoder(() => frames++);
  for (const { chunk } of datagrams) decoder.pushDatagram(chunk);
  decoder.dispose();
  return frames;
}

test('udpin: garbage, corrupt frames and our own id cannot take the replies', async (t) => {
  const { link, vehicle, port, peer } = await udpinWithVehicle(t);
  vehicle.start(200);
  await waitForState(link, (s) => s.link === 'connected', WAIT_MS, 'the vehicle');

  const attacker = await udpPeer();
  t.after(() => attacker.close());
  const attitude = build(common.Attitude, {
    timeBootMs: 0,
    roll: 0,
    pitch: 0,
    yaw: 0,
    rollspeed: 0,
    pitchspeed: 0,
    yawspeed: 0,
  });
  const corrupt = new MavlinkEncoder(1, 1).encode(attitude);
  corrupt[corrupt.length - 1] ^= 0xff;
  // A valid frame, but from our own ground station id: not a vehicle.
  const ownId = new MavlinkEncoder(255, 190).encode(attitude);
  // The attacker keeps at it, faster than the vehicle's heartbeats.
  const garbage = [Buffer.from([0x00]), corrupt, ownId, Buffer.from('hello')];
  let next = 0;
  const flood = setInterval(() => void attacker.sendTo(port, garbage[next++ % 4]), 5);
  t.after(() => clearInterval(flood));
  await delay(100);
  const heardBefore = peer.received.length;

  // An ABORT (BRAKE) right after the garbage must reach the vehicle, not the attacker.
  const outcome = await link.setMode('BRAKE');
  assert.equal(outcome.result, 'ACCEPTED', outcome.text);
  const setModes = vehicle.commands.filter((c) => c.command === common.MavCmd.DO_SET_MODE);
  assert.equal(setModes.length, 1);
  // At least one GCS heartbeat goes out in the next 1.2 s; none of it to the attacker.
  await delay(1200);
  assert.ok(peer.received.length > heardBefore, 'the vehicle still hears the station');
  assert.equal(attacker.received.length, 0, 'the attacker heard nothing');
  assert.equal(link.state.systemId, 1);
});

test('udpin: replies go to every vehicle heard, each on its own port', async (t) => {
  const { link, vehicle, port, peer } = await udpinWithVehicle(t, 1);
  let second: FakeVehicle | null = null;
  const otherPeer = await udpPeer((chunk) => second?.hear(chunk));
  t.after(() => otherPeer.close());
  second = new FakeVehicle({ systemId: 2, send: (frame) => void otherPeer.sendTo(port, frame) });
  t.after(() => second?.dispose());
  vehicle.start(200);
  second.start(200);
  await until(() => link.vehicles.length === 2, WAIT_MS, 'both vehicles');
  await until(
    () => vehicle.gcsHeartbeats >= 2 && second!.gcsHeartbeats >= 2,
    WAIT_MS,
    'the station heartbeat at both vehicles',
  );
  assert.ok(countFrames(peer.received) >= 2);
  assert.ok(countFrames(otherPeer.received) >= 2);
});

test('a stray first heartbeat from another system does not hide the real vehicle', async (t) => {
  const log = captureLog();
  t.after(() => log.restore());
  const { link, vehicle, port } = await udpinWithVehicle(t, 1);
  const stray = new FakeVehicle({ systemId: 42, send: () => {} });
  const strayPeer = await udpPeer();
  t.after(() => strayPeer.close());
  await strayPeer.sendTo(port, stray.heartbeat());
  await until(() => link.vehicles.length === 1, WAIT_MS, 'the stray heartbeat');
  vehicle.start(200);
  await until(() => link.vehicles.length === 2, WAIT_MS, 'the real vehicle as well');

  // The first heard is selected; it is never swapped for another behind the operator's back.
  assert.equal(link.selectedSystemId, 42);
  await until(() => link.state.link === 'lost', WAIT_MS, 'system 42 lost');
  assert.equal(link.selectedSystemId, 42, 'no silent switch');
  const real = link.vehicles.find((v) => v.systemId === 1);
  assert.equal(real?.link, 'connected');
  assert.ok(
    log.lines.some(
      (line) =>
        line.level === 'warn' && /system 42\) is LOST while system 1 is alive/.test(line.text),
    ),
    'the operator is told loudly',
  );
  assert.equal((await link.setMode('BRAKE')).result, 'NOT_SENT');

  link.selectVehicle(1);
  assert.equal(link.state.systemId, 1);
  assert.equal(link.state.link, 'connected');
  const outcome = await link.setMode('BRAKE');
  assert.equal(outcome.result, 'ACCEPTED', outcome.text);
  assert.equal(vehicle.commands[0]?.targetSystem, 1);
  assert.throws(
    () => link.selectVehicle(7),
    /system 7 has not been heard on udpin:127\.0\.0\.1:\d+/,
  );
});

test('two vehicles on one link are both seen, and the active one stays put', async (t) => {
  const { link, vehicle, port } = await udpinWithVehicle(t, 1);
  const otherPeer = await udpPeer();
  t.after(() => otherPeer.close());
  const second = new FakeVehicle({ systemId: 2, send: (f) => void otherPeer.sendTo(port, f) });
  t.after(() => second.dispose());
  vehicle.customMode = 5;
  second.customMode = 4;
  vehicle.start(300);
  await waitForState(link, (s) => s.link === 'connected', WAIT_MS, 'system 1');
  second.start(100);
  await until(
    () => link.vehicles.filter((v) => v.link === 'connected').length === 2,
    WAIT_MS,
    'both connected',
  );
  await delay(500);
  assert.equal(link.selectedSystemId, 1, 'the louder newcomer does not take over');
  assert.equal(link.state.modeName, 'LOITER');
  const modes = new Map(link.vehicles.map((v) => [v.systemId, v.modeName]));
  assert.deepEqual(Object.fromEntries(modes), { 1: 'LOITER', 2: 'GUIDED' });
  assert.deepEqual(link.health.systemIds, [1, 2]);
});

test('a stray datagram with a fake header does not swallow the frames after it', async (t) => {
  const { link, vehicle, port } = await udpinWithVehicle(t, 1);
  vehicle.start(5000);
  await waitForState(link, (s) => s.link === 'connected', WAIT_MS, 'the vehicle');
  const stray = await udpPeer();
  t.after(() => stray.close());
  // A v2 header announcing 255 payload bytes: as a stream it would eat the next ~280 bytes.
  await stray.sendTo(port, Buffer.from([0xfd, 0xff, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00]));
  await vehicle.send(vehicle.heartbeat(6));
  await waitForState(link, (s) => s.modeName === 'RTL', 2000, 'the heartbeat right after it');
});

test('corrupt frames are counted and said once, not once each', async (t) => {
  const log = captureLog();
  t.after(() => log.restore());
  const { link, vehicle, port } = await udpinWithVehicle(t, 1);
  vehicle.start(200);
  await waitForState(link, (s) => s.link === 'connected', WAIT_MS, 'the vehicle');
  const corrupt = Buffer.from(vehicle.heartbeat());
  corrupt[corrupt.length - 2] ^= 0x55;
  const noise = await udpPeer();
  t.after(() => noise.close());
  for (let i = 0; i < 50; i++) {
    await noise.sendTo(port, corrupt);
    if (i % 10 === 9) await delay(1100);
  }
  await until(() => link.health.corruptFrames === 50, WAIT_MS, '50 corrupt frames counted');
  await delay(1100);
  const warnings = log.lines.filter((l) => /corrupt frame/.test(l.text));
  assert.equal(warnings.length, 1, warnings.map((w) => w.text).join('\n'));
  assert.match(warnings[0].text, /skipped \d+ corrupt frame\(s\), \d+ since the link opened/);
  assert.equal(link.state.link, 'connected');
});

test('a TCP reconnect forgets a frame half received before the drop', async (t) => {
  const vehicle = new FakeVehicle({ systemId: 1, send: () => {} });
  t.after(() => vehicle.dispose());
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    if (sockets.length === 1) {
      socket.write(vehicle.heartbeat(5));
      // The start of a frame that never finishes: the connection drops inside it.
      setTimeout(() => {
        socket.write(Buffer.from([0xfd, 0xff, 0x00, 0x00, 0x07, 0x01, 0x01, 0x00, 0x00]));
        setTimeout(() => socket.destroy(), 50);
      }, 200);
    } else {
      socket.write(vehicle.heartbeat(6));
    }
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
  const link = await VehicleLink.open(`tcp:127.0.0.1:${port}`, { requestMessageRates: false });
  t.after(() => link.dispose());
  await waitForState(link, (s) => s.modeName === 'LOITER', WAIT_MS, 'the first connection');
  await waitForState(link, (s) => s.modeName === 'RTL', WAIT_MS, 'the heartbeat after reconnect');
  assert.equal(sockets.length, 2);
});

test('a position off the globe is refused field by field, counted and said once', async (t) => {
  const log = captureLog();
  t.after(() => log.restore());
  const { link, vehicle } = await udpinWithVehicle(t, 1);
  vehicle.start(200);
  await waitForState(link, (s) => s.link === 'connected', WAIT_MS, 'the vehicle');
  const good = { lat: 481700000, lon: -1119500000, alt: 1_060_000, relativeAlt: 20_000 };
  vehicle.send(vehicle.position(good));
  await waitForState(link, (s) => s.position !== null, WAIT_MS, 'a first position');

  vehicle.send(vehicle.position({ ...good, lat: 950000000, lon: -1119600000 }));
  vehicle.send(vehicle.position({ ...good, lon: 2_000_000_000, alt: 2_000_000_000 }));
  vehicle.send(vehicle.position({ ...good, relativeAlt: -2_000_000_000, lat: 481800000 }));
  await until(() => link.health.rejectedValues === 3, WAIT_MS, 'three refused positions');
  const state = await waitForState(
    link,
    (s) => s.position?.latDeg === 48.18,
    WAIT_MS,
    'the last good fields',
  );
  assert.deepEqual(state.position, {
    latDeg: 48.18,
    lonDeg: -111.95,
    altitudeMslM: 1060,
    altitudeRelM: 20,
  });
  const warnings = log.lines.filter((l) => /impossible values/.test(l.text));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].text, /system 1 sent impossible values \(GLOBAL_POSITION_INT\.lat\)/);
});

test('udpout to a name that does not resolve warns once, then once a minute', async (t) => {
  const log = captureLog();
  t.after(() => log.restore());
  let lookups = 0;
  const lookup: dgram.SocketOptions['lookup'] = (hostname, _options, callback) => {
    const reply = callback as (e: Error | null, address?: string, family?: number) => void;
    // The bind address is looked up too; only the vehicle's name fails.
    if (net.isIP(hostname)) return process.nextTick(() => reply(null, hostname, 4));
    lookups++;
    const error = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {
      code: 'ENOTFOUND',
    });
    process.nextTick(() => reply(error));
  };
  const transport = await openTransport(
    parseLinkUri('udpout:radio.invalid:14550'),
    { onData: () => {} },
    { lookup },
  );
  t.after(() => transport.dispose());
  const heartbeat = new FakeVehicle({ systemId: 255, send: () => {} }).heartbeat();
  for (let i = 0; i < 30; i++) {
    transport.send(heartbeat);
    await delay(5);
  }
  await until(() => lookups >= 30, WAIT_MS, '30 failed sends');
  await delay(50);
  const warnings = log.lines.filter((l) => /send failed/.test(l.text));
  assert.equal(warnings.length, 1, warnings.map((w) => w.text).join('\n'));
  assert.match(warnings[0].text, /udpout:radio\.invalid:14550: send failed: .*ENOTFOUND/);
});

test('heartbeats from a gimbal or a ground station make no vehicle', async (t) => {
  const { link, port } = await udpinWithVehicle(t, 1);
  const other = await udpPeer();
  t.after(() => other.close());
  const gimbal = new MavlinkEncoder(1, 154).encode(
    build(minimal.Heartbeat, {
      type: minimal.MavType.GIMBAL,
      autopilot: minimal.MavAutopilot.INVALID,
      baseMode: 0 as minimal.MavModeFlag,
      customMode: 0,
      systemStatus: minimal.MavState.ACTIVE,
      mavlinkVersion: 3,
    }),
  );
  await other.sendTo(port, gimbal);
  await delay(300);
  assert.deepEqual(link.vehicles, []);
  assert.equal(link.state.link, 'connecting');
});
