// The flight record writer: what it writes reads back identical, it flushes on its timer
// without being closed, it names files by local start time and never overwrites one, and a
// full disk stops the record with a clear message instead of throwing.

import assert from 'node:assert/strict';
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { MavLinkProtocolV1, MavLinkProtocolV2, common, minimal } from 'node-mavlink';

import { sidecarPaths } from '../../app/station/journal';
import { TlogFileReader, parseTlogBytes } from '../../app/station/tlog/reader';
import {
  TlogWriter,
  encodeTlogRecord,
  startTlogRecording,
  tlogFileName,
} from '../../app/station/tlog/writer';

const T0_US = Date.UTC(2026, 11, 4, 16, 40, 12) * 1000 + 123;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-tlog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Heartbeats and status texts of every length, v1 and v2, some signed. */
function sampleFrames(count: number): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const key = Buffer.alloc(32, 3);
  for (let i = 0; i < count; i++) {
    const text = Object.assign(new common.StatusText(), {
      severity: common.MavSeverity.INFO,
      text: 'x'.repeat(i % 50),
      id: 0,
      chunkSeq: 0,
    });
    const beat = Object.assign(new minimal.Heartbeat(), {
      type: minimal.MavType.GCS,
      autopilot: minimal.MavAutopilot.INVALID,
      baseMode: 0,
      customMode: i,
      systemStatus: minimal.MavState.ACTIVE,
      mavlinkVersion: 3,
    });
    const message = i % 2 === 0 ? text : beat;
    if (i % 5 === 0) {
      frames.push(new Uint8Array(new MavLinkProtocolV1(255, 190).serialize(message, i & 0xff)));
    } else if (i % 7 === 0) {
      const signer = new MavLinkProtocolV2(255, 190, MavLinkProtocolV2.IFLAG_SIGNED);
      frames.push(new Uint8Array(signer.sign(signer.serialize(message, i & 0xff), 0, key)));
    } else {
      frames.push(new Uint8Array(new MavLinkProtocolV2(1, 1).serialize(message, i & 0xff)));
    }
  }
  return frames;
}

test('records written read back identical, timestamps to the microsecond', (t) => {
  const file = path.join(tempDir(t), 'round-trip.tlog');
  const frames = sampleFrames(500);
  const writer = TlogWriter.create(file);
  frames.forEach((frame, i) => writer.write(T0_US + i * 1001, frame));
  assert.equal(writer.records, 500);
  writer.dispose();

  const reader = TlogFileReader.open(file);
  const back = [];
  for (let r = reader.next(); r; r = reader.next()) back.push(r);
  reader.dispose();
  assert.equal(back.length, frames.length);
  back.forEach((r, i) => {
    assert.equal(r.timeUs, T0_US + i * 1001);
    assert.deepEqual([...r.frame], [...frames[i]]);
  });
  assert.equal(reader.stats.bytesSkipped, 0);
  assert.equal(reader.stats.crcErrors, 0);
  const expected = frames.reduce((sum, f) => sum + 8 + f.length, 0);
  assert.equal(statSync(file).size, expected);
  assert.equal(writer.bytesWritten, expected);
});

test('the header is the big-endian microsecond time, as QGroundControl writes it', () => {
  const frame = sampleFrames(1)[0];
  const record = encodeTlogRecord(0x0006_61d1_87a4_1300, frame);
  assert.deepEqual([...record.subarray(0, 8)], [0x00, 0x06, 0x61, 0xd1, 0x87, 0xa4, 0x13, 0x00]);
  assert.throws(() => encodeTlogRecord(-1, frame), /whole number of microseconds/);
});

test('records reach the file on the timer, before the writer is closed', async (t) => {
  const file = path.join(tempDir(t), 'timer.tlog');
  const writer = TlogWriter.create(file, { flushIntervalMs: 50 });
  t.after(() => writer.dispose());
  const frames = sampleFrames(20);
  frames.forEach((frame, i) => writer.write(T0_US + i, frame));
  assert.equal(statSync(file).size, 0, 'nothing is written per record');
  const deadline = Date.now() + 5000;
  while (statSync(file).size === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const { records } = parseTlogBytes(readFileSync(file));
  assert.equal(records.length, 20);
});

test('files are named by local start time and never overwritten', (t) => {
  const dir = path.join(tempDir(t), 'made', 'logs');
  const start = new Date(2026, 11, 4, 16, 40, 12);
  assert.equal(tlogFileName(start), '2026-12-04_16-40-12.tlog');
  assert.equal(tlogFileName(new Date(2027, 0, 2, 3, 4, 5), '-2'), '2027-01-02_03-04-05-2.tlog');

  const first = startTlogRecording(dir, { start });
  const second = startTlogRecording(dir, { start });
  first.write(T0_US, sampleFrames(1)[0]);
  first.dispose();
  second.dispose();
  assert.equal(path.basename(first.path), '2026-12-04_16-40-12.tlog');
  assert.equal(path.basename(second.path), '2026-12-04_16-40-12-2.tlog');
  assert.deepEqual(readdirSync(dir).sort(), [
    '2026-12-04_16-40-12-2.tlog',
    '2026-12-04_16-40-12.tlog',
  ]);
  assert.ok(statSync(first.path).size > 0, 'the second file did not replace the first');
  assert.throws(() => TlogWriter.create(first.path), /already exists \(EEXIST\)/);
});

test('a folder that cannot be made is a clear error', () => {
  assert.throws(
    () => startTlogRecording('/etc/hostname/logs'),
    /cannot make the flight record folder \/etc\/hostname\/logs: a part of the path is not a/,
  );
});

test('a full disk stops the record once, with words for the operator, and never throws', (t) => {
  if (!existsSync('/dev/full')) {
    t.skip('no /dev/full on this system');
    return;
  }
  const errors: string[] = [];
  const writer = TlogWriter.append('/dev/full', { onError: (message) => errors.push(message) });
  const frames = sampleFrames(10);
  for (const frame of frames) writer.write(T0_US, frame);
  assert.doesNotThrow(() => writer.flush());
  assert.equal(errors.length, 1);
  assert.match(
    errors[0],
    /^Flight record stopped: cannot write \/dev\/full: the disk is full \(ENOSPC\)/,
  );
  assert.equal(writer.isRecording, false);
  assert.match(writer.failed ?? '', /ENOSPC/);
  for (const frame of frames) writer.write(T0_US, frame);
  writer.flush();
  writer.dispose();
  assert.equal(errors.length, 1, 'one message, not one per flush');
});

test('frames that cannot be records are dropped, not written', (t) => {
  const file = path.join(tempDir(t), 'odd.tlog');
  const writer = TlogWriter.create(file);
  writer.write(T0_US, new Uint8Array(0));
  writer.write(T0_US, new Uint8Array(300));
  writer.write(Number.NaN, sampleFrames(1)[0]);
  writer.write(-5, sampleFrames(1)[0]);
  writer.write(T0_US, sampleFrames(1)[0]);
  writer.dispose();
  assert.equal(writer.records, 1);
  assert.equal(parseTlogBytes(readFileSync(file)).records.length, 1);
});

test("a name is taken only when no old session's sidecar is there", (t) => {
  const dir = tempDir(t);
  const start = new Date(2026, 11, 4, 16, 40, 12);
  const base = path.join(dir, '2026-12-04_16-40-12');
  const journal = sidecarPaths(`${base}.tlog`).journal;
  writeFileSync(journal, '{"t":1,"session":{"version":1,"tlog":"old.tlog"}}\n');
  symlinkSync(path.join(dir, 'gone'), `${base}-2.frames.csv`);
  writeFileSync(`${base}-3.ts`, 'old video');
  writeFileSync(`${base}-4.hazing.jsonl`, '{}\n');

  const writer = startTlogRecording(dir, { start });
  writer.dispose();
  assert.equal(path.basename(writer.path), '2026-12-04_16-40-12-5.tlog');
  for (const sidecar of Object.values(sidecarPaths(writer.path))) {
    assert.equal(existsSync(sidecar), false, `${sidecar} is free for the new session`);
  }
  assert.equal(readFileSync(journal, 'utf8').includes('old.tlog'), true, 'old journal untouched');
});
