// The tlog reader and the frame scanner on hand-made byte streams: frames serialized by
// node-mavlink (v1, v2, signed), with the damage real logs carry put in on purpose.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { x25crc } from 'mavlink-mappings';
import {
  MavLinkProtocolV1,
  MavLinkProtocolV2,
  common,
  minimal,
  type MavLinkData,
} from 'node-mavlink';

import {
  FrameProbe,
  MavlinkFrameScanner,
  Probe,
  frameHeader,
  messageName,
  probeFrame,
  x25Crc,
} from '../../app/station/tlog/frame';
import {
  MAX_TIMESTAMP_US,
  MIN_TIMESTAMP_US,
  TlogParser,
  parseTlogBytes,
  type TlogRecord,
} from '../../app/station/tlog/reader';
import { encodeTlogRecord } from '../../app/station/tlog/writer';

const T0_US = Date.UTC(2026, 11, 4, 16, 40, 12) * 1000;

function heartbeat(customMode = 5): minimal.Heartbeat {
  return Object.assign(new minimal.Heartbeat(), {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
    customMode,
    systemStatus: minimal.MavState.STANDBY,
    mavlinkVersion: 3,
  });
}

function position(latDeg: number, lonDeg: number, altitudeRelM: number): common.GlobalPositionInt {
  return Object.assign(new common.GlobalPositionInt(), {
    timeBootMs: 1000,
    lat: Math.round(latDeg * 1e7),
    lon: Math.round(lonDeg * 1e7),
    alt: Math.round((1000 + altitudeRelM) * 1000),
    relativeAlt: Math.round(altitudeRelM * 1000),
    vx: 0,
    vy: 0,
    vz: 0,
    hdg: 9000,
  });
}

function v1(message: MavLinkData, seq = 0): Uint8Array {
  return new Uint8Array(new MavLinkProtocolV1(1, 1).serialize(message, seq));
}

function v2(message: MavLinkData, seq = 0, systemId = 1): Uint8Array {
  return new Uint8Array(new MavLinkProtocolV2(systemId, 1).serialize(message, seq));
}

function signedV2(message: MavLinkData): Uint8Array {
  const protocol = new MavLinkProtocolV2(1, 1, MavLinkProtocolV2.IFLAG_SIGNED);
  const key = Buffer.alloc(32, 7);
  return new Uint8Array(protocol.sign(protocol.serialize(message, 3), 1, key));
}

function bytes(...parts: (Uint8Array | number[])[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((part) => [...part]));
}

function record(offsetMs: number, frame: Uint8Array): Uint8Array {
  return encodeTlogRecord(T0_US + offsetMs * 1000, frame);
}

function frames(records: TlogRecord[]): number[][] {
  return records.map((r) => [...r.frame]);
}

test('the table CRC agrees with mavlink-mappings x25crc', () => {
  const data = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
  for (const extra of [0, 50, 124, 255]) {
    assert.equal(
      x25Crc(data, 3, 250, extra),
      x25crc(Buffer.from(data.subarray(3, 250)), 0, 0, extra),
    );
  }
  assert.equal(x25Crc(data, 0, 0), 0xffff);
});

test('probeFrame accepts v1, v2 and signed v2 frames and reads their headers', () => {
  const probe = new FrameProbe();
  for (const frame of [v1(heartbeat()), v2(heartbeat()), signedV2(heartbeat())]) {
    assert.equal(probeFrame(frame, 0, frame.length, probe), Probe.FRAME);
    assert.equal(probe.length, frame.length);
    assert.equal(probe.messageId, 0);
    assert.equal(probeFrame(frame, 0, frame.length - 1, probe), Probe.NEED_MORE);
  }
  const header = frameHeader(signedV2(heartbeat()));
  assert.equal(header.version, 2);
  assert.equal(header.signed, true);
  assert.equal(header.sequence, 3);
  assert.equal(frameHeader(v1(heartbeat(), 9)).sequence, 9);
  assert.equal(messageName(33), 'GLOBAL_POSITION_INT');
  assert.equal(messageName(65000), 'MESSAGE(65000)');
});

test('probeFrame tells bad checksums, unknown ids and unknown v2 flags apart', () => {
  const probe = new FrameProbe();
  const bad = v2(heartbeat());
  bad[12] ^= 0x40;
  assert.equal(probeFrame(bad, 0, bad.length, probe), Probe.BAD_CRC);

  const unknown = v2(heartbeat());
  unknown[7] = 0x10;
  unknown[8] = 0x27; // message id 10000: in no dialect
  assert.equal(probeFrame(unknown, 0, unknown.length, probe), Probe.UNKNOWN_ID);
  assert.equal(probe.messageId, 10000);

  const flagged = v2(heartbeat());
  flagged[2] = 0x02;
  assert.equal(probeFrame(flagged, 0, flagged.length, probe), Probe.NOT_FRAME);
  assert.equal(probeFrame(Uint8Array.of(0x55), 0, 1, probe), Probe.NOT_FRAME);
});

test('records come out in order from a clean v1 and v2 mixed log', () => {
  const a = v1(heartbeat(), 1);
  const b = v2(position(48.17, -111.95, 12.5), 2);
  const c = signedV2(heartbeat(3));
  const { records, stats } = parseTlogBytes(bytes(record(0, a), record(250, b), record(500, c)));
  assert.deepEqual(frames(records), [[...a], [...b], [...c]]);
  assert.deepEqual(
    records.map((r) => [r.timeUs - T0_US, r.messageId, r.offset, r.known]),
    [
      [0, 0, 0, true],
      [250_000, 33, 8 + a.length, true],
      [500_000, 0, 16 + a.length + b.length, true],
    ],
  );
  assert.deepEqual(stats, {
    bytesRead: 24 + a.length + b.length + c.length,
    records: 3,
    bytesSkipped: 0,
    zeroBytesSkipped: 0,
    crcErrors: 0,
    unknownMessageIds: 0,
    badTimestamps: 0,
    truncatedTailBytes: 0,
  });
});

test('garbage between records is skipped and counted, start bytes in it included', () => {
  const a = v2(heartbeat(), 1);
  const b = v1(heartbeat(), 2);
  const garbage = [0xfe, 0x09, 0x13, 0xfd, 0x41, 0x42, 0x00, 0xff, 0xfe, 0xfd, 0x07];
  const { records, stats } = parseTlogBytes(
    bytes(garbage, record(0, a), garbage, garbage, record(100, b), garbage),
  );
  assert.deepEqual(frames(records), [[...a], [...b]]);
  assert.equal(stats.bytesSkipped, garbage.length * 4);
  assert.equal(stats.zeroBytesSkipped, 4);
  assert.equal(stats.crcErrors, 0);
});

test('a record with a bad checksum is skipped and the next one read', () => {
  const good = v2(heartbeat(), 1);
  const bad = v2(position(1, 2, 3), 2);
  bad[15] ^= 0xff;
  const after = v2(heartbeat(4), 3);
  const { records, stats } = parseTlogBytes(
    bytes(record(0, good), record(10, bad), record(20, after)),
  );
  assert.deepEqual(frames(records), [[...good], [...after]]);
  assert.equal(stats.crcErrors, 1);
  assert.equal(stats.bytesSkipped, 8 + bad.length);
});

test('zero padding inside and at the end of a log is skipped as zeros', () => {
  const a = v2(heartbeat(), 1);
  const b = v2(heartbeat(), 2);
  const zeros = new Uint8Array(4096);
  const { records, stats } = parseTlogBytes(bytes(record(0, a), zeros, record(5, b), zeros));
  assert.equal(records.length, 2);
  assert.equal(stats.bytesSkipped, 8192);
  assert.equal(stats.zeroBytesSkipped, 8192);
  assert.equal(stats.truncatedTailBytes, 0);
});

test('a log cut inside a record counts a truncated tail, whatever the cut', () => {
  const a = v2(heartbeat(), 1);
  const b = v1(position(48, -111, 30), 2);
  const whole = bytes(record(0, a), record(100, b));
  const firstLength = 8 + a.length;
  for (let cut = firstLength + 1; cut < whole.length; cut++) {
    const { records, stats } = parseTlogBytes(whole.subarray(0, cut));
    const tail = cut - firstLength;
    assert.equal(records.length, 1, `cut at ${cut}`);
    // Timestamps start with a zero byte until the year 2254: a lone zero may be either.
    const zerosOnly = whole.subarray(firstLength, cut).every((byte) => byte === 0);
    assert.equal(stats.truncatedTailBytes, zerosOnly ? 0 : tail, `cut at ${cut}`);
    assert.equal(stats.bytesSkipped, zerosOnly ? tail : 0, `cut at ${cut}`);
  }
});

test('timestamps outside 2000..2100 mean lost sync: the frame behind one is not a record', () => {
  const frame = v2(heartbeat(), 1);
  const before = encodeTlogRecord(MIN_TIMESTAMP_US - 1, frame);
  const after = encodeTlogRecord(MAX_TIMESTAMP_US, frame);
  const good = record(0, frame);
  const { records, stats } = parseTlogBytes(bytes(before, good, after));
  assert.equal(records.length, 1);
  assert.equal(records[0].timeUs, T0_US);
  assert.equal(stats.badTimestamps, 2);
  assert.equal(stats.bytesSkipped, before.length + after.length);
});

test('a start byte behind an impossible time does not hold back the record after it', () => {
  // Zeros as a time, then 0xfe 0xd8: a v1 frame 224 bytes long would start here.
  const noise = [0, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xd8];
  const good = v2(heartbeat(), 1);
  const parser = new TlogParser();
  parser.push(bytes(noise, record(0, good)));
  const found = parser.next();
  assert.ok(found, 'the record comes out before the file ends');
  assert.deepEqual([...found.frame], [...good]);
  assert.equal(parser.stats.bytesSkipped, noise.length);
});

test('an unknown message id is kept when the next record starts right behind it', () => {
  const unknown = v2(heartbeat(), 1);
  unknown[7] = 0x10;
  unknown[8] = 0x27;
  const known = v2(heartbeat(), 2);
  const kept = parseTlogBytes(bytes(record(0, unknown), record(10, known), record(20, unknown)));
  assert.deepEqual(
    kept.records.map((r) => [r.messageId, r.known]),
    [
      [10000, false],
      [0, true],
      [10000, false],
    ],
  );
  assert.equal(kept.stats.unknownMessageIds, 2);

  // Followed by noise it cannot be told from noise, so it is skipped.
  const dropped = parseTlogBytes(bytes(record(0, unknown), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
  assert.equal(dropped.records.length, 0);
  assert.equal(dropped.stats.unknownMessageIds, 0);
});

test('fed a byte at a time the parser finds exactly what it finds in one piece', () => {
  const log = bytes(
    [0xfd, 0x01],
    record(0, v1(heartbeat(), 1)),
    new Uint8Array(37),
    record(10, v2(position(-15.8, -47.9, 20), 2)),
    [0xfe, 0xfe, 0x00],
    record(20, signedV2(heartbeat())),
    record(30, v2(heartbeat(), 4)).subarray(0, 14),
  );
  const whole = parseTlogBytes(log);
  for (const size of [1, 2, 7, 9, 64]) {
    const parser = new TlogParser();
    const got: TlogRecord[] = [];
    for (let at = 0; at < log.length; at += size) {
      parser.push(log.slice(at, at + size));
      for (let r = parser.next(); r; r = parser.next()) got.push(r);
    }
    parser.end();
    for (let r = parser.next(); r; r = parser.next()) got.push(r);
    assert.deepEqual(frames(got), frames(whole.records), `chunks of ${size}`);
    assert.deepEqual(
      got.map((r) => r.offset),
      whole.records.map((r) => r.offset),
    );
    assert.deepEqual(parser.stats, whole.stats, `chunks of ${size}`);
  }
  assert.equal(whole.records.length, 3);
  assert.equal(whole.stats.truncatedTailBytes, 14);
});

test('random bytes never throw and every byte is accounted for', () => {
  let seed = 12345;
  const random = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 24;
  };
  for (let round = 0; round < 50; round++) {
    // Bias toward start bytes and plausible timestamp bytes to reach deep paths.
    const data = Uint8Array.from({ length: 2000 }, () => {
      const r = random();
      return r < 40 ? 0xfd : r < 60 ? 0xfe : r < 90 ? 0x00 : r < 100 ? 0x06 : random();
    });
    const { records, stats } = parseTlogBytes(data);
    const inRecords = records.reduce((sum, r) => sum + 8 + r.frame.length, 0);
    assert.equal(inRecords + stats.bytesSkipped + stats.truncatedTailBytes, data.length);
  }
});

test('the live scanner splits a stream, resyncs over noise and waits for split frames', () => {
  const a = v1(heartbeat(), 1);
  const b = v2(position(1, 2, 3), 2);
  const bad = v2(heartbeat(), 3);
  bad[11] ^= 1;
  const c = signedV2(heartbeat());
  // A lone 0xfd before b: the byte after it is no valid v2 flags byte, so it is noise.
  const stream = bytes([0x00, 0x55, 0x33], a, bad, [0xfd], b, c);
  const got: number[][] = [];
  const scanner = new MavlinkFrameScanner((frame) => got.push([...frame]));
  for (let at = 0; at < stream.length; at += 5) scanner.push(stream.slice(at, at + 5));
  assert.deepEqual(got, [[...a], [...b], [...c]]);
  const stats = scanner.stats;
  assert.equal(stats.frames, 3);
  assert.equal(stats.crcErrors, 1);
  assert.equal(stats.bytesSkipped, 3 + bad.length + 1);
});

test('in datagram mode a false start cannot hide the frames behind it', () => {
  const a = v2(heartbeat(), 1);
  const b = v2(heartbeat(), 2);
  // 0xfd 0xff claims a 267-byte frame that the datagram does not hold.
  const datagram = bytes([0xfd, 0xff, 0x00], a, b);
  const got: number[][] = [];
  new MavlinkFrameScanner((frame) => got.push([...frame]), { datagrams: true }).push(datagram);
  assert.deepEqual(got, [[...a], [...b]]);
  const waiting: number[][] = [];
  new MavlinkFrameScanner((frame) => waiting.push([...frame])).push(datagram);
  assert.deepEqual(waiting, [], 'a byte stream waits for the rest of the claimed frame');
});
