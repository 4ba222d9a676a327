// The pure parts of the link layer: loss from sequence gaps, rate-limited warnings, the vehicle
// registry, where a serial adapter is looked for, and impossible telemetry refused per field.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { common, minimal } from 'node-mavlink';

import type { Logger } from '../../app/core/log';
import type { VehicleState } from '../../app/core/types';
import { build, MavlinkDecoder, MavlinkEncoder } from '../../app/station/mavlink/codec';
import { LinkHealthMeter } from '../../app/station/mavlink/link-health';
import { RateLimitedWarning } from '../../app/station/mavlink/rate-limit';
import { serialCandidates } from '../../app/station/mavlink/serial';
import { parseLinkUri, type SerialLinkSpec } from '../../app/station/mavlink/uri';
import { initialVehicleState, VehicleModel } from '../../app/station/mavlink/vehicle-model';
import { VehicleRegistry } from '../../app/station/mavlink/vehicle-registry';

test('loss comes from sequence gaps per system and component, over the last seconds', () => {
  let nowMs = 10_000;
  const meter = new LinkHealthMeter(() => nowMs);
  // System 1: 0..9 with 3 and 4 missing; system 2 interleaved, no gaps; wrap 254, 255, 0.
  for (const seq of [0, 1, 2, 5, 6, 7, 8, 9]) meter.frame(1, 1, seq);
  for (const seq of [254, 255, 0, 1]) meter.frame(2, 1, seq);
  nowMs += 1000;
  const counts = meter.counts;
  assert.equal(counts.packetsTotal, 12);
  assert.equal(counts.lostTotal, 2);
  assert.equal(counts.packetsPerSecond, 12);
  assert.equal(counts.lossPct, (100 * 2) / 14);

  // A duplicate or a restarted sender is no loss of 255 frames.
  meter.frame(1, 1, 9);
  meter.frame(1, 1, 3);
  assert.equal(meter.counts.lostTotal, 2);
  // After a reconnect, numbering starts afresh.
  meter.restart();
  meter.frame(1, 1, 100);
  assert.equal(meter.counts.lostTotal, 2);

  // Old seconds leave the window.
  nowMs += 10_000;
  assert.equal(meter.counts.packetsPerSecond, 0);
  assert.equal(meter.counts.lossPct, null);
});

test('a warning is said at once, then at most once per interval with a count', () => {
  const said: string[] = [];
  const log: Logger = {
    debug: () => {},
    info: () => {},
    warn: (message) => said.push(message),
    error: () => {},
  };
  let nowMs = 0;
  const warning = new RateLimitedWarning(log, 60_000, () => nowMs);
  // Every second for two minutes, as a failing heartbeat send would.
  for (let second = 0; second <= 120; second++) {
    nowMs = second * 1000;
    warning.report('send failed');
  }
  assert.deepEqual(said, [
    'send failed',
    'send failed (and 59 more like it before)',
    'send failed (and 59 more like it before)',
  ]);
  assert.equal(warning.count, 121);
  warning.reset();
  warning.report('send failed');
  assert.equal(said.length, 4);
});

function vehicle(systemId: number, link: VehicleState['link'], heardMs: number): VehicleState {
  return { ...initialVehicleState(), systemId, link, lastHeartbeatMs: heardMs };
}

test('the registry keeps one vehicle per system id over links and never switches by itself', () => {
  const notices: string[] = [];
  const registry = new VehicleRegistry((level, text) => notices.push(`${level}: ${text}`));
  registry.update('A', [vehicle(1, 'connected', 100)]);
  registry.update('B', [vehicle(1, 'connected', 150), vehicle(2, 'connected', 140)]);
  assert.equal(registry.activeSystemId, 1);
  assert.deepEqual(registry.systemIds, [1, 2]);
  assert.deepEqual(registry.linksFor(1), ['B', 'A'], 'the newest heartbeat first');
  assert.match(notices[1], /^warn: Another vehicle, 2, heard on B/);

  // B loses vehicle 1: A, alive, comes first whatever B heard last.
  registry.update('B', [vehicle(1, 'lost', 150), vehicle(2, 'connected', 400)]);
  assert.deepEqual(registry.linksFor(1), ['A', 'B']);
  assert.equal(registry.status(1), 'connected');
  assert.equal(registry.state(1)?.link, 'connected');

  // Lost everywhere while 2 lives: said once, loudly; 1 stays active.
  registry.update('A', [vehicle(1, 'lost', 100)]);
  registry.update('A', [vehicle(1, 'lost', 100)]);
  const loud = notices.filter((n) => n.startsWith('error: Active vehicle 1 LOST'));
  assert.equal(loud.length, 1);
  assert.match(loud[0], /vehicle 2 is alive\. Commands still go to vehicle 1/);
  assert.equal(registry.activeSystemId, 1);

  registry.select(2);
  assert.equal(registry.activeSystemId, 2);
  assert.throws(() => registry.select(3), /vehicle 3 has not been heard \(heard: 1, 2\)/);
  const summaries = registry.summaries(1000);
  assert.deepEqual(
    summaries.map((s) => [s.systemId, s.link, s.links, s.heartbeatAgeMs]),
    [
      [1, 'lost', ['B', 'A'], 850],
      [2, 'connected', ['B'], 600],
    ],
  );
});

test('a serial adapter is sought by its identity first, then by names and globs', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-candidates-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const name of ['radio-b', 'radio-a', 'other']) writeFileSync(path.join(dir, name), '');
  const spec = parseLinkUri(`serial:${dir}/radio-*,${dir}/missing:57600`) as SerialLinkSpec;
  assert.deepEqual(await serialCandidates(spec, null, []), [
    path.join(dir, 'radio-a'),
    path.join(dir, 'radio-b'),
  ]);

  const learnt = { serialNumber: 'A10K', vendorId: '0403', productId: '6015' };
  const ports = [
    { path: path.join(dir, 'radio-a'), serialNumber: 'ZZZ', vendorId: '1A86', productId: '7523' },
    { path: path.join(dir, 'other'), serialNumber: 'A10K', vendorId: '0x0403', productId: '6015' },
  ];
  // Its serial number names "other" now; radio-a is another adapter and is skipped.
  assert.deepEqual(await serialCandidates(spec, learnt, ports), [
    path.join(dir, 'other'),
    path.join(dir, 'radio-b'),
  ]);
  const byIds = parseLinkUri('serial:auto?vid=0403&pid=6015') as SerialLinkSpec;
  assert.deepEqual(await serialCandidates(byIds, null, ports), [path.join(dir, 'other')]);
  assert.deepEqual(await serialCandidates(byIds, null, []), []);
});

function received(message: InstanceType<typeof common.GlobalPositionInt>) {
  return { systemId: 1, componentId: 1, messageId: 33, message, signed: false };
}

test('impossible position fields are refused one by one; the last good values stay', () => {
  const model = new VehicleModel(1);
  const heartbeat = build(minimal.Heartbeat, {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
    customMode: 0,
    systemStatus: minimal.MavState.STANDBY,
    mavlinkVersion: 3,
  });
  model.apply({ systemId: 1, componentId: 1, messageId: 0, message: heartbeat, signed: false }, 0);
  const position = (fields: Partial<common.GlobalPositionInt>) =>
    build(common.GlobalPositionInt, {
      timeBootMs: 0,
      lat: 481700000,
      lon: -1119500000,
      alt: 1_060_000,
      relativeAlt: 20_000,
      vx: 0,
      vy: 0,
      vz: 0,
      hdg: 0,
      ...fields,
    });

  // Nothing good yet: an impossible latitude leaves no position at all.
  const first = model.apply(received(position({ lat: 950_000_000 })), 0);
  assert.deepEqual(first.rejected, ['GLOBAL_POSITION_INT.lat']);
  assert.equal(model.state.position, null);

  model.apply(received(position({})), 0);
  const bad = model.apply(
    received(position({ lon: 1_900_000_000, alt: 2_000_000_000, relativeAlt: 300 })),
    0,
  );
  assert.deepEqual(bad.rejected, ['GLOBAL_POSITION_INT.lon', 'GLOBAL_POSITION_INT.alt']);
  assert.deepEqual(model.state.position, {
    latDeg: 48.17,
    lonDeg: -111.95,
    altitudeMslM: 1060,
    altitudeRelM: 0.3,
  });
  // Another system's position never lands in this model.
  model.apply({ ...received(position({ lat: 100_000_000 })), systemId: 2 }, 0);
  const after: VehicleState = model.state;
  assert.equal(after.position?.latDeg, 48.17);
});

test('a datagram holds whole frames: a cut-short one is noise, the rest still decode', () => {
  const seen: number[] = [];
  const decoder = new MavlinkDecoder(({ systemId }) => seen.push(systemId));
  const encode = (systemId: number) =>
    new MavlinkEncoder(systemId, 1).encode(
      build(common.SystemTime, { timeUnixUsec: 0n, timeBootMs: 0 }),
    );
  const whole = encode(7);
  // A fake header that claims 255 bytes, then a whole frame, in one datagram.
  decoder.pushDatagram(Buffer.concat([Buffer.from([0xfd, 0xff, 0, 0, 1]), whole]));
  // The start of a frame alone: nothing is kept for the next datagram.
  decoder.pushDatagram(encode(8).subarray(0, 9));
  decoder.pushDatagram(encode(9));
  assert.deepEqual(seen, [7, 9]);
  // On a stream, a frame split across reads is joined; reset() forgets a half frame.
  const split = encode(10);
  decoder.push(split.subarray(0, 5));
  decoder.push(split.subarray(5));
  decoder.push(encode(11).subarray(0, 8));
  decoder.reset();
  decoder.push(encode(12));
  assert.deepEqual(seen, [7, 9, 10, 12]);
  decoder.dispose();
});
