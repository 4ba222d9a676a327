// A report over a real log with a long gap and sessions written over each other: each break
// in the span is an event at its place, in words that say what happened to the clock, and the
// events run in record (axis) order so that the sessions do not interleave.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { sharedDir } from '../../app/station/paths';
import { reportBreakText, ReplaySession } from '../../app/station/replay/replay-session';

const GAP_LOG = path.join(sharedDir(), 'fixtures', 'tlog', 'olivieri_20211208-151717.tlog');

let workDir = '';
let session: ReplaySession;

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-report-breaks-'));
  session = ReplaySession.open(GAP_LOG, { cacheDir: path.join(workDir, 'cache') });
  await session.whenReady;
  assert.equal(session.status().error, null);
});

after(() => {
  session?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** [time, kind, label] of each events.csv row (no label here holds a comma). */
function csvEvents(dir: string): Array<[string, string, string]> {
  return readFileSync(path.join(dir, 'events.csv'), 'utf8')
    .trim()
    .split('\r\n')
    .slice(1)
    .map((line) => {
      const [time, kind, ...rest] = line.split(',');
      return [time, kind, rest.slice(0, -2).join(',').replace(/^"|"$/g, '')];
    });
}

test('the break texts say how long, and what the clock did', () => {
  const hour = 3_600_000_000;
  const base = Date.UTC(2021, 11, 8, 18, 18, 14) * 1000;
  const gap = { kind: 'gap' as const, axisStartUs: 0, axisEndUs: 1, fromUs: base, toUs: base };
  assert.equal(
    reportBreakText({ ...gap, toUs: base + 56 * 60e6 + 6e6 }),
    'gap 56 min: nothing recorded 18:18:14-19:14:20 UTC',
  );
  assert.equal(
    reportBreakText({ ...gap, kind: 'jump-back', toUs: base - 56e6 - 8 * 60e6 }),
    'log jumps back 9 min: another session starts (clock back to 18:09:18 UTC)',
  );
  assert.equal(
    reportBreakText({ ...gap, toUs: base + 2 * hour }),
    'gap 2 h: nothing recorded 18:18:14-20:18:14 UTC',
  );
});

test('each break of the span is an event at its place, in record order', async () => {
  const breaks = session.breaksUs();
  assert.ok(breaks.some((b) => b.kind === 'gap'));
  assert.ok(breaks.some((b) => b.kind === 'jump-back'));
  const written = await session.report(0, session.axisEndUs, path.join(workDir, 'whole'));
  const rows = csvEvents(written.dir);
  const breakRows = rows.filter(([, kind]) => kind === 'gap' || kind === 'jump-back');
  assert.deepEqual(
    breakRows.map(([, , label]) => label),
    breaks.map(reportBreakText),
  );
  assert.match(breakRows.find(([, k]) => k === 'gap')![2], /^gap \d+ min: nothing recorded /);
  // Record order: every marker and break by its place on the axis (a break after what sits
  // at its start), which after a jump back is not time order.
  const expected = [
    ...session.markers.map((m) => ({ axisUs: m.axisMs * 1000, rank: 0, label: m.label })),
    ...breaks.map((b) => ({ axisUs: b.axisStartUs, rank: 1, label: reportBreakText(b) })),
  ].sort((a, b) => a.axisUs - b.axisUs || a.rank - b.rank);
  assert.deepEqual(
    rows.map(([, , label]) => label),
    expected.map((item) => item.label),
  );
  const times = rows.map(([time]) => Date.parse(time));
  assert.ok(
    times.some((timeMs, i) => i > 0 && timeMs < times[i - 1]),
    'a second session follows the first, its clock earlier',
  );
  const html = readFileSync(path.join(written.dir, 'report.html'), 'utf8');
  assert.match(html, /<tr data-kind="jump-back">/);
  assert.match(html, /<tr data-kind="gap">/);
});

test('a span without breaks lists none', async () => {
  const first = session.breaksUs()[0];
  const written = await session.report(0, first.axisStartUs - 1, path.join(workDir, 'before'));
  const kinds = csvEvents(written.dir).map(([, kind]) => kind);
  assert.ok(!kinds.includes('gap') && !kinds.includes('jump-back'), kinds.join(' '));
});
