// A ReplaySession and ReplayStation on real shared logs, answering in words: a typed time past
// the range of dates, a report span that holds no records, a step that cannot move, a sidecar
// edited in place at the same size, a journal left by another flight record, and a report
// folder for a record with a very long name.

import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  openSync,
  closeSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import { sharedDir } from '../../app/station/paths';
import {
  REPORT_FOLDER_MAX_CHARS,
  reportFolderName,
  ReplaySession,
  sha256File,
} from '../../app/station/replay/replay-session';
import { ReplayStation } from '../../app/station/replay/replay-station';

const TLOG_DIR = path.join(sharedDir(), 'fixtures', 'tlog');
/** A long gap and two sessions written over each other. */
const GAP_LOG = path.join(TLOG_DIR, 'olivieri_20211208-151717.tlog');
const SHORT_LOG = path.join(TLOG_DIR, 'olivieri_20211202-133659.tlog');
const missing = [GAP_LOG, SHORT_LOG].find((file) => !existsSync(file));
const skip = missing ? `missing ${missing}` : false;
/** What the /reports route serves as a folder name. */
const CLOCK = '\\d\\d:\\d\\d:\\d\\d';
const SERVED_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

let workDir = '';
let gapSession: ReplaySession;

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-answers-'));
  if (skip) return;
  gapSession = ReplaySession.open(GAP_LOG, { cacheDir: path.join(workDir, 'cache') });
  await gapSession.whenReady;
  assert.equal(gapSession.status().error, null);
});

after(() => {
  gapSession?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function stationOn(session: ReplaySession): ReplayStation {
  return new ReplayStation({
    session,
    tiles: {
      kind: 'online',
      urlTemplate: 'https://t.invalid/{z}/{x}/{y}.png',
      attribution: '',
      maxZoom: 19,
    },
    defaults: {
      takeoffAltitudeM: 20,
      standoffM: 40,
      pushAltitudeM: 15,
      envelope: DEFAULT_ENVELOPE,
      speakerAvailable: false,
    },
    mapCenter: { latDeg: 0, lonDeg: 0 },
    reportDir: path.join(workDir, 'station-reports'),
  });
}

test('a typed time past the range of dates is not a time in the log', { skip }, async (t) => {
  const station = stationOn(gapSession);
  t.after(() => station.dispose());
  const answer = await station.execute({
    kind: 'replay',
    control: { action: 'seek-time', timeMs: 9e15 },
  });
  assert.equal(answer.ok, false);
  const spans = '2021-12-08 \\S+ UTC to 2021-12-08 \\S+ UTC';
  assert.match(
    answer.text,
    new RegExp(
      `^Replay seek-time: 9000000000000000 ms is not a time in the log \\(it spans ${spans}\\)$`,
    ),
  );
  assert.doesNotMatch(answer.text, /Invalid time value/);
});

test(
  'a span inside a jump back or under a microsecond is refused in plain words',
  { skip },
  async () => {
    const jump = gapSession.breaksUs().find((b) => b.kind === 'jump-back')!;
    const reports = path.join(workDir, 'empty-reports');
    await assert.rejects(
      gapSession.report(jump.axisStartUs + 1000, jump.axisEndUs - 1000, reports),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            '^the span lies inside a jump back in the log \\(the clock goes back from ' +
              `${CLOCK} to ${CLOCK} UTC; no records there\\)$`,
          ),
        );
        return true;
      },
    );
    await assert.rejects(gapSession.report(5_000_000.5, 5_000_001, reports), (error: Error) => {
      assert.match(error.message, /^the span is shorter than a microsecond/);
      return true;
    });
    assert.equal(existsSync(reports), false, 'no folder is left for a refused span');
  },
);

test('a step that cannot move says it is already at the start or the end', { skip }, async (t) => {
  const station = stationOn(gapSession);
  t.after(() => station.dispose());
  const step = (frames: number) =>
    station.execute({ kind: 'replay', control: { action: 'step', frames } });
  const first = await step(-1);
  assert.equal(first.ok, true, first.text);
  assert.match(first.text, /^Already at the start: 0\.0 s /);
  const endMs = gapSession.axisEndUs / 1000;
  await station.execute({ kind: 'replay', control: { action: 'seek', axisMs: endMs } });
  const last = await step(1);
  assert.equal(last.ok, true, last.text);
  assert.match(last.text, /^Already at the end: /);
  const back = await step(-1);
  assert.match(back.text, /^Stepped -1: /);
});

test('a sidecar rewritten in place at the same size is checksummed again', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(workDir, 'same-'));
  const tlog = path.join(dir, 'flight.tlog');
  copyFileSync(SHORT_LOG, tlog);
  const journal = path.join(dir, 'flight.journal.jsonl');
  const line = (text: string) =>
    JSON.stringify({
      t: 1638448000000,
      m: { type: 'log', entry: { timeMs: 1638448000000, level: 'info', text } },
    });
  const session0 = JSON.stringify({
    t: 1638448000000,
    session: { version: 1, tlog: 'flight.tlog' },
  });
  writeFileSync(journal, `${session0}\n${line('AAAA')}\n`);
  const session = ReplaySession.open(tlog, { cacheDir: path.join(dir, 'cache') });
  t.after(() => session.dispose());
  await session.whenReady;
  await session.whenHashed;
  const before = session.status().files.find((file) => file.role === 'journal')!;
  assert.ok(before.sha256);

  const text = readFileSync(journal, 'utf8').replace('AAAA', 'BBBB');
  const fd = openSync(journal, 'r+');
  writeSync(fd, text, 0);
  closeSync(fd);
  // Far from the first write, whatever the file system's clock step.
  const later = new Date(Date.now() + 60_000);
  utimesSync(journal, later, later);

  const written = await session.report(0, session.axisEndUs, path.join(dir, 'reports'));
  const after = session.status().files.find((file) => file.role === 'journal')!;
  assert.equal(after.bytes, before.bytes);
  assert.equal(after.sha256, await sha256File(journal));
  assert.notEqual(after.sha256, before.sha256);
  assert.ok(
    session
      .status()
      .warnings.some((w) =>
        w.includes(`${journal} changed since the replay opened it: rewritten at the same size`),
      ),
    session.status().warnings.join('\n'),
  );
  const sums = readFileSync(path.join(written.dir, 'sources.sha256'), 'utf8');
  assert.match(sums, new RegExp(after.sha256!));
});

test('a journal left by another flight record is left out of the replay', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(workDir, 'foreign-'));
  const tlog = path.join(dir, 'FOO.tlog');
  copyFileSync(SHORT_LOG, tlog);
  writeFileSync(
    path.join(dir, 'FOO.journal.jsonl'),
    `${JSON.stringify({ t: 1638448000000, session: { version: 1, tlog: 'OTHER.tlog' } })}\n`,
  );
  const session = ReplaySession.open(tlog, { cacheDir: path.join(dir, 'cache') });
  t.after(() => session.dispose());
  await session.whenReady;
  const status = session.status();
  assert.equal(status.error, null);
  assert.ok(
    status.warnings.includes('FOO.journal.jsonl belongs to OTHER.tlog, not FOO.tlog: left out'),
    status.warnings.join('\n'),
  );
});

test('a report folder for a very long record name is servable', { skip }, async (t) => {
  const dir = mkdtempSync(path.join(workDir, 'long-'));
  const tlog = path.join(dir, `${'n'.repeat(175)}.tlog`);
  copyFileSync(SHORT_LOG, tlog);
  const session = ReplaySession.open(tlog, { cacheDir: path.join(dir, 'cache') });
  t.after(() => session.dispose());
  await session.whenReady;
  const reports = path.join(dir, 'reports');
  const first = await session.report(0, session.axisEndUs, reports);
  const second = await session.report(0, session.axisEndUs, reports);
  for (const written of [first, second]) {
    const folder = path.basename(written.dir);
    assert.match(folder, SERVED_NAME);
    assert.ok(folder.startsWith('nnnn'), folder);
  }
  assert.match(path.basename(second.dir), /-2$/);
  // The longest date a Date can hold still leaves a servable name.
  const far = reportFolderName(`/x/${'y'.repeat(300)}.tlog`, 8.64e15);
  assert.ok(far.length <= REPORT_FOLDER_MAX_CHARS - 4, far);
  assert.match(far, SERVED_NAME);
});
