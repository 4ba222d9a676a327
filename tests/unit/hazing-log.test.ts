// The hazing log's pure parts: who may haze (checked field by field) and the CSV export that
// other tools read.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  checkHazingOperator,
  HAZING_CSV_COLUMNS,
  hazingEventsToCsv,
  type HazingEvent,
} from '../../app/core/hazing-log';

test('hazing operator: trimmed, both fields kept', () => {
  assert.deepEqual(
    checkHazingOperator({ operatorName: '  Ada Grizzly ', agencyOrPermitId: ' MT FWP 2026-17 ' }),
    { operatorName: 'Ada Grizzly', agencyOrPermitId: 'MT FWP 2026-17' },
  );
  // Unicode names are printable; 80 characters is the most.
  const long = 'Ø'.repeat(80);
  assert.equal(
    checkHazingOperator({ operatorName: long, agencyOrPermitId: 'x' }).operatorName,
    long,
  );
});

test('hazing operator: each bad field is named', () => {
  const good = { operatorName: 'Ada', agencyOrPermitId: 'USFWS' };
  const cases: Array<[unknown, RegExp]> = [
    [null, /must be an object with operatorName and agencyOrPermitId/],
    [['Ada', 'USFWS'], /must be an object/],
    [
      { agencyOrPermitId: 'USFWS' },
      /^operator name \(operatorName\) is required and must be text$/,
    ],
    [{ ...good, operatorName: '   ' }, /^operator name \(operatorName\) is required: it is empty$/],
    [{ ...good, operatorName: 42 }, /operator name \(operatorName\) is required and must be text/],
    [{ ...good, operatorName: 'a'.repeat(81) }, /operatorName\) is longer than 80 characters/],
    [{ ...good, operatorName: 'Ada\nforged,row' }, /operatorName\) holds a control character/],
    [{ ...good, operatorName: 'A\u0000da' }, /operatorName\) holds a control character/],
    [{ operatorName: 'Ada' }, /^agency or permit id \(agencyOrPermitId\) is required/],
    [{ ...good, agencyOrPermitId: '' }, /agencyOrPermitId\) is required: it is empty/],
    [{ ...good, agencyOrPermitId: 'P\t1' }, /agencyOrPermitId\) holds a control character/],
    [{ ...good, agencyOrPermitId: 'p'.repeat(81) }, /agencyOrPermitId\) is longer than 80/],
  ];
  for (const [value, expected] of cases) {
    assert.throws(() => checkHazingOperator(value), { message: expected }, JSON.stringify(value));
  }
});

const START_MS = Date.UTC(2026, 11, 4, 21, 58, 0);

function pushEvent(): HazingEvent {
  return {
    id: '2026-12-04T21-58-00Z-1',
    operator: { operatorName: 'Smith, "Bear" Jo', agencyOrPermitId: 'MT FWP 17' },
    trackId: 12,
    pattern: {
      kind: 'push',
      safeBearingDeg: 270,
      safeZoneId: null,
      standoffM: 30,
      altitudeAglM: 25,
      successDistanceM: 200,
      onSuccess: 'hold',
    },
    startedMs: START_MS,
    endedMs: START_MS + 95_500,
    bearStart: { latDeg: 48.17, lonDeg: -111.95 },
    bearEnd: { latDeg: 48.17, lonDeg: -111.953 },
    droneStart: { latDeg: 48.1702, lonDeg: -111.9496 },
    droneEnd: { latDeg: 48.1701, lonDeg: -111.9526 },
    bearMovedM: 222.43,
    durationS: 95.5,
    outcome: 'success',
    actions: [
      { timeMs: START_MS, action: 'start', detail: 'push bear track 12' },
      { timeMs: START_MS + 30_000, action: 'nudge', detail: 'bearing -10 deg' },
    ],
  };
}

/** A small RFC 4180 reader, to prove the export reads back field for field. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  assert.equal(field, '', 'the text ends with a line break');
  return rows;
}

test('hazing CSV: a header row even with no events', () => {
  assert.equal(hazingEventsToCsv([]), `${HAZING_CSV_COLUMNS.join(',')}\r\n`);
});

test('hazing CSV: one row per event, quoted per RFC 4180, reading back exactly', () => {
  const open: HazingEvent = {
    ...pushEvent(),
    id: '2026-12-04T21-58-00Z-2',
    operator: { operatorName: 'Ada', agencyOrPermitId: 'USFWS' },
    trackId: null,
    pattern: {
      kind: 'search',
      polygon: [
        { latDeg: 48.1, lonDeg: -111.9 },
        { latDeg: 48.2, lonDeg: -111.9 },
        { latDeg: 48.2, lonDeg: -111.8 },
      ],
      altitudeAglM: 60,
      overlapPct: 20,
      speedMps: 5,
    },
    endedMs: null,
    bearStart: null,
    bearEnd: null,
    droneEnd: null,
    bearMovedM: null,
    durationS: null,
    outcome: null,
    actions: [],
  };
  const csv = hazingEventsToCsv([pushEvent(), open]);
  const rows = parseCsv(csv);
  assert.equal(rows.length, 3);
  assert.deepEqual(rows[0], [...HAZING_CSV_COLUMNS]);
  const byColumn = (row: string[]) =>
    Object.fromEntries(HAZING_CSV_COLUMNS.map((name, i) => [name, row[i]]));
  const push = byColumn(rows[1]);
  assert.deepEqual(push, {
    id: '2026-12-04T21-58-00Z-1',
    operator: 'Smith, "Bear" Jo',
    agency_or_permit: 'MT FWP 17',
    track_id: '12',
    pattern: 'push',
    settings: JSON.stringify(pushEvent().pattern),
    start_time: '2026-12-04T21:58:00.000Z',
    end_time: '2026-12-04T21:59:35.500Z',
    bear_start_lat: '48.17',
    bear_start_lon: '-111.95',
    bear_end_lat: '48.17',
    bear_end_lon: '-111.953',
    drone_start_lat: '48.1702',
    drone_start_lon: '-111.9496',
    drone_end_lat: '48.1701',
    drone_end_lon: '-111.9526',
    bear_moved_m: '222.4',
    duration_s: '95.5',
    outcome: 'success',
    actions: JSON.stringify([
      { time: '2026-12-04T21:58:00.000Z', action: 'start', detail: 'push bear track 12' },
      { time: '2026-12-04T21:58:30.000Z', action: 'nudge', detail: 'bearing -10 deg' },
    ]),
  });
  // The name with a comma and quotes was quoted and its quotes doubled.
  assert.ok(csv.includes('"Smith, ""Bear"" Jo"'));
  const search = byColumn(rows[2]);
  assert.equal(search.track_id, '');
  assert.equal(search.pattern, 'search');
  assert.deepEqual(JSON.parse(search.settings), open.pattern);
  assert.equal(search.end_time, '');
  assert.equal(search.bear_start_lat, '');
  assert.equal(search.drone_start_lat, '48.1702');
  assert.equal(search.outcome, '');
  assert.equal(search.actions, '[]');
});

test('hazing CSV: actions whose details hold "; " and quotes split back exactly', () => {
  const actions = [
    {
      timeMs: START_MS + 1000,
      action: 'hold',
      detail: 'no-fly-zone: no-fly-zone 1: the path crosses it; keep out, "now"',
    },
    { timeMs: START_MS + 2000, action: 'nudge', detail: '{"bearingDeltaDeg":-10}; again' },
  ];
  const rows = parseCsv(hazingEventsToCsv([{ ...pushEvent(), actions }]));
  const column = HAZING_CSV_COLUMNS.indexOf('actions');
  const parsed = JSON.parse(rows[1][column]) as Array<Record<string, unknown>>;
  assert.deepEqual(parsed, [
    { time: '2026-12-04T21:58:01.000Z', action: 'hold', detail: actions[0].detail },
    { time: '2026-12-04T21:58:02.000Z', action: 'nudge', detail: actions[1].detail },
  ]);
});

test('hazing CSV: text cells that a spreadsheet would run as formulas get an apostrophe', () => {
  const event: HazingEvent = {
    ...pushEvent(),
    id: '=1+1',
    operator: { operatorName: '=HYPERLINK("http://x","y")', agencyOrPermitId: '+1-555' },
    outcome: '@SUM(A1)' as HazingEvent['outcome'],
  };
  const tabbed: HazingEvent = {
    ...pushEvent(),
    id: '\tx',
    operator: { ...event.operator, operatorName: '-2+3', agencyOrPermitId: '\rcmd' },
  };
  const rows = parseCsv(hazingEventsToCsv([event, tabbed]));
  const byColumn = (row: string[]) =>
    Object.fromEntries(HAZING_CSV_COLUMNS.map((name, i) => [name, row[i]]));
  const first = byColumn(rows[1]);
  assert.equal(first.id, "'=1+1");
  assert.equal(first.operator, '\'=HYPERLINK("http://x","y")');
  assert.equal(first.agency_or_permit, "'+1-555");
  assert.equal(first.outcome, "'@SUM(A1)");
  const second = byColumn(rows[2]);
  assert.equal(second.id, "'\tx");
  assert.equal(second.operator, "'-2+3");
  assert.equal(second.agency_or_permit, "'\rcmd");
  // Numbers stay numbers: negative longitudes are not text to guard.
  assert.equal(first.bear_start_lon, '-111.95');
  assert.equal(first.drone_end_lon, '-111.9526');
  // Safe text is untouched.
  assert.equal(first.pattern, 'push');
});
