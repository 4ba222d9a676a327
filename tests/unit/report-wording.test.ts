// The report's words and times: T+ from the same truncated seconds as the time shown, events
// in the order given (record order), plurals of class names, a hold's rule said once, and
// coordinates that never wrap inside a number.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { actionDetailText, classPlural } from '../../app/station/report/html';
import { writeIncidentReport, type ReportInput } from '../../app/station/report/report';
import { makeReportInput, T0_MS } from './report-fixture';

let workDir = '';
let html = '';
let eventsCsv = '';
/** The span starts 0.7 s into a second, as a span marked on the screen does. */
const FROM_MS = T0_MS - 10_000 + 700;

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-report-wording-'));
  const input: ReportInput = makeReportInput(workDir).input;
  input.fromMs = FROM_MS;
  input.events = [
    { timeMs: T0_MS + 6_100, kind: 'command', label: 'same second A' },
    { timeMs: T0_MS + 6_509, kind: 'hazing-start', label: 'same second B' },
    { timeMs: T0_MS + 6_964, kind: 'detection', label: 'bear #1 first seen' },
    // After a clock jump back: listed where the record has it, not sorted in by time.
    { timeMs: T0_MS + 3_000, kind: 'jump-back', label: 'log jumps back 4 s' },
    { timeMs: T0_MS + 4_000, kind: 'log', label: 'second session' },
  ];
  const person = input.tracks.find((track) => track.className === 'person');
  assert.ok(person);
  input.tracks.push({ ...person, trackId: 35 });
  input.tracks.push({ ...person, trackId: 41, className: 'dog' });
  input.tracks.push({ ...person, trackId: 42, className: 'dog' });
  input.hazingEvents[0].actions.push({
    timeMs: T0_MS + 170_000,
    action: 'hold',
    detail: 'person: person 29.1 m from the path; keep 30 m',
  });
  const written = await writeIncidentReport(input, path.join(workDir, 'report'));
  html = readFileSync(path.join(written.dir, 'report.html'), 'utf8');
  eventsCsv = readFileSync(path.join(written.dir, 'events.csv'), 'utf8');
});

after(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

/** [time, T+, label] of each row of the events table. */
function eventRows(): Array<[string, string, string]> {
  const table = /<table class="events">([^]*?)<\/table>/.exec(html)?.[1] ?? '';
  return [...table.matchAll(/<tr data-kind="[^"]*">([^]*?)<\/tr>/g)].map((row) => {
    const cells = [...row[1].matchAll(/<td[^>]*>([^]*?)<\/td>/g)].map((cell) => cell[1]);
    return [cells[0], cells[1], cells[3]];
  });
}

test('rows at the same shown second show the same T+, counted in whole shown seconds', () => {
  const rows = eventRows();
  const [a, b, sighting] = rows;
  assert.equal(a[0], '23:58:06 UTC');
  assert.equal(b[0], '23:58:06 UTC');
  // 23:57:50 (shown, 0.7 s into it) to 23:58:06 is 16 whole seconds on the clock.
  assert.equal(a[1], 'T+0:16');
  assert.equal(b[1], 'T+0:16');
  // 6.964 s reads as second 6, like the key frame caption, never 7.
  assert.deepEqual(sighting.slice(0, 2), ['23:58:06 UTC', 'T+0:16']);
  assert.match(html, /From<\/th><td>2026-12-04 23:57:50 UTC/);
});

test('events keep the order given: a second session after a jump back is not sorted in', () => {
  assert.deepEqual(
    eventRows().map((row) => row[2]),
    [
      'same second A',
      'same second B',
      'bear #1 first seen',
      'log jumps back 4 s',
      'second session',
    ],
  );
  const csvLabels = eventsCsv
    .trim()
    .split('\r\n')
    .slice(1)
    .map((line) => line.split(',')[2]);
  assert.deepEqual(csvLabels, [
    'same second A',
    'same second B',
    'bear #1 first seen',
    'log jumps back 4 s',
    'second session',
  ]);
  assert.match(html, /<tr data-kind="jump-back">/);
});

test('the summary counts people and dogs in their plurals', () => {
  assert.match(html, /also 2 people, 2 dogs/);
  assert.equal(classPlural('person'), 'people');
  assert.equal(classPlural('sheep'), 'sheep');
  assert.equal(classPlural('bus'), 'buses');
  assert.equal(classPlural('wine glass'), 'wine glasses');
  assert.equal(classPlural('teddy bear'), 'teddy bears');
  assert.equal(classPlural('knife'), 'knives');
  assert.equal(classPlural('mouse'), 'mice');
});

test("a hold's rule is said once", () => {
  assert.match(html, /<td>person 29\.1 m from the path; keep 30 m<\/td>/);
  assert.doesNotMatch(html, /person: person/);
  assert.equal(actionDetailText('link: link lost: no setpoints'), 'link lost: no setpoints');
  assert.equal(
    actionDetailText('bear-standoff: bear-standoff: bear 12 m from the path'),
    'bear-standoff: bear 12 m from the path',
  );
  assert.equal(
    actionDetailText('no-fly-zone: Ranch: the path crosses it'),
    'no-fly-zone: Ranch: the path crosses it',
  );
  assert.equal(actionDetailText('push toward Open range'), 'push toward Open range');
});

test('the drone position column never wraps inside a number', () => {
  const cells = [...html.matchAll(/<td class="coords"><code>(-?[\d.]+, -?[\d.]+)<\/code><\/td>/g)];
  assert.ok(cells.length > 0, 'events carry the drone position');
  const style = /<style>([^]*?)<\/style>/.exec(html)?.[1] ?? '';
  const rule = /td\.coords, td\.coords code \{([^}]*)\}/.exec(style)?.[1] ?? '';
  assert.match(rule, /white-space: nowrap/);
  assert.match(rule, /word-break: normal/);
});
