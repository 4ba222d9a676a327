// A ReplaySession on real shared logs, without video: the status's times and its bounded
// lists, the view inside a gap, report spans (inside a gap, whole record after jumps back), and
// a record that grew or was cut short while open.

import assert from 'node:assert/strict';
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { sharedDir } from '../../app/station/paths';
import {
  ReplaySession,
  sha256File,
  STATUS_MAX_BREAKS,
  STATUS_MAX_MARKERS,
} from '../../app/station/replay/replay-session';
import { TlogIndex } from '../../app/station/replay/tlog-index';
import { TlogFileReader } from '../../app/station/tlog/reader';

const TLOG_DIR = path.join(sharedDir(), 'fixtures', 'tlog');
/** A long gap and two sessions written over each other. */
const GAP_LOG = path.join(TLOG_DIR, 'olivieri_20211208-151717.tlog');
const FLIGHT_LOG = path.join(TLOG_DIR, 'olivieri_20211202-132613.tlog');
const ALTERNATING_RECORDS = 300_000;

let workDir = '';
let session: ReplaySession;
let index: TlogIndex;

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-session-'));
  session = ReplaySession.open(GAP_LOG, { cacheDir: path.join(workDir, 'cache') });
  index = await TlogIndex.build(GAP_LOG);
  await session.whenReady;
  assert.equal(session.status().error, null);
});

after(() => {
  session?.dispose();
  index?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function csvRows(file: string): string[] {
  return readFileSync(file, 'utf8').trim().split('\n').slice(1);
}

test('startMs and endMs are the earliest and latest record, so a typed time is found', () => {
  const status = session.status();
  let minMs = Infinity;
  let maxMs = -Infinity;
  const reader = TlogFileReader.open(GAP_LOG);
  try {
    for (let record = reader.next(); record; record = reader.next()) {
      minMs = Math.min(minMs, record.timeUs / 1000);
      maxMs = Math.max(maxMs, record.timeUs / 1000);
    }
  } finally {
    reader.dispose();
  }
  assert.equal(status.startMs, minMs);
  assert.equal(status.endMs, maxMs);
  // The earliest record is in a later session, before the first record's time.
  assert.ok(minMs < index.timeline.startUs / 1000);
  for (const timeMs of [minMs, minMs + 100, maxMs]) {
    assert.ok(Number.isFinite(session.axisForTime(timeMs)), `typed ${timeMs} is in the log`);
  }
});

test('inside a gap the time goes on and the link is judged there; the picture stays', () => {
  const gap = index.timeline.breaks.find((b) => b.kind === 'gap')!;
  const lost = session.markers.find((m) => m.kind === 'link-lost')!;
  assert.ok(lost.axisMs * 1000 > gap.axisStartUs && lost.axisMs * 1000 < gap.axisEndUs);
  const before = session.viewAt(gap.axisStartUs);
  assert.equal(before.vehicle?.link, 'connected');
  for (const axisUs of [lost.axisMs * 1000 + 1000, gap.axisStartUs + 5_000_000]) {
    const view = session.viewAt(axisUs);
    assert.equal(view.inBreak?.kind, 'gap');
    assert.equal(view.timeMs, index.timeline.axisToTimeUs(axisUs).timeUs / 1000);
    assert.ok(view.timeMs > lost.timeMs, 'past the link-lost marker');
    assert.equal(view.vehicle?.link, 'lost', `the link at ${axisUs / 1000} ms axis`);
    assert.deepEqual(view.vehicle?.position, before.vehicle?.position);
    assert.deepEqual(view.trail, before.trail);
  }
  // A jump back keeps the time it starts at.
  const jump = index.timeline.breaks.find((b) => b.kind === 'jump-back')!;
  const inJump = session.viewAt((jump.axisStartUs + jump.axisEndUs) / 2);
  assert.equal(inJump.timeMs, jump.fromUs / 1000);
});

test('a span inside a gap is refused in words; a span with records exports', async () => {
  const gap = index.timeline.breaks.find((b) => b.kind === 'gap')!;
  const reports = path.join(workDir, 'gap-reports');
  await assert.rejects(
    session.report(gap.axisStartUs + 1_000_000, gap.axisEndUs - 1_000_000, reports),
    {
      message:
        'the span lies inside a gap in the log (no records between 18:18:14 and 19:14:23 UTC)',
    },
  );
  const written = await session.report(gap.axisStartUs - 1_000_000, gap.axisEndUs, reports);
  assert.ok(written.files.includes('report.html'));
});

test('a whole-record report after jumps back holds every event and position', async () => {
  const written = await session.report(0, session.axisEndUs, path.join(workDir, 'whole'));
  const rows = csvRows(path.join(written.dir, 'events.csv'));
  assert.equal(session.markers.length, 9);
  // Every marker, and a row for each of the log's breaks.
  const breaks = session.breaksUs().length;
  assert.equal(rows.length, session.markers.length + breaks, rows.join('\n'));
  for (const marker of session.markers) {
    assert.ok(
      rows.some((row) => row.includes(marker.label)),
      `${marker.label} is in events.csv`,
    );
  }
});

test('a record that grew is checksummed again at export; cut short, it is an error', async () => {
  const copy = path.join(workDir, 'grow.tlog');
  copyFileSync(FLIGHT_LOG, copy);
  const grown = ReplaySession.open(copy, { cacheDir: path.join(workDir, 'cache') });
  try {
    await grown.whenHashed;
    const bytesThen = statSync(copy).size;
    // Another record appended, as a logger still writing would.
    const head = readFileSync(copy).subarray(0, 64);
    appendFileSync(copy, head);
    const bytesNow = bytesThen + head.length;
    const written = await grown.report(0, grown.axisEndUs, path.join(workDir, 'grow-reports'));
    const line =
      `${copy} changed since the replay opened it: ` + `${bytesThen} bytes then, ${bytesNow} now`;
    const rows = csvRows(path.join(written.dir, 'events.csv'));
    assert.ok(
      rows.some((row) => row.includes(line)),
      rows.slice(0, 3).join('\n'),
    );
    assert.ok(grown.status().warnings.includes(line));
    const tlogFile = grown.status().files.find((f) => f.role === 'tlog')!;
    assert.equal(tlogFile.bytes, bytesNow);
    assert.equal(tlogFile.sha256, await sha256File(copy));
    const sums = readFileSync(path.join(written.dir, 'sources.sha256'), 'utf8');
    assert.ok(sums.includes(tlogFile.sha256!), sums);

    truncateSync(copy, Math.floor(bytesThen / 2));
    assert.throws(() => grown.checkUnchanged(), /changed since it was indexed: reopen it/);
    const status = grown.status();
    assert.match(status.error ?? '', /grow\.tlog changed since it was indexed: reopen it/);
    assert.equal(grown.ready, false);
    assert.throws(() => grown.viewAt(0), /changed since it was indexed/);
  } finally {
    grown.dispose();
  }
});

test(
  `${ALTERNATING_RECORDS} records alternating a gap and a jump back: a bounded status`,
  { timeout: 300_000 },
  async () => {
    const frames: Array<{ timeUs: number; frame: Uint8Array }> = [];
    const reader = TlogFileReader.open(FLIGHT_LOG);
    try {
      for (let record = reader.next(); record; record = reader.next()) {
        frames.push({ timeUs: record.timeUs, frame: Uint8Array.from(record.frame) });
      }
    } finally {
      reader.dispose();
    }
    // Each odd record 10 s ahead of its neighbours: a gap then a jump back, every record.
    const file = path.join(workDir, 'alternating.tlog');
    const fd = openSync(file, 'w');
    try {
      const baseUs = frames[0].timeUs;
      const stamp = Buffer.alloc(8);
      for (let i = 0; i < ALTERNATING_RECORDS; i++) {
        const timeUs = baseUs + Math.floor(i / 2) * 1000 + (i % 2 ? 10_000_000 : 0);
        stamp.writeBigUInt64BE(BigInt(timeUs));
        writeSync(fd, stamp);
        writeSync(fd, frames[i % frames.length].frame);
      }
    } finally {
      closeSync(fd);
    }
    const many = ReplaySession.open(file, { cacheDir: path.join(workDir, 'cache') });
    try {
      await many.whenReady;
      const status = many.status();
      assert.equal(status.error, null);
      const breaks = many.breaksUs().length;
      assert.ok(breaks > 200_000, `${breaks} breaks`);
      assert.equal(status.breaks.length, STATUS_MAX_BREAKS);
      assert.ok(many.markers.length > STATUS_MAX_MARKERS, `${many.markers.length} markers`);
      assert.equal(status.markers.length, STATUS_MAX_MARKERS);
      const sorted = status.markers.every((m, i, all) => i === 0 || all[i - 1].axisMs <= m.axisMs);
      assert.ok(sorted, 'markers in axis order');
      assert.ok(
        status.warnings.includes(
          `the log has ${breaks} breaks: the timeline shows the longest ${STATUS_MAX_BREAKS}, ` +
            `${breaks - STATUS_MAX_BREAKS} more are not drawn`,
        ),
        status.warnings.join('\n'),
      );
      const leftOut = many.markers.length - STATUS_MAX_MARKERS;
      assert.ok(status.warnings.some((w) => w.endsWith(`${leftOut} left out`)));
      assert.ok(JSON.stringify(status).length < 2_000_000, 'the status stays small');
      // No detections or commands here: the status keeps the earliest markers in time.
      const byTime = [...many.markers].sort((a, b) => a.timeMs - b.timeMs);
      const lastKeptMs = byTime[STATUS_MAX_MARKERS - 1].timeMs;
      assert.ok(status.markers.every((m) => m.timeMs <= lastKeptMs));
      assert.ok(Number.isFinite(many.axisForTime(status.startMs! + 1)));
    } finally {
      many.dispose();
    }
  },
);
