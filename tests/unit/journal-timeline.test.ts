// The journal read back for replay: the view at any time is the picture a live client had then
// (folded as app/ui/api/client.ts folds messages), whichever order the playhead visits times
// in; a dropped track keeps its last known place; alerts, hazing events and operator commands
// make markers; broken lines are skipped and named.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { HazingEvent } from '../../app/core/hazing-log';
import type { ActionStatus, LogEntry, ServerMessage } from '../../app/core/protocol';
import type { LatLon, MapTarget } from '../../app/core/types';
import type { ProtectedZone, ZoneAlert } from '../../app/core/zones';
import { SessionJournal } from '../../app/station/journal';
import { JournalTimeline, type JournalView } from '../../app/station/replay/journal-timeline';
import { mergeAlert, mergeHazingEvent } from '../../app/core/screen-fold';

const T0 = 1_800_000_000_000;
const P1: LatLon = { latDeg: 48.171, lonDeg: -111.951 };
const P2: LatLon = { latDeg: 48.1712, lonDeg: -111.9505 };
const Q1: LatLon = { latDeg: 48.169, lonDeg: -111.949 };
const OPERATOR = { operatorName: 'Ana Biologist', agencyOrPermitId: 'MT-FWP-7' };
const ORBIT = {
  kind: 'orbit' as const,
  radiusM: 40,
  speedMps: 4,
  altitudeAglM: 25,
  clockwise: true,
};

let root = '';
before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-journal-timeline-'));
});
after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const zone: ProtectedZone = {
  id: 1,
  name: 'Silo',
  alertDistanceM: 20,
  polygon: [
    { latDeg: 48.17, lonDeg: -111.952 },
    { latDeg: 48.172, lonDeg: -111.952 },
    { latDeg: 48.172, lonDeg: -111.95 },
  ],
};

function target(id: number, className: string, position: LatLon, lastSeenMs: number): MapTarget {
  return {
    id,
    className,
    position,
    score: 0.9,
    firstSeenMs: T0 + 900,
    lastSeenMs,
    hits: 5,
  };
}

function alert(id: number, trackId: number, acknowledgedMs: number | null): ZoneAlert {
  return {
    id,
    trackId,
    className: 'bear',
    zoneId: 1,
    zoneName: 'Silo',
    distanceM: 0,
    inside: true,
    position: P1,
    raisedMs: T0 + 2000,
    acknowledgedMs,
  };
}

const eventStart: HazingEvent = {
  id: 'E1',
  operator: OPERATOR,
  trackId: 1,
  pattern: ORBIT,
  startedMs: T0 + 3000,
  endedMs: null,
  bearStart: P2,
  bearEnd: null,
  droneStart: Q1,
  droneEnd: null,
  bearMovedM: null,
  durationS: null,
  outcome: null,
  actions: [{ timeMs: T0 + 3000, action: 'start', detail: 'orbit bear track 1' }],
};
const eventAbort: HazingEvent = {
  ...eventStart,
  actions: [...eventStart.actions, { timeMs: T0 + 6000, action: 'abort', detail: 'ABORT' }],
};
const eventEnd: HazingEvent = {
  ...eventAbort,
  endedMs: T0 + 6001,
  bearEnd: P1,
  droneEnd: Q1,
  bearMovedM: 20,
  durationS: 3.001,
  outcome: 'aborted',
};

function action(phase: ActionStatus['phase']): ActionStatus {
  return {
    kind: 'orbit',
    phase,
    eventId: 'E1',
    targetId: 1,
    settings: ORBIT,
    text: phase,
    violation: null,
    setpoint: null,
    preview: [],
    bearStart: P2,
    bearMovedM: null,
    startedMs: T0 + 3000,
    awaitingChoice: phase === 'aborted',
  };
}

const logMessage = (t: number, text: string): ServerMessage => ({
  type: 'log',
  entry: { timeMs: t, level: 'info', text },
});

type Step =
  | { t: number; m: ServerMessage }
  | { t: number; command: Parameters<SessionJournal['command']>[1]; id: number }
  | { t: number; result: Parameters<SessionJournal['result']>[1]; id: number };

/** A session as the station would have written it: what happened, in order. */
const STEPS: Step[] = [
  { t: T0, m: { type: 'zones', zones: [zone] } },
  { t: T0, m: { type: 'people', people: [] } },
  { t: T0, m: { type: 'hazing-operator', operator: null } },
  { t: T0, m: { type: 'action', action: null } },
  { t: T0, m: { type: 'targets', targets: [] } },
  { t: T0, m: logMessage(T0, 'Recording the flight to /r/flight.tlog') },
  {
    t: T0 + 1000,
    m: {
      type: 'detections',
      frameId: 10,
      frameTimeMs: T0 + 950,
      detections: [
        {
          frameId: 10,
          frameTimeMs: T0 + 950,
          classId: 21,
          className: 'bear',
          score: 0.9,
          box: [1, 2, 3, 4],
          imageWidth: 640,
          imageHeight: 480,
          ground: P1,
          groundError: null,
          trackId: 1,
        },
      ],
    },
  },
  { t: T0 + 1000, m: { type: 'targets', targets: [target(1, 'bear', P1, T0 + 950)] } },
  {
    t: T0 + 1500,
    m: {
      type: 'targets',
      targets: [target(1, 'bear', P2, T0 + 1450), target(2, 'person', Q1, T0 + 1450)],
    },
  },
  { t: T0 + 2000, m: { type: 'alert', alert: alert(1, 1, null) } },
  { t: T0 + 2000, m: logMessage(T0 + 2000, 'ALERT: bear #1 is inside "Silo"') },
  { t: T0 + 2500, id: 1, command: { kind: 'set-operator', operator: OPERATOR } },
  { t: T0 + 2500, m: logMessage(T0 + 2500, 'Operator: hazing operator: Ana (MT-FWP-7)') },
  { t: T0 + 2500, m: { type: 'hazing-operator', operator: OPERATOR } },
  { t: T0 + 2500, m: logMessage(T0 + 2500, 'Hazing operator: Ana') },
  { t: T0 + 2501, id: 1, result: { ok: true, result: 'ACCEPTED', text: 'Hazing operator: Ana' } },
  { t: T0 + 3000, id: 2, command: { kind: 'start-pattern', targetId: 1, settings: ORBIT } },
  { t: T0 + 3000, m: logMessage(T0 + 3000, 'Operator: start a pattern on target 1') },
  { t: T0 + 3000, m: { type: 'hazing-event', event: eventStart } },
  { t: T0 + 3000, m: { type: 'action', action: action('flying') } },
  { t: T0 + 3001, m: logMessage(T0 + 3001, 'Orbit started on bear #1') },
  {
    t: T0 + 3002,
    id: 2,
    result: { ok: true, result: 'ACCEPTED', text: 'Orbit started on bear #1' },
  },
  // The bear drops off the map.
  { t: T0 + 4000, m: { type: 'targets', targets: [target(2, 'person', Q1, T0 + 3950)] } },
  { t: T0 + 5000, id: 3, command: { kind: 'ack-alert', alertId: 1 } },
  { t: T0 + 5000, m: { type: 'alert', alert: alert(1, 1, T0 + 5000) } },
  { t: T0 + 5000, m: logMessage(T0 + 5000, 'Alert acknowledged: bear #1 inside "Silo"') },
  {
    t: T0 + 5001,
    id: 3,
    result: { ok: true, result: 'ACCEPTED', text: 'Alert acknowledged: bear #1 inside "Silo"' },
  },
  { t: T0 + 6000, id: 4, command: { kind: 'abort' } },
  { t: T0 + 6000, m: logMessage(T0 + 6000, 'Operator: ABORT') },
  { t: T0 + 6000, m: { type: 'hazing-event', event: eventAbort } },
  { t: T0 + 6001, m: { type: 'hazing-event', event: eventEnd } },
  { t: T0 + 6001, m: { type: 'action', action: action('aborted') } },
  { t: T0 + 6002, id: 4, result: { ok: true, result: 'ACCEPTED', text: 'Holding: choose' } },
  { t: T0 + 7000, m: { type: 'alert', alert: { ...alert(2, 1, null), raisedMs: T0 + 7000 } } },
  { t: T0 + 8000, id: 5, command: { kind: 'land' } },
];

function writeJournal(file: string, steps: Step[]): void {
  const journal = SessionJournal.open(file);
  for (const step of steps) {
    if ('m' in step) journal.record(step.m, step.t);
    else if ('command' in step) journal.command(step.id, step.command, step.t);
    else journal.result(step.id, step.result, step.t);
  }
  journal.dispose();
}

/** What app/ui/api/client.ts would show after hearing every message up to `timeMs`. */
function liveClientAt(timeMs: number): Omit<JournalView, 'log' | 'tracksLastKnown'> {
  const view: Omit<JournalView, 'log' | 'tracksLastKnown'> = {
    targets: [],
    action: null,
    zones: [],
    alerts: [],
    people: [],
    hazingOperator: null,
    hazingEvents: [],
  };
  for (const step of STEPS) {
    if (step.t > timeMs || !('m' in step)) continue;
    const m = step.m;
    if (m.type === 'targets') view.targets = m.targets;
    if (m.type === 'action') view.action = m.action;
    if (m.type === 'zones') view.zones = m.zones;
    if (m.type === 'people') view.people = m.people;
    if (m.type === 'hazing-operator') view.hazingOperator = m.operator;
    if (m.type === 'alert') view.alerts = mergeAlert(view.alerts, m.alert);
    if (m.type === 'hazing-event') view.hazingEvents = mergeHazingEvent(view.hazingEvents, m.event);
  }
  return view;
}

function withoutLog(view: JournalView): Omit<JournalView, 'log' | 'tracksLastKnown'> {
  const { log: _log, tracksLastKnown: _tracks, ...rest } = view;
  return rest;
}

let timeline: JournalTimeline;
before(() => {
  const file = path.join(root, 'session.journal.jsonl');
  writeJournal(file, STEPS);
  timeline = JournalTimeline.load(file);
});

test('the view at every moment is what a live client had then', () => {
  assert.deepEqual(timeline.warnings, []);
  assert.equal(timeline.endMs, T0 + 8000);
  for (let dt = -500; dt <= 9000; dt += 250) {
    assert.deepEqual(withoutLog(timeline.viewAt(T0 + dt)), liveClientAt(T0 + dt), `at +${dt}`);
  }
  const empty = timeline.viewAt(T0 - 1);
  assert.deepEqual(empty.log, []);
  assert.deepEqual(empty.tracksLastKnown, []);
});

test('alerts raised then acknowledged; hazing events in their state at the time', () => {
  assert.deepEqual(timeline.viewAt(T0 + 1999).alerts, []);
  assert.deepEqual(timeline.viewAt(T0 + 2000).alerts, [alert(1, 1, null)]);
  assert.deepEqual(timeline.viewAt(T0 + 5000).alerts, [alert(1, 1, T0 + 5000)]);
  assert.deepEqual(
    timeline.viewAt(T0 + 7000).alerts.map((a) => [a.id, a.acknowledgedMs]),
    [
      [1, T0 + 5000],
      [2, null],
    ],
  );
  assert.deepEqual(timeline.viewAt(T0 + 2999).hazingEvents, []);
  assert.deepEqual(timeline.viewAt(T0 + 3000).hazingEvents, [eventStart]);
  assert.deepEqual(timeline.viewAt(T0 + 6000).hazingEvents, [eventAbort]);
  assert.deepEqual(timeline.viewAt(T0 + 6001).hazingEvents, [eventEnd]);
  assert.equal(timeline.viewAt(T0 + 3500).action?.phase, 'flying');
  assert.equal(timeline.viewAt(T0 + 6500).action?.phase, 'aborted');
  assert.deepEqual(timeline.viewAt(T0 + 2600).hazingOperator, OPERATOR);

  assert.deepEqual(timeline.hazingEvents(T0 + 2000, T0 + 3500), [eventEnd]);
  assert.deepEqual(timeline.hazingEvents(T0 + 6500, T0 + 9000), []);
  assert.deepEqual(timeline.hazingEvents(T0, T0 + 2999), []);
});

test('a track that drops off the map keeps its last known place; people are not bears', () => {
  assert.deepEqual(timeline.viewAt(T0 + 999).tracksLastKnown, []);
  assert.deepEqual(timeline.viewAt(T0 + 1200).tracksLastKnown, [
    { trackId: 1, className: 'bear', position: P1, timeMs: T0 + 950 },
  ]);
  const dropped = timeline.viewAt(T0 + 4500);
  assert.deepEqual(
    dropped.targets.map((t) => t.id),
    [2],
  );
  assert.deepEqual(dropped.tracksLastKnown, [
    { trackId: 1, className: 'bear', position: P2, timeMs: T0 + 1450 },
  ]);
  assert.deepEqual(timeline.tracks(T0, T0 + 9000), [
    {
      trackId: 1,
      className: 'bear',
      points: [
        { ...P1, timeMs: T0 + 950 },
        { ...P2, timeMs: T0 + 1450 },
      ],
    },
    {
      trackId: 2,
      className: 'person',
      points: [
        { ...Q1, timeMs: T0 + 1450 },
        { ...Q1, timeMs: T0 + 3950 },
      ],
    },
  ]);
  assert.deepEqual(
    timeline.tracks(T0 + 1000, T0 + 1500).map((t) => [t.trackId, t.points.length]),
    [
      [1, 1],
      [2, 1],
    ],
  );
  assert.deepEqual(timeline.detectionsFor(10)?.frameTimeMs, T0 + 950);
  assert.equal(timeline.detectionsFor(11), null);
  assert.equal(timeline.detectionsAt(T0 + 999), null);
  assert.equal(timeline.detectionsAt(T0 + 5000)?.frameId, 10);
});

test('operator commands are in the log once each, with their outcomes', () => {
  const texts = (timeMs: number): string[] =>
    timeline.viewAt(timeMs).log.map((entry: LogEntry) => entry.text);
  assert.deepEqual(texts(T0 + 9000), [
    'Recording the flight to /r/flight.tlog',
    'ALERT: bear #1 is inside "Silo"',
    'Operator: hazing operator: Ana (MT-FWP-7)',
    'Hazing operator: Ana',
    'Operator: start a pattern on target 1',
    'Orbit started on bear #1',
    // The station does not log an acknowledgement as an operator line: the journal does.
    'Operator: acknowledge alert 1',
    'Alert acknowledged: bear #1 inside "Silo"',
    'Operator: ABORT',
    // Outcomes the station did not log are added from the result.
    'Holding: choose',
    'Operator: land',
  ]);
  assert.deepEqual(texts(T0 + 2500), [
    'Recording the flight to /r/flight.tlog',
    'ALERT: bear #1 is inside "Silo"',
    'Operator: hazing operator: Ana (MT-FWP-7)',
    'Hazing operator: Ana',
  ]);
  const commands = timeline.commands();
  assert.deepEqual(
    commands.map((c) => [c.id, c.command.kind, c.outcome?.result ?? null]),
    [
      [1, 'set-operator', 'ACCEPTED'],
      [2, 'start-pattern', 'ACCEPTED'],
      [3, 'ack-alert', 'ACCEPTED'],
      [4, 'abort', 'ACCEPTED'],
      [5, 'land', null],
    ],
  );
});

test('markers: first sightings, alerts, hazing start and end, ABORT, other commands', () => {
  const markers = timeline.markers();
  assert.deepEqual(
    markers.map((m) => m.timeMs),
    [...markers.map((m) => m.timeMs)].sort((a, b) => a - b),
  );
  const byKind = (kind: string) =>
    markers.filter((m) => m.kind === kind).map((m) => [m.timeMs - T0, m.label]);
  // A sighting in detections is at its frame's capture time (950), not the line's (1000).
  assert.deepEqual(byKind('detection'), [
    [950, 'bear #1 first seen'],
    [1500, 'person #2 first seen'],
  ]);
  assert.deepEqual(byKind('alert'), [
    [2000, 'ALERT: bear #1 inside "Silo"'],
    [7000, 'ALERT: bear #1 inside "Silo"'],
  ]);
  assert.deepEqual(byKind('hazing-start'), [
    [3000, 'Hazing started: orbit on bear #1 (Ana Biologist)'],
  ]);
  assert.deepEqual(byKind('hazing-end'), [[6001, 'Hazing ended: orbit on bear #1, aborted']]);
  assert.deepEqual(byKind('abort'), [[6000, 'Operator: ABORT (ACCEPTED)']]);
  assert.deepEqual(
    byKind('command').map(([dt]) => dt),
    [2500, 3000, 5000, 8000],
  );
  assert.match(String(byKind('command')[3][1]), /^Operator: land \(no answer\)$/);
});

test('seeking back and forth gives the same view as seeking there once', () => {
  const times = Array.from({ length: 40 }, (_, i) => T0 - 300 + i * 230);
  const once = times.map((t) => JSON.stringify(JournalTimeline.load(null).viewAt(t)));
  assert.equal(new Set(once).size, 1, 'an empty timeline is empty everywhere');
  const forward = times.map((t) => timeline.viewAt(t));
  // A scattered order, twice over: nothing is left behind by an earlier seek.
  const order = times.map((_, i) => (i * 17) % times.length);
  for (const i of [...order, ...order.reverse()]) {
    assert.deepEqual(timeline.viewAt(times[i]), forward[i], `at +${times[i] - T0}`);
  }
  // A view handed out is the caller's: changing it changes nothing later.
  const before = JSON.stringify(timeline.viewAt(T0 + 7000));
  const view = timeline.viewAt(T0 + 7000);
  view.alerts.pop();
  view.targets.pop();
  view.log.length = 0;
  view.tracksLastKnown.length = 0;
  assert.equal(JSON.stringify(timeline.viewAt(T0 + 7000)), before);
});

test('broken lines are skipped, counted and named; the rest is read', () => {
  const file = path.join(root, 'broken.journal.jsonl');
  writeJournal(file, STEPS.slice(0, 9));
  const good = readFileSync(file, 'utf8').split('\n');
  const lines = [
    ...good.slice(0, 3),
    'this is not JSON',
    '{"t":1800000001234,"x":{"y":1}}',
    '{"m":{"type":"zones","zones":[]}}',
    `{"t":${T0 + 1},"m":{"type":"telepathy","words":"hello"}}`,
    `{"t":${T0 + 1},"m":{"type":"targets","targets":"none"}}`,
    ...good.slice(3).filter((line) => line !== ''),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  // A kill in the middle of writing a line.
  appendFileSync(file, `{"t":${T0 + 9000},"m":{"type":"targets","targ`);
  const broken = JournalTimeline.load(file);
  assert.equal(broken.warnings.length, 1, broken.warnings.join('\n'));
  const warning = broken.warnings[0];
  assert.match(warning, /broken\.journal\.jsonl: skipped 6 line\(s\)/);
  assert.match(warning, /line 4 \(not JSON\)/);
  assert.match(warning, /line 5 \(unknown shape\)/);
  assert.match(warning, /line 6 \(no time "t"\)/);
  assert.match(warning, /line 7 \(a message of unknown type "telepathy"\)/);
  assert.match(warning, /line 8 \(a "targets" message whose targets is not a list\)/);
  assert.match(warning, new RegExp(`line ${lines.length + 1} \\(cut short`));
  assert.deepEqual(withoutLog(broken.viewAt(T0 + 1600)), liveClientAt(T0 + 1600));
  assert.equal(broken.endMs, T0 + 1500);
});

test('no journal, or one from a newer station: empty, or what can be read, with a warning', () => {
  for (const missing of [null, path.join(root, 'none.journal.jsonl')]) {
    const empty = JournalTimeline.load(missing);
    assert.deepEqual(empty.warnings, []);
    assert.equal(empty.startMs, null);
    assert.equal(empty.endMs, null);
    assert.deepEqual(empty.markers(), []);
    assert.deepEqual(empty.tracks(0, Infinity), []);
    assert.equal(empty.detectionsAt(T0), null);
  }
  const folder = JournalTimeline.load(root);
  assert.equal(folder.warnings.length, 1);
  assert.match(folder.warnings[0], /cannot be read \(it is a folder\)/);

  const file = path.join(root, 'newer.journal.jsonl');
  writeFileSync(
    file,
    `{"t":${T0},"session":{"version":9,"tlog":"x.tlog"}}\n` +
      `{"t":${T0 + 1},"m":{"type":"zones","zones":[]}}\n`,
  );
  const newer = JournalTimeline.load(file);
  assert.match(newer.warnings.join('\n'), /is version 9, newer than this station reads \(1\)/);
  assert.equal(newer.startMs, T0);
});

test('the log holds the newest entries a live client keeps, up to the time asked', () => {
  const file = path.join(root, 'chatty.journal.jsonl');
  const steps: Step[] = Array.from({ length: 700 }, (_, i) => ({
    t: T0 + i * 10,
    m: logMessage(T0 + i * 10, `entry ${i}`),
  }));
  writeJournal(file, steps);
  const chatty = JournalTimeline.load(file);
  const at = (i: number) => chatty.viewAt(T0 + i * 10 + 5).log.map((entry) => entry.text);
  assert.deepEqual(
    at(10),
    Array.from({ length: 11 }, (_, i) => `entry ${i}`),
  );
  assert.equal(at(499).length, 300);
  assert.equal(at(499)[0], 'entry 200');
  assert.equal(at(499)[299], 'entry 499');
  assert.equal(at(699)[0], 'entry 400');
});

/** One journal line per message, as the station writes them. */
function journalOf(file: string, messages: unknown[]): void {
  const lines = messages.map((m, i) => JSON.stringify({ t: T0 + i, m }));
  writeFileSync(file, `${[`{"t":${T0},"session":{"version":1}}`, ...lines].join('\n')}\n`);
}

test('items the screens cannot draw are left out, each named by line; the rest is kept', () => {
  const file = path.join(root, 'shapes.journal.jsonl');
  const person = { id: 'mark-1', source: 'marked', position: P1, lastSeenMs: T0 };
  const hostile = '"><b id="pwn">ARMED</b>';
  journalOf(file, [
    // Lines 2-5: one good item beside bad ones in each list.
    {
      type: 'zones',
      zones: [zone, { id: 2, name: 'Yard', alertDistanceM: 50, polygon: 'nope' }],
    },
    { type: 'zones', zones: [zone, { ...zone, id: `1${hostile}` }] },
    { type: 'people', people: [person, { id: 'p1' }, { ...person, source: hostile }, null] },
    {
      type: 'targets',
      targets: [
        target(1, 'bear', P1, T0 + 5),
        { ...target(2, 'bear', P2, T0 + 5), position: { latDeg: '48.1', lonDeg: 'x' } },
        { ...target(3, 'bear', P2, T0 + 5), path: [{ latDeg: 48.1, lonDeg: -111 }] },
      ],
    },
    // Lines 6-10: messages with no usable whole.
    { type: 'alert', alert: { id: 3 } },
    { type: 'hazing-event', event: { id: 'h', startedMs: T0 } },
    { type: 'hazing-event', event: { ...eventStart, id: 'E9', operator: null } },
    { type: 'hazing-event', event: { ...eventStart, id: 'E8', actions: null } },
    { type: 'hazing-event', event: { ...eventStart, id: 'E7', bearStart: { latDeg: '48.17' } } },
    // Lines 11-13.
    { type: 'action', action: { kind: 5 } },
    { type: 'action', action: { ...action('flying'), preview: [P1, { latDeg: 91 }] } },
    { type: 'log', entry: { timeMs: T0, level: 'loud', text: 'x' } },
    // Lines 14-15: good.
    { type: 'alert', alert: alert(4, 1, null) },
    { type: 'hazing-event', event: eventStart },
    // Line 16: one detection of two with a className that is no text.
    {
      type: 'detections',
      frameId: 7,
      frameTimeMs: T0,
      detections: [
        { ...detectionOf('bear'), className: 7 },
        { ...detectionOf('bear'), box: [1, 2, 'x', 4] },
        detectionOf('bear'),
      ],
    },
  ]);
  const loaded = JournalTimeline.load(file);
  const warnings = loaded.warnings.join('\n');
  assert.match(warnings, /skipped 8 line\(s\)/);
  for (const [line, why] of [
    [6, /alert trackId missing is not a number/],
    [7, /hazing operator must be an object/],
    [8, /hazing operator must be an object/],
    [9, /hazing event actions is not a list/],
    [10, /hazing event bearStart: latDeg "48.17" is not a number/],
    [11, /action settings are not an object/],
    [12, /action preview 2: latDeg 91 is not a number/],
    [13, /entry level "loud" is not info, warn or error/],
  ] as const) {
    assert.match(warnings, new RegExp(`line ${line} \\(a "[a-z-]+" message: [^(]*${why.source}`));
  }
  assert.match(warnings, /left out 9 item\(s\) of a shape replay cannot show/);
  assert.match(warnings, /line 2 zone 2 "Yard": polygon is not a list of corners/);
  assert.match(warnings, /line 3 zone 2: id "1\\"><b id=\\"pwn\\">ARMED<\/b>" is not a whole/);
  assert.match(warnings, /line 4 person 2 source undefined is not detected or marked/);
  assert.match(warnings, /line 4 person 4 is not an object/);
  assert.match(warnings, /line 5 target 2 position: latDeg "48.1"/);
  assert.match(warnings, /line 5 target 3 path point 1 timeMs missing is not a number/);
  assert.match(warnings, /line 16 detection 1 className is not text/);
  assert.match(warnings, /line 16 detection 2 box "x" is not a number/);

  const view = loaded.viewAt(T0 + 100);
  assert.deepEqual(view.zones, [zone]);
  assert.deepEqual(view.people, [person]);
  assert.deepEqual(
    view.targets.map((t) => t.id),
    [1],
  );
  assert.deepEqual(view.alerts, [alert(4, 1, null)]);
  assert.deepEqual(view.hazingEvents, [eventStart]);
  assert.equal(view.action, null);
  assert.deepEqual(view.log, []);
  assert.deepEqual(loaded.detectionsFor(7)?.detections, [detectionOf('bear')]);
  assert.deepEqual(
    loaded.hazingEvents(0, Infinity).map((event) => event.id),
    ['E1'],
  );
});

function detectionOf(className: string): Record<string, unknown> {
  return {
    frameId: 7,
    frameTimeMs: T0,
    classId: 21,
    className,
    score: 0.9,
    box: [10, 20, 30, 40],
    imageWidth: 640,
    imageHeight: 512,
    ground: P1,
    groundError: null,
    trackId: 1,
  };
}

test('only a regular file is read: a FIFO, a device or a folder is refused at once', () => {
  const fifo = path.join(root, 'fifo.journal.jsonl');
  const made = spawnSync('mkfifo', [fifo]);
  assert.equal(made.status, 0, 'mkfifo must work here');
  const device = path.join(root, 'zero.journal.jsonl');
  symlinkSync('/dev/zero', device);
  for (const [file, why] of [
    [fifo, /cannot be read \(it is not a regular file\)/],
    [device, /cannot be read \(it is not a regular file\)/],
    [root, /cannot be read \(it is a folder\)/],
  ] as const) {
    const loaded = JournalTimeline.load(file);
    assert.equal(loaded.warnings.length, 1);
    assert.match(loaded.warnings[0], why);
    assert.equal(loaded.startMs, null);
  }
});

test('lines past the line limit are skipped and counted; past the byte limit, left out', () => {
  const file = path.join(root, 'limits.journal.jsonl');
  const logLine = (i: number, text: string): string =>
    JSON.stringify({ t: T0 + i, m: logMessage(T0 + i, text) });
  const lines = [
    logLine(0, 'first'),
    logLine(1, 'x'.repeat(3000)),
    logLine(2, 'second'),
    logLine(3, 'y'.repeat(5000)),
    logLine(4, 'third'),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  const limits = { maxLineBytes: 2048, maxBytes: 1024 * 1024 };
  const loaded = JournalTimeline.load(file, limits);
  assert.equal(loaded.warnings.length, 1, loaded.warnings.join('\n'));
  assert.match(loaded.warnings[0], /skipped 2 line\(s\) longer than 2048 bytes: line 2, line 4/);
  assert.deepEqual(
    loaded.viewAt(T0 + 10).log.map((entry) => entry.text),
    ['first', 'second', 'third'],
  );

  // The limit falls inside line 3: lines 1-2 are read, the cut line is not reported as broken.
  const cutAt = Buffer.byteLength(`${lines.slice(0, 2).join('\n')}\n`) + 10;
  const cut = JournalTimeline.load(file, { maxLineBytes: 1024 * 1024, maxBytes: cutAt });
  assert.equal(cut.warnings.length, 1, cut.warnings.join('\n'));
  assert.match(cut.warnings[0], new RegExp(`is larger than ${cutAt} bytes: only its first`));
  assert.match(cut.warnings[0], /the rest is left out/);
  assert.deepEqual(
    cut.viewAt(T0 + 10).log.map((entry) => entry.text),
    ['first', 'x'.repeat(3000)],
  );
  // Exactly at the limit with nothing after it: nothing is left out.
  const whole = Buffer.byteLength(`${lines.join('\n')}\n`);
  assert.deepEqual(
    JournalTimeline.load(file, { maxLineBytes: 8192, maxBytes: whole }).warnings,
    [],
  );
});
