// The session journal writer: its file beside the flight record, the lines it keeps and leaves
// out, never over an existing file, and a write failure that stops the journal, not the caller.
// Read back with JournalTimeline: the round trip loses nothing the replay shows.

import assert from 'node:assert/strict';
import fs, { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, mock, test } from 'node:test';

import type { ServerMessage, VideoStatus } from '../../app/core/protocol';
import type { MapTarget } from '../../app/core/types';
import {
  JOURNAL_MAX_BYTES,
  JOURNAL_VERSION,
  SessionJournal,
  sidecarPaths,
} from '../../app/station/journal';
import { JournalTimeline } from '../../app/station/replay/journal-timeline';

const T0 = 1_800_000_000_000;

let root = '';
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-journal-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const video = (state: VideoStatus['state'], error: string | null = null): ServerMessage => ({
  type: 'video-status',
  video: { label: 'demo', state, framesPerSecond: 5, width: 640, height: 480, error },
});

const bear: MapTarget = {
  id: 4,
  className: 'bear',
  position: { latDeg: 48.171, lonDeg: -111.951 },
  score: 0.9,
  firstSeenMs: T0 + 100,
  lastSeenMs: T0 + 200,
  hits: 3,
};

function readLines(file: string): Array<Record<string, unknown>> {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'every line is whole');
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('sidecarPaths: the files beside FOO.tlog', () => {
  assert.deepEqual(sidecarPaths('/records/2026-12-05T01-00-00Z.tlog'), {
    video: '/records/2026-12-05T01-00-00Z.ts',
    frameTable: '/records/2026-12-05T01-00-00Z.frames.csv',
    journal: '/records/2026-12-05T01-00-00Z.journal.jsonl',
    hazingLog: '/records/2026-12-05T01-00-00Z.hazing.jsonl',
  });
  assert.equal(sidecarPaths('/r/OLD.TLOG').journal, '/r/OLD.journal.jsonl');
});

test('the journal keeps what the replay shows, leaves out frames and telemetry', () => {
  const file = sidecarPaths(path.join(root, 'flight.tlog')).journal;
  const journal = SessionJournal.open(file);
  const frame: ServerMessage = {
    type: 'frame',
    frameId: 7,
    frameTimeMs: T0,
    width: 640,
    height: 480,
    jpeg: 'AAAA',
  };
  const detections: ServerMessage = {
    type: 'detections',
    frameId: 7,
    frameTimeMs: T0,
    detections: [
      {
        frameId: 7,
        frameTimeMs: T0,
        classId: 21,
        className: 'bear',
        score: 0.91,
        box: [10, 20, 30, 40],
        imageWidth: 640,
        imageHeight: 480,
        ground: { latDeg: 48.171, lonDeg: -111.951 },
        groundError: null,
        trackId: 4,
      },
    ],
  };
  journal.record(video('starting'), T0 + 1);
  journal.record(frame, T0 + 2);
  journal.record(detections, T0 + 3);
  journal.record({ type: 'heartbeat', timeMs: T0 }, T0 + 4);
  journal.record({ type: 'links', links: [] }, T0 + 5);
  journal.record({ type: 'vehicles', activeSystemId: null, vehicles: [] }, T0 + 6);
  journal.record(
    { type: 'command-result', requestId: 'x', outcome: { ok: true, result: 'OK', text: '' } },
    T0 + 7,
  );
  // The status repeats every second: only changes of state or error are kept.
  journal.record(video('running'), T0 + 8);
  journal.record(video('running'), T0 + 9);
  journal.record(video('reconnecting', 'stream dropped'), T0 + 10);
  journal.record(video('reconnecting', 'stream dropped'), T0 + 11);
  journal.record(video('reconnecting', 'no route'), T0 + 12);
  journal.record({ type: 'targets', targets: [bear] }, T0 + 13);
  journal.command(1, { kind: 'arm-takeoff', altitudeM: 20 }, T0 + 14);
  journal.result(1, { ok: true, result: 'ACCEPTED', text: 'Taking off to 20 m' }, T0 + 15);
  journal.dispose();
  journal.record({ type: 'targets', targets: [] }, T0 + 16);
  journal.dispose();

  const lines = readLines(file);
  assert.equal(typeof lines[0].t, 'number');
  assert.deepEqual(lines[0].session, { version: JOURNAL_VERSION, tlog: 'flight.tlog' });
  assert.deepEqual(
    lines.slice(1).map((line) => line.t),
    [1, 3, 8, 10, 12, 13, 14, 15].map((dt) => T0 + dt),
  );
  assert.deepEqual(lines[2].m, detections);
  assert.deepEqual(lines[7], {
    t: T0 + 14,
    command: { id: 1, command: { kind: 'arm-takeoff', altitudeM: 20 } },
  });
  assert.deepEqual(lines[8], {
    t: T0 + 15,
    result: { id: 1, outcome: { ok: true, result: 'ACCEPTED', text: 'Taking off to 20 m' } },
  });

  const timeline = JournalTimeline.load(file);
  assert.deepEqual(timeline.warnings, []);
  assert.equal(timeline.endMs, T0 + 15);
  assert.deepEqual(timeline.detectionsFor(7), {
    frameId: 7,
    frameTimeMs: T0,
    detections: (detections as Extract<ServerMessage, { type: 'detections' }>).detections,
  });
  assert.deepEqual(timeline.viewAt(T0 + 13).targets, [bear]);
  assert.deepEqual(timeline.commands(), [
    {
      id: 1,
      timeMs: T0 + 14,
      command: { kind: 'arm-takeoff', altitudeM: 20 },
      outcome: { ok: true, result: 'ACCEPTED', text: 'Taking off to 20 m' },
      resultMs: T0 + 15,
    },
  ]);
  // The station did not log this command itself: the replay's log says it.
  assert.deepEqual(
    timeline.viewAt(T0 + 20).log.map((entry) => entry.text),
    ['Operator: arm and take off to 20 m', 'Taking off to 20 m'],
  );
});

test('a journal is never written over an existing file', () => {
  const file = path.join(root, 'taken.journal.jsonl');
  writeFileSync(file, 'keep me\n');
  assert.throws(
    () => SessionJournal.open(file),
    (error: Error) => error.message.includes(file) && /EEXIST/.test(error.message),
  );
  assert.equal(readFileSync(file, 'utf8'), 'keep me\n');
  assert.throws(
    () => SessionJournal.open(path.join(root, 'no-such-folder', 'x.journal.jsonl')),
    /cannot make the session journal .*no-such-folder.*ENOENT/,
  );
});

test('a failed write stops the journal once, says why, and never throws to the station', () => {
  const file = path.join(root, 'full.journal.jsonl');
  const errors: string[] = [];
  const journal = SessionJournal.open(file, { onError: (message) => errors.push(message) });
  journal.record({ type: 'zones', zones: [] }, T0);
  const failing = mock.method(fs, 'writeSync', () => {
    throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  });
  const closes = mock.method(fs, 'closeSync');
  try {
    journal.record({ type: 'people', people: [] }, T0 + 1);
    assert.equal(closes.mock.callCount(), 1, 'the file is closed at the failure');
    journal.record({ type: 'people', people: [] }, T0 + 2);
    journal.command(2, { kind: 'land' }, T0 + 3);
  } finally {
    failing.mock.restore();
    closes.mock.restore();
  }
  assert.equal(failing.mock.callCount(), 1, 'one try, then the journal stops');
  assert.equal(errors.length, 1);
  assert.match(errors[0], /session journal .*full\.journal\.jsonl stopped: ENOSPC/);
  assert.equal(journal.writeError, errors[0]);
  journal.record({ type: 'people', people: [] }, T0 + 4);
  journal.dispose();
  const lines = readLines(file);
  assert.equal(lines.length, 2, 'the session line and the line before the failure');
  assert.ok(existsSync(file));
});

test('at its byte limit the journal writes one stopped line, says so once, and stops', () => {
  const file = path.join(root, 'limit.journal.jsonl');
  const maxBytes = 4096;
  const errors: string[] = [];
  const journal = SessionJournal.open(file, {
    maxBytes,
    onError: (message) => errors.push(message),
  });
  const writes = mock.method(fs, 'writeSync');
  const closes = mock.method(fs, 'closeSync');
  try {
    for (let i = 0; i < 200; i++) journal.command(i, { kind: 'land' }, T0 + i);
    assert.equal(closes.mock.callCount(), 1, 'the file is closed when the journal stops');
  } finally {
    writes.mock.restore();
    closes.mock.restore();
  }
  const writesAtStop = writes.mock.callCount();
  assert.ok(writesAtStop < 200, 'nothing is written after the journal stopped');
  assert.equal(errors.length, 1);
  assert.match(errors[0], /session journal .*limit\.journal\.jsonl stopped: it reached 4096 bytes/);
  assert.equal(journal.writeError, errors[0]);
  journal.dispose();

  const size = fs.statSync(file).size;
  assert.ok(size <= maxBytes, `the journal holds ${size} bytes, at most ${maxBytes}`);
  const lines = readLines(file);
  const last = lines[lines.length - 1];
  assert.deepEqual(Object.keys(last), ['t', 'stopped']);
  assert.equal(last.stopped, 'journal reached 4096 bytes');
  const commands = lines.filter((line) => 'command' in line);
  assert.equal(commands.length, lines.length - 2, 'session line, commands, the stopped line');
  assert.equal(last.t, T0 + commands.length, 'stamped with the line it would not write');
  assert.ok(commands.length > 10);
});

test('the default limit is the 512 MB a replay reads; a tiny limit is refused', () => {
  assert.equal(JOURNAL_MAX_BYTES, 512 * 1024 * 1024);
  assert.throws(
    () => SessionJournal.open(path.join(root, 'tiny.journal.jsonl'), { maxBytes: 10 }),
    /session journal maxBytes must be a whole number >= 1024, got 10/,
  );
});

test('a line cut by a full disk is taken back, so the flight record gets that room', () => {
  const file = path.join(root, 'part.journal.jsonl');
  const errors: string[] = [];
  const journal = SessionJournal.open(file, { onError: (message) => errors.push(message) });
  journal.command(1, { kind: 'land' }, T0);
  const sizeBefore = fs.statSync(file).size;
  const realWrite = fs.writeSync;
  let calls = 0;
  const failing = mock.method(fs, 'writeSync', (fd: number, bytes: Buffer, offset: number) => {
    calls += 1;
    if (calls === 1) return realWrite(fd, bytes, offset, 10);
    throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
  });
  try {
    journal.record({ type: 'people', people: [] }, T0 + 1);
    journal.record({ type: 'people', people: [] }, T0 + 2);
  } finally {
    failing.mock.restore();
  }
  assert.equal(calls, 2, 'the part, the failure, then nothing more');
  assert.equal(errors.length, 1);
  assert.match(errors[0], /part\.journal\.jsonl stopped: ENOSPC/);
  journal.dispose();
  assert.equal(fs.statSync(file).size, sizeBefore, 'the part-written line is gone');
  assert.equal(readLines(file).length, 2, 'the session line and the command, whole');
});
