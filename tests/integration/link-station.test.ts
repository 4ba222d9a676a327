// The station with several links and several vehicles: one vehicle heard on two links is one
// vehicle, commands go out on the link that heard it last and is alive, the active vehicle
// stays put, and the operator picks another. Real UDP on 127.0.0.1, the real Station.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { common } from 'node-mavlink';

import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import type { ServerMessage } from '../../app/core/protocol';
import { Station } from '../../app/station/station';
import { captureLog, delay, FakeVehicle, udpPeer, until, type UdpPeer } from './link-fake-vehicle';

const WAIT_MS = 10_000;

/** A radio: a UDP socket the station's udpout link sends to, carrying some vehicles. */
async function radio(
  t: { after: (fn: () => unknown) => void },
  vehicles: () => FakeVehicle[],
): Promise<UdpPeer & { stationPort: () => number | null }> {
  let stationPort: number | null = null;
  const peer = await udpPeer((chunk) => {
    for (const vehicle of vehicles()) vehicle.hear(chunk);
  });
  peer.socket.on('message', (_chunk, remote) => {
    stationPort = remote.port;
  });
  t.after(() => peer.close());
  return Object.assign(peer, { stationPort: () => stationPort });
}

async function startStation(links: string[]): Promise<Station> {
  return Station.start({
    sim: false,
    links,
    recordDir: null,
    video: null,
    camera: { horizontalFovDeg: 60, verticalFovDeg: 45 },
    defaults: {
      takeoffAltitudeM: 20,
      standoffM: 30,
      pushAltitudeM: 25,
      envelope: DEFAULT_ENVELOPE,
      speakerAvailable: false,
    },
    tiles: {
      kind: 'online',
      urlTemplate: 'http://127.0.0.1/{z}/{x}/{y}',
      attribution: '',
      maxZoom: 19,
    },
    mapCenter: { latDeg: 48.17, lonDeg: -111.95 },
  });
}

function lastOf<T extends ServerMessage['type']>(
  messages: ServerMessage[],
  type: T,
): Extract<ServerMessage, { type: T }> | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].type === type) return messages[i] as Extract<ServerMessage, { type: T }>;
  }
  return undefined;
}

test('a vehicle on two links is one; commands take the link that still hears it', async (t) => {
  const log = captureLog();
  t.after(() => log.restore());
  const vehicle1: FakeVehicle[] = [];
  const vehicle2: FakeVehicle[] = [];
  // Radio A carries vehicles 1 and 2, radio B only vehicle 1 (a second path to it).
  const a = await radio(t, () => [...vehicle1.slice(0, 1), ...vehicle2]);
  const b = await radio(t, () => vehicle1.slice(1));
  const station = await startStation([`udpout:127.0.0.1:${a.port}`, `udpout:127.0.0.1:${b.port}`]);
  t.after(() => station.dispose());
  const messages: ServerMessage[] = [];
  station.onMessage((message) => messages.push(message));
  await until(() => a.stationPort() !== null && b.stationPort() !== null, WAIT_MS, 'both links');

  // The same vehicle (system 1) behind both radios, each with its own sequence of frames.
  const onA = new FakeVehicle({ systemId: 1, send: (f) => void a.sendTo(a.stationPort()!, f) });
  const onB = new FakeVehicle({ systemId: 1, send: (f) => void b.sendTo(b.stationPort()!, f) });
  vehicle1.push(onA, onB);
  t.after(() => [onA, onB].forEach((v) => v.dispose()));
  onA.customMode = onB.customMode = 5;
  onA.start(200);
  onB.start(200);
  await until(() => station.vehicle?.link === 'connected', WAIT_MS, 'vehicle 1');
  const second = new FakeVehicle({ systemId: 2, send: (f) => void a.sendTo(a.stationPort()!, f) });
  vehicle2.push(second);
  t.after(() => second.dispose());
  second.start(200);
  await until(() => station.vehicles().vehicles.length === 2, WAIT_MS, 'vehicle 2');

  const list = station.vehicles();
  assert.equal(list.activeSystemId, 1);
  assert.deepEqual(
    list.vehicles.map((v) => [v.systemId, v.link, v.links.length]),
    [
      [1, 'connected', 2],
      [2, 'connected', 1],
    ],
  );
  assert.ok(
    log.lines.some((l) =>
      /Another vehicle, 2, heard .*commands still go to vehicle 1/.test(l.text),
    ),
  );
  const health = station.linkHealth().links;
  assert.deepEqual(
    health.map((h) => h.systemIds),
    [[1, 2], [1]],
  );
  await until(
    () => station.linkHealth().links.every((h) => h.packetsPerSecond > 0),
    WAIT_MS,
    'packet rates',
  );

  // Radio A goes quiet for vehicle 1: the vehicle is still heard on B, and commands go there.
  onA.stop();
  await until(
    () =>
      station.linkHealth().links[0].heartbeatAgeMs! > 0 &&
      station.vehicles().vehicles[0].links[0] === `udpout:127.0.0.1:${b.port}`,
    WAIT_MS,
    'B to be the best link to vehicle 1',
  );
  await delay(2800);
  assert.equal(station.vehicle?.link, 'connected', 'still heard on B');
  const outcome = await station.execute({ kind: 'return-home' });
  assert.equal(outcome.result, 'ACCEPTED', outcome.text);
  assert.equal(onB.commands.filter((c) => c.command === common.MavCmd.DO_SET_MODE).length, 1);
  assert.equal(onA.commands.filter((c) => c.command === common.MavCmd.DO_SET_MODE).length, 0);
  assert.ok(log.lines.some((l) => /Link udpout:.* lost for vehicle 1; also heard on/.test(l.text)));

  // The operator makes vehicle 2 active: commands go to it (on A, the only link that hears it).
  const picked = await station.execute({ kind: 'select-vehicle', systemId: 2 });
  assert.equal(picked.ok, true, picked.text);
  assert.equal(station.vehicles().activeSystemId, 2);
  assert.equal(station.vehicle?.systemId, 2);
  assert.equal((await station.execute({ kind: 'abort' })).result, 'ACCEPTED');
  assert.ok(second.commands.some((c) => c.command === common.MavCmd.DO_SET_MODE));
  assert.equal(lastOf(messages, 'vehicles')?.activeSystemId, 2);
  const unknown = await station.execute({ kind: 'select-vehicle', systemId: 9 });
  assert.equal(unknown.ok, false);
  assert.match(unknown.text, /vehicle 9 has not been heard \(heard: 1, 2\)/);
});

test('the active vehicle lost while another is alive: said loudly, never switched', async (t) => {
  const log = captureLog();
  t.after(() => log.restore());
  const vehicles: FakeVehicle[] = [];
  const a = await radio(t, () => vehicles);
  const station = await startStation([`udpout:127.0.0.1:${a.port}`]);
  t.after(() => station.dispose());
  await until(() => a.stationPort() !== null, WAIT_MS, 'the link');
  const first = new FakeVehicle({ systemId: 42, send: (f) => void a.sendTo(a.stationPort()!, f) });
  const real = new FakeVehicle({ systemId: 1, send: (f) => void a.sendTo(a.stationPort()!, f) });
  vehicles.push(first, real);
  t.after(() => vehicles.forEach((v) => v.dispose()));
  // One stray heartbeat from system 42, then the real vehicle.
  first.send(first.heartbeat());
  await until(() => station.vehicles().activeSystemId === 42, WAIT_MS, 'system 42');
  real.start(200);
  await until(
    () => log.lines.some((l) => /Active vehicle 42 LOST, but vehicle 1 is alive/.test(l.text)),
    WAIT_MS,
    'the loud warning',
  );
  assert.equal(log.lines.find((l) => /Active vehicle 42 LOST/.test(l.text))?.level, 'error');
  assert.equal(station.vehicles().activeSystemId, 42, 'not switched silently');
  assert.equal((await station.execute({ kind: 'abort' })).result, 'NOT_SENT');
  assert.equal((await station.execute({ kind: 'select-vehicle', systemId: 1 })).ok, true);
  assert.equal((await station.execute({ kind: 'abort' })).result, 'ACCEPTED');
  assert.ok(real.commands.some((c) => c.command === common.MavCmd.DO_SET_MODE));
});
