// Reading a session journal for replay, at its limits: a file of junk lines keeps only a few
// reasons, a legal zones line over 1 MB is read, the live journal's own stop line becomes a
// warning, and a journal whose first line names another flight record is left out.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { JOURNAL_READ_LIMITS, JournalTimeline } from '../../app/station/replay/journal-timeline';

const T0 = 1_800_000_000_000;
const workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-journal-limits-'));
after(() => rmSync(workDir, { recursive: true, force: true }));

const sessionLine = (tlog: string): string =>
  JSON.stringify({ t: T0, session: { version: 1, tlog } });
const logLine = (i: number, text: string): string =>
  JSON.stringify({ t: T0 + i, m: { type: 'log', entry: { timeMs: T0 + i, level: 'info', text } } });

function write(name: string, lines: string[]): string {
  const file = path.join(workDir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('junk lines are all counted but only the first 20 named', () => {
  const junk = Array.from({ length: 5000 }, (_, i) => `junk ${i}`);
  const file = write('junk.journal.jsonl', [logLine(0, 'first'), ...junk, logLine(9, 'last')]);
  const timeline = JournalTimeline.load(file);
  assert.equal(timeline.warnings.length, 1, timeline.warnings.join('\n'));
  const warning = timeline.warnings[0];
  assert.match(warning, /skipped 5000 line\(s\): line 2 \(not JSON\), /);
  assert.match(warning, /line 21 \(not JSON\) and 4980 more$/);
  assert.doesNotMatch(warning, /line 22 /);
  assert.deepEqual(
    timeline.viewAt(T0 + 10).log.map((entry) => entry.text),
    ['first', 'last'],
  );
});

test('items left out are counted; only the first 20 reasons are kept', () => {
  const targets = Array.from({ length: 30 }, (_, i) => ({ id: i, className: 'bear' }));
  const file = write('items.journal.jsonl', [
    JSON.stringify({ t: T0, m: { type: 'targets', targets } }),
  ]);
  const timeline = JournalTimeline.load(file);
  assert.equal(timeline.warnings.length, 1, timeline.warnings.join('\n'));
  assert.match(timeline.warnings[0], /left out 30 item\(s\) of a shape replay cannot show: /);
  assert.match(timeline.warnings[0], /and 10 more$/);
  assert.equal(timeline.warnings[0].match(/line 1 target/g)?.length, 20);
});

test('a zones line of 200 zones with 100 corners each (over 1 MB) is read', () => {
  const zones = Array.from({ length: 200 }, (_, z) => ({
    id: z + 1,
    name: `zone ${z + 1}`,
    kind: 'protected',
    polygon: Array.from({ length: 100 }, (_, c) => {
      const angle = (c / 100) * 2 * Math.PI;
      return {
        latDeg: 48 + z * 0.01 + 0.001 * Math.sin(angle) + 1e-12,
        lonDeg: -111 + 0.001 * Math.cos(angle) + 1e-12,
      };
    }),
    alertDistanceM: 50,
  }));
  const line = JSON.stringify({ t: T0 + 1, m: { type: 'zones', zones } });
  assert.ok(Buffer.byteLength(line) > 1024 * 1024, `${Buffer.byteLength(line)} bytes`);
  assert.ok(JOURNAL_READ_LIMITS.maxLineBytes >= 16 * 1024 * 1024);
  const file = write('zones.journal.jsonl', [sessionLine('zones.tlog'), line]);
  const timeline = JournalTimeline.load(file);
  assert.deepEqual(timeline.warnings, []);
  assert.equal(timeline.viewAt(T0 + 1).zones.length, 200);
});

test('the live journal stop line is a warning, not a skipped line', () => {
  const stop = JSON.stringify({ t: T0 + 5, stopped: 'journal reached 512 MB' });
  const file = write('stop.journal.jsonl', [sessionLine('stop.tlog'), logLine(1, 'before'), stop]);
  const timeline = JournalTimeline.load(file);
  assert.deepEqual(timeline.warnings, [
    'the journal stopped during the session: journal reached 512 MB',
  ]);
  assert.deepEqual(
    timeline.viewAt(T0 + 10).log.map((entry) => entry.text),
    ['before'],
  );
});

test('a journal whose session line names another tlog is left out', () => {
  const lines = [sessionLine('OTHER.tlog'), logLine(1, 'from another flight')];
  const file = write('FOO.journal.jsonl', lines);
  const tlog = path.join(workDir, 'FOO.tlog');
  const timeline = JournalTimeline.load(file, JOURNAL_READ_LIMITS, tlog);
  assert.deepEqual(timeline.warnings, [
    'FOO.journal.jsonl belongs to OTHER.tlog, not FOO.tlog: left out',
  ]);
  assert.equal(timeline.startMs, null);
  assert.deepEqual(timeline.viewAt(T0 + 10).log, []);

  // A session line that holds the path the record had where it was written names it too.
  const moved = write('BAZ.journal.jsonl', [sessionLine('/media/truck/BAZ.tlog'), logLine(1, 'x')]);
  const movedRead = JournalTimeline.load(
    moved,
    JOURNAL_READ_LIMITS,
    path.join(workDir, 'BAZ.tlog'),
  );
  assert.deepEqual(movedRead.warnings, []);

  // Its own journal is read as before.
  const own = write('BAR.journal.jsonl', [sessionLine('BAR.tlog'), logLine(1, 'ours')]);
  const read = JournalTimeline.load(own, JOURNAL_READ_LIMITS, path.join(workDir, 'BAR.tlog'));
  assert.deepEqual(read.warnings, []);
  assert.deepEqual(
    read.viewAt(T0 + 10).log.map((entry) => entry.text),
    ['ours'],
  );
});
