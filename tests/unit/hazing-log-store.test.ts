// The hazing log store on a real disk: every change appended as a JSON line, read back whole,
// a torn last line skipped, and a disk that fails reported once while the log goes on.

import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { distanceM } from '../../app/core/geodesy';
import type { PatternSettings } from '../../app/core/patterns';
import { setLogSink, type LogLevel } from '../../app/core/log';
import {
  HazingLogStore,
  readHazingLog,
  readHazingLogFile,
  type HazingEventStart,
} from '../../app/station/hazing/hazing-log-store';

let workDir: string;
before(() => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-hazing-log-'));
});
after(() => {
  setLogSink(() => {});
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const OPERATOR = { operatorName: 'Ada Grizzly', agencyOrPermitId: 'MT FWP 2026-17' };
const START_MS = Date.UTC(2026, 11, 4, 21, 58, 0);
const PUSH: PatternSettings = {
  kind: 'push',
  safeBearingDeg: 270,
  safeZoneId: null,
  standoffM: 30,
  altitudeAglM: 25,
  successDistanceM: 200,
  onSuccess: 'hold',
};
const BEAR_START = { latDeg: 48.17, lonDeg: -111.95 };
const BEAR_END = { latDeg: 48.17, lonDeg: -111.953 };

function startInit(startedMs = START_MS): HazingEventStart {
  return {
    trackId: 7,
    pattern: PUSH,
    startedMs,
    bearStart: BEAR_START,
    droneStart: { latDeg: 48.1702, lonDeg: -111.9496 },
  };
}

const fileIn = (name: string) => path.join(workDir, name, 'hazing-log.jsonl');

test('hazing log store: start needs an operator; a bad operator is refused', (t) => {
  const store = new HazingLogStore({ filePath: null });
  t.after(() => store.dispose());
  assert.equal(store.operator, null);
  assert.throws(() => store.start(startInit()), /no hazing operator/);
  assert.throws(
    () => store.setOperator({ operatorName: ' ', agencyOrPermitId: 'x' }),
    /operator name \(operatorName\) is required: it is empty/,
  );
  assert.equal(store.operator, null);
  store.setOperator({ operatorName: ' Ada ', agencyOrPermitId: 'USFWS ' });
  assert.deepEqual(store.operator, { operatorName: 'Ada', agencyOrPermitId: 'USFWS' });
  assert.equal(store.start(startInit()).operator.operatorName, 'Ada');
});

test('hazing log store: an event from start to end, every change on disk, read back whole', (t) => {
  const file = fileIn('whole');
  const store = new HazingLogStore({ filePath: file });
  t.after(() => store.dispose());
  const heard: string[] = [];
  const listening = store.onChange((event) => heard.push(`${event.id} ${event.actions.length}`));
  store.setOperator(OPERATOR);

  const started = store.start(startInit());
  assert.equal(started.id, '2026-12-04T21-58-00Z-1');
  assert.deepEqual(started.actions, [
    { timeMs: START_MS, action: 'start', detail: 'push bear track 7' },
  ]);
  assert.equal(started.outcome, null);
  store.action(started.id, 'nudge', 'bearing -10 deg', START_MS + 20_000);
  store.action(started.id, 'abort', 'operator pressed ABORT', START_MS + 40_000);
  const ended = store.end(started.id, {
    outcome: 'aborted',
    bearEnd: BEAR_END,
    droneEnd: { latDeg: 48.1701, lonDeg: -111.9526 },
    endedMs: START_MS + 41_500,
  });
  // The operator's choice after an ABORT still belongs to the event.
  store.action(started.id, 'return-home', 'after abort', START_MS + 45_000);
  assert.equal(ended.outcome, 'aborted');
  assert.equal(ended.durationS, 41.5);
  assert.ok(Math.abs(ended.bearMovedM! - distanceM(BEAR_START, BEAR_END)) < 1e-9);
  assert.ok(ended.bearMovedM! > 200 && ended.bearMovedM! < 250, String(ended.bearMovedM));
  assert.throws(
    () => store.end(started.id, { outcome: 'success', bearEnd: null, droneEnd: null }),
    /already ended/,
  );
  assert.throws(() => store.action('nope', 'nudge', ''), /no hazing event "nope"/);
  assert.throws(
    () =>
      store.end(store.start(startInit()).id, {
        outcome: 'won' as never,
        bearEnd: null,
        droneEnd: null,
      }),
    /unknown outcome "won"/,
  );

  const second = store.events()[1];
  assert.equal(second.id, '2026-12-04T21-58-00Z-2', 'ids are unique within the store');
  assert.equal(heard.length, 6);
  listening.dispose();
  store.action(second.id, 'speaker-on', '');
  assert.equal(heard.length, 6, 'a disposed listener hears nothing more');

  // One line per change, each a whole record; the file rebuilds exactly what the store holds.
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  assert.deepEqual(
    lines.map((line) => {
      const record = JSON.parse(line) as { kind: string; change?: string };
      return record.change ?? record.kind;
    }),
    ['operator', 'start', 'action', 'action', 'end', 'action', 'start', 'action'],
  );
  assert.deepEqual(readHazingLog(file), store.events());
  const read = readHazingLogFile(file);
  assert.deepEqual(
    read.operators.map((o) => o.operator),
    [OPERATOR],
  );
  assert.equal(read.skippedLines, 0);
  assert.equal(read.tornLastLine, false);

  const json = JSON.parse(store.toJson()) as { operator: unknown; events: unknown[] };
  assert.deepEqual(json, { operator: OPERATOR, events: store.events() });
  const csv = store.toCsv().split('\r\n');
  assert.equal(csv.length, 4, 'header, two events, the final line break');
  assert.match(csv[1], /^2026-12-04T21-58-00Z-1,Ada Grizzly,MT FWP 2026-17,7,push,/);
  assert.equal(store.writeError, null);
});

test('hazing log store: copies out, so callers cannot change the record', (t) => {
  const store = new HazingLogStore({ filePath: null });
  t.after(() => store.dispose());
  store.setOperator(OPERATOR);
  const event = store.start(startInit());
  event.actions.push({ timeMs: 0, action: 'forged', detail: '' });
  store.events()[0].operator.operatorName = 'Someone Else';
  assert.deepEqual(
    store.events()[0].actions.map((a) => a.action),
    ['start'],
  );
  assert.equal(store.events()[0].operator.operatorName, 'Ada Grizzly');
});

test('hazing log store: a torn last line is skipped and counted; reopening goes on', (t) => {
  const file = fileIn('torn');
  const first = new HazingLogStore({ filePath: file });
  first.setOperator(OPERATOR);
  const one = first.start(startInit());
  first.end(one.id, {
    outcome: 'success',
    bearEnd: BEAR_END,
    droneEnd: null,
    endedMs: START_MS + 1,
  });
  first.dispose();
  // A kill in the middle of a write leaves half a line.
  const whole = readFileSync(file, 'utf8');
  const lastLine = whole.trimEnd().split('\n').at(-1)!;
  appendFileSync(file, lastLine.slice(0, 40));

  const read = readHazingLogFile(file);
  assert.equal(read.skippedLines, 1);
  assert.equal(read.tornLastLine, true);
  assert.deepEqual(
    read.events.map((e) => [e.id, e.outcome]),
    [[one.id, 'success']],
  );

  const second = new HazingLogStore({ filePath: file });
  t.after(() => second.dispose());
  second.setOperator(OPERATOR);
  const two = second.start(startInit());
  assert.notEqual(two.id, one.id, 'a new id never repeats one already in the file');
  const again = readHazingLogFile(file);
  assert.deepEqual(
    again.events.map((e) => e.id),
    [one.id, two.id],
  );
  assert.equal(again.skippedLines, 1, 'the torn line stays skipped, the next record is whole');
  assert.equal(again.tornLastLine, false);
});

test('hazing log store: lines that are not records are skipped, not fatal', () => {
  const file = path.join(workDir, 'junk.jsonl');
  writeFileSync(file, '{"kind":"event"}\nnot json\n[1,2]\n\n');
  assert.deepEqual(readHazingLogFile(file), {
    events: [],
    operators: [],
    skippedLines: 3,
    tornLastLine: false,
  });
});

test('hazing log store: a disk that fails is reported once; the log goes on in memory', (t) => {
  const errors: string[] = [];
  setLogSink((level: LogLevel, scope, message) => {
    if (level === 'error') errors.push(`${scope}: ${message}`);
  });
  t.after(() => setLogSink(() => {}));

  // /dev/full opens, then every write fails with ENOSPC.
  const full = new HazingLogStore({ filePath: '/dev/full' });
  t.after(() => full.dispose());
  full.setOperator(OPERATOR);
  const event = full.start(startInit());
  full.action(event.id, 'nudge', 'standoff +5 m');
  full.end(event.id, { outcome: 'finished', bearEnd: null, droneEnd: null });
  assert.deepEqual(
    full.events()[0].actions.map((a) => a.action),
    ['start', 'nudge'],
  );
  assert.equal(full.events()[0].outcome, 'finished');
  assert.match(full.writeError ?? '', /cannot write the hazing log \/dev\/full \(ENOSPC/);
  assert.equal(errors.length, 1, errors.join('\n'));
  assert.match(errors[0], /^hazing-log: cannot write .* kept in memory only from now on$/);

  // A folder that cannot be made (its parent is a file): reported once at start.
  const blocker = path.join(workDir, 'a-file');
  writeFileSync(blocker, '');
  const blocked = new HazingLogStore({ filePath: path.join(blocker, 'sub', 'log.jsonl') });
  t.after(() => blocked.dispose());
  blocked.setOperator(OPERATOR);
  blocked.start(startInit());
  assert.match(blocked.writeError ?? '', /^cannot open the hazing log .*a-file\/sub\/log\.jsonl/);
  assert.equal(blocked.events().length, 1);
  assert.equal(errors.length, 2);
});

test('hazing log store: a missing folder is made', (t) => {
  const file = path.join(workDir, 'deep', 'er', 'still', 'hazing.jsonl');
  const store = new HazingLogStore({ filePath: file });
  t.after(() => store.dispose());
  store.setOperator(OPERATOR);
  assert.equal(store.writeError, null);
  assert.equal(readHazingLogFile(file).operators.length, 1);
});
