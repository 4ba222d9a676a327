// The replay screen's pure parts: times typed and shown, the breaks' words, the axis-to-time
// mapping the hover uses, the marker at the playhead, the report link, the drag throttle and
// which last known positions the map draws.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import type { ReplayBreak, ReplayMarker, ReplayStatus, ReplayView } from '../../app/core/replay';
import {
  axisFraction,
  axisToTimeMs,
  breakLabel,
  formatClock,
  formatClockTenths,
  formatSpan,
  lastSeenText,
  markerIndexAt,
  nextTypedTime,
  parseTypedTime,
  pickMarker,
  ReplayBar,
  reportLink,
  staleSightings,
  Throttle,
  timeFieldText,
  type TimeFieldEvent,
  type TypedTime,
} from '../../app/ui/components/ReplayBar';
import {
  breakRowText,
  ReplayEvents,
  replayEventRows,
  rowIndexAt,
  rowSeekAxisMs,
} from '../../app/ui/components/ReplayEvents';

/** 2021-12-08 15:17:17 local time: the typed times below are local too. */
const START_MS = new Date(2021, 11, 8, 15, 17, 17).getTime();
const GAP: ReplayBreak = {
  kind: 'gap',
  axisStartMs: 300_000,
  axisEndMs: 360_000,
  fromMs: START_MS + 300_000,
  toMs: START_MS + 300_000 + 56 * 60_000,
};
const JUMP: ReplayBreak = {
  kind: 'jump-back',
  axisStartMs: 500_000,
  axisEndMs: 502_000,
  fromMs: GAP.toMs + 140_000,
  toMs: GAP.toMs + 140_000 - 8 * 60_000,
};

describe('replay times', () => {
  test('breaks say what happened and for how long', () => {
    assert.equal(breakLabel(GAP), 'gap 56 min');
    assert.equal(breakLabel(JUMP), 'log jumps back 8 min');
    assert.equal(formatSpan(12_400), '12 s');
    assert.equal(formatSpan(65 * 60_000), '1 h 5 min');
    assert.equal(formatSpan(2 * 3600_000), '2 h');
    assert.equal(formatSpan(5 * 24 * 3600_000), '5 days');
  });

  test('axis maps to time one to one in runs, linearly across a gap, held in a jump back', () => {
    const breaks = [GAP, JUMP];
    assert.deepEqual(axisToTimeMs(0, START_MS, breaks), { timeMs: START_MS, inBreak: null });
    assert.equal(axisToTimeMs(299_000, START_MS, breaks).timeMs, START_MS + 299_000);
    const middle = axisToTimeMs(330_000, START_MS, breaks);
    assert.equal(middle.inBreak, GAP);
    assert.equal(middle.timeMs, GAP.fromMs + 28 * 60_000);
    assert.deepEqual(axisToTimeMs(360_000, START_MS, breaks), { timeMs: GAP.toMs, inBreak: null });
    assert.equal(axisToTimeMs(400_000, START_MS, breaks).timeMs, GAP.toMs + 40_000);
    const jumping = axisToTimeMs(501_000, START_MS, breaks);
    assert.equal(jumping.inBreak, JUMP);
    assert.equal(jumping.timeMs, JUMP.fromMs);
    assert.equal(axisToTimeMs(503_000, START_MS, breaks).timeMs, JUMP.toMs + 1_000);
  });

  test('track shares are clamped to the track', () => {
    assert.equal(axisFraction(330_000, 660_000), 0.5);
    assert.equal(axisFraction(-5, 660_000), 0);
    assert.equal(axisFraction(700_000, 660_000), 1);
    assert.equal(axisFraction(10, 0), 0);
  });

  test('a typed clock time is on the log day; an ISO time is taken as written', () => {
    const log = { startMs: START_MS, endMs: GAP.toMs + 300_000, atMs: START_MS + 60_000 };
    assert.equal(parseTypedTime('15:20:05', log), new Date(2021, 11, 8, 15, 20, 5).getTime());
    assert.equal(parseTypedTime(' 16:15 ', log), new Date(2021, 11, 8, 16, 15, 0).getTime());
    assert.equal(
      parseTypedTime('15:20:05.25', log),
      new Date(2021, 11, 8, 15, 20, 5, 250).getTime(),
    );
    assert.equal(parseTypedTime('2021-12-08T14:20:05Z', log), Date.UTC(2021, 11, 8, 14, 20, 5));
    assert.equal(formatClock(parseTypedTime('15:20:05', log)), '15:20:05');
  });

  test('a log past midnight puts an early clock time on its second day', () => {
    const startMs = new Date(2021, 11, 8, 23, 50, 0).getTime();
    const log = { startMs, endMs: startMs + 30 * 60_000, atMs: startMs };
    assert.equal(parseTypedTime('00:05:00', log), new Date(2021, 11, 9, 0, 5, 0).getTime());
  });

  test('bad times are refused with the words typed', () => {
    const log = { startMs: START_MS, endMs: START_MS + 1, atMs: null };
    assert.throws(() => parseTypedTime('', log), /Type a time/);
    assert.throws(() => parseTypedTime('25:00:00', log), /"25:00:00" is not a time of day/);
    assert.throws(() => parseTypedTime('noon', log), /"noon" is not a time/);
    assert.throws(() => parseTypedTime('2021-13-45T99:00', log), /not a valid ISO time/);
    const empty = { startMs: null, endMs: null, atMs: null };
    assert.throws(() => parseTypedTime('12:00', empty), /wait for the index/);
  });
});

/** A replay of two runs with the gap between, indexed, paused at its start. */
function barStatus(markers: ReplayMarker[]): ReplayStatus {
  return {
    file: '/records/flight.tlog',
    files: [],
    indexing: { done: true, progressPct: 100, what: 'flight.tlog' },
    error: null,
    warnings: [],
    axisEndMs: 660_000,
    startMs: START_MS,
    endMs: GAP.toMs + 300_000,
    breaks: [GAP],
    markers,
    positionAxisMs: 0,
    playing: false,
    speed: 1,
    videoFrames: 3000,
  };
}

/** The replay bar as the page first draws it. */
function barHtml(status: ReplayStatus, view: ReplayView | null = null): string {
  return renderToStaticMarkup(
    createElement(ReplayBar, {
      status,
      view,
      canControl: true,
      onControl: async () => ({ ok: true, result: 'ACCEPTED', text: '' }),
    }),
  );
}

/** Each tick's kind and tooltip, in the order drawn (the last on top). */
function ticks(html: string): Array<{ kind: string; title: string }> {
  return [...html.matchAll(/<button[^>]*data-testid="replay-marker"[^>]*>/g)].map((match) => ({
    kind: /data-kind="([^"]*)"/.exec(match[0])![1],
    title: /title="([^"]*)"/.exec(match[0])![1],
  }));
}

describe('the time field', () => {
  /** The text after a run of events from an empty field, or null where it shows the playhead. */
  const after = (...events: TimeFieldEvent[]): TypedTime | null =>
    events.reduce<TypedTime | null>(nextTypedTime, null);
  const edit = (text: string): TimeFieldEvent => ({ kind: 'edit', text });

  test('a refused time gives the field back when the playhead moves or the message goes', () => {
    for (const text of ['20:00:00', '2:2:5']) {
      const refused = after(edit(text), { kind: 'refused' });
      assert.deepEqual(refused, { text, refused: true }, 'the refused text stays to be read');
      assert.equal(nextTypedTime(refused, { kind: 'playhead-moved' }), null, `${text}, then play`);
      assert.equal(nextTypedTime(refused, { kind: 'notice-gone' }), null);
      assert.equal(nextTypedTime(refused, { kind: 'blur' }), null);
      assert.equal(nextTypedTime(refused, { kind: 'escape' }), null);
    }
  });

  test('text being typed stays while the playhead runs, and goes when the field is left', () => {
    const typing = after(edit('15:2'), { kind: 'playhead-moved' }, edit('15:20'));
    assert.deepEqual(typing, { text: '15:20', refused: false });
    assert.deepEqual(nextTypedTime(typing, { kind: 'notice-gone' }), typing);
    // Mending a refused time is typing again: the moving playhead leaves it alone.
    const mending = after(edit('2:2:5'), { kind: 'refused' }, edit('2:02:5'));
    assert.deepEqual(nextTypedTime(mending, { kind: 'playhead-moved' }), mending);
    assert.equal(nextTypedTime(typing, { kind: 'blur' }), null);
    assert.equal(nextTypedTime(typing, { kind: 'accepted' }), null);
    assert.equal(after({ kind: 'refused' }), null, 'nothing typed, nothing refused');
  });

  test('paused, the field shows tenths of a second, so a frame step shows', () => {
    const atMs = new Date(2021, 11, 8, 15, 20, 5, 280).getTime();
    assert.equal(formatClockTenths(atMs), '15:20:05.2');
    assert.equal(formatClockTenths(atMs + 200), '15:20:05.4');
    assert.equal(formatClockTenths(atMs + 720), '15:20:06.0');
    assert.equal(timeFieldText(atMs, false), '15:20:05.2');
    assert.equal(timeFieldText(atMs, true), '15:20:05');
    // What the field shows can be typed back.
    const log = { startMs: START_MS, endMs: GAP.toMs, atMs: START_MS };
    assert.equal(parseTypedTime(formatClockTenths(atMs), log), atMs - 80);
    const view = { timeMs: atMs, positionAxisMs: 188_280 } as ReplayView;
    assert.match(barHtml(barStatus([]), view), /data-testid="replay-time"[^>]*value="15:20:05.2"/);
    const playing = barHtml({ ...barStatus([]), playing: true }, view);
    assert.match(playing, /data-testid="replay-time"[^>]*value="15:20:05"/);
  });
});

describe('replay markers and reports', () => {
  const markers: ReplayMarker[] = [10, 20, 20, 40].map((axisMs, index) => ({
    kind: 'mode',
    axisMs,
    timeMs: START_MS + axisMs,
    label: `marker ${index}`,
  }));

  test('the marker at the playhead is the last at or before it', () => {
    assert.equal(markerIndexAt(markers, 5), -1);
    assert.equal(markerIndexAt(markers, 10), 0);
    assert.equal(markerIndexAt(markers, 25), 2);
    assert.equal(markerIndexAt(markers, 40), 3);
    assert.equal(markerIndexAt(markers, 1e9), 3);
    assert.equal(markerIndexAt([], 10), -1);
  });

  test('a tooltip does not say the kind twice when the label already opens with it', () => {
    const at = (kind: ReplayMarker['kind'], axisMs: number, label: string): ReplayMarker => ({
      kind,
      axisMs,
      timeMs: START_MS + axisMs,
      label,
    });
    const html = barHtml(
      barStatus([
        at('link-lost', 10_000, 'Link lost: no heartbeat'),
        at('mode', 20_000, 'Mode AUTO -> RTL'),
        at('abort', 30_000, 'ABORT'),
        at('detection', 40_000, 'Detections resumed'),
      ]),
    );
    assert.deepEqual(
      // In time order: the ticks are drawn in order of importance.
      ticks(html)
        .map((tick) => tick.title)
        .sort(),
      [
        '15:17:27 Link lost: no heartbeat',
        '15:17:37 Mode change: Mode AUTO -&gt; RTL',
        '15:17:47 ABORT',
        '15:17:57 Detection: Detections resumed',
      ],
    );
  });

  /** Crowded ticks as the trial user met them: hazing 0.8 s before a detection, ABORT by a mode. */
  const crowded = (): ReplayMarker[] =>
    (
      [
        ['mode', 1_000, 'Mode STABILIZE -> GUIDED'],
        ['alert', 50_000, 'bear #1 within 50 m of Farm yard'],
        ['hazing-start', 100_000, 'Push bear #1 by Jane Ridley'],
        ['detection', 100_800, 'sheep #13 first seen'],
        ['command', 101_000, 'Operator: push'],
        ['link-lost', 150_000, 'Link lost: no heartbeat'],
        ['detection', 150_500, 'sheep #14 first seen'],
        ['abort', 200_000, 'ABORT'],
        ['mode', 200_400, 'Mode GUIDED -> BRAKE'],
        ['hazing-end', 200_600, 'Push ended: aborted'],
        ['detection', 300_000, 'person #15 first seen'],
      ] as const
    ).map(([kind, axisMs, label]) => ({ kind, axisMs, timeMs: START_MS + axisMs, label }));

  test('ticks are drawn least important first, so ABORT, alerts and hazing lie on top', () => {
    assert.deepEqual(
      ticks(barHtml(barStatus(crowded()))).map((tick) => tick.kind),
      [
        'detection',
        'detection',
        'detection',
        'command',
        'mode',
        'mode',
        'link-lost',
        'hazing-start',
        'hazing-end',
        'alert',
        'abort',
      ],
    );
  });

  test('a click among crowded ticks takes the most important in reach, else the nearest', () => {
    const markers = crowded();
    // A tick's reach of 6 px on a 1330 px track of 660 s: about 3 s of axis.
    const reachMs = (6 / 1330) * 660_000;
    const pick = (axisMs: number) => pickMarker(markers, axisMs, reachMs)?.label ?? null;
    assert.equal(pick(100_800), 'Push bear #1 by Jane Ridley', 'the detection over the hazing');
    assert.equal(pick(101_000), 'Push bear #1 by Jane Ridley', 'the command by the hazing');
    assert.equal(pick(200_400), 'ABORT', 'the mode change over the ABORT');
    assert.equal(pick(200_600), 'ABORT', 'the hazing end by the ABORT');
    assert.equal(pick(150_500), 'Link lost: no heartbeat');
    assert.equal(pick(299_000), 'person #15 first seen', 'a lone detection is itself');
    assert.equal(pick(250_000), null, 'nothing within reach');
    // Among equals, the nearest.
    const twoModes = crowded().filter((m) => m.kind === 'mode' || m.kind === 'detection');
    assert.equal(pickMarker(twoModes, 200_300, 5_000)?.label, 'Mode GUIDED -> BRAKE');
    assert.equal(pickMarker(twoModes, 300_400, 200_000)?.label, 'Mode GUIDED -> BRAKE');
    assert.equal(pickMarker([], 10, 5), null);
  });

  test('the report link is the URL path in the outcome, not a file path', () => {
    assert.equal(
      reportLink('Report written to /tmp/r/incident-1 (6 files); open /reports/incident-1/.'),
      '/reports/incident-1/',
    );
    assert.equal(reportLink('Wrote /reports/x/report.html, report.kml'), '/reports/x/report.html');
    assert.equal(
      reportLink('see http://127.0.0.1:8080/reports/a%20b/report.html'),
      '/reports/a%20b/report.html',
    );
    assert.equal(reportLink('Report written to /tmp/r/incident-1'), null);
  });
});

describe('drag seeks', () => {
  /** A clock and timers the test moves by hand. */
  function fakeTime() {
    let nowMs = 0;
    const timers = new Map<number, { atMs: number; run: () => void }>();
    let nextId = 1;
    return {
      nowMs: () => nowMs,
      setTimer: (run: () => void, delayMs: number) => {
        const id = nextId++;
        timers.set(id, { atMs: nowMs + delayMs, run });
        return id;
      },
      clearTimer: (id: unknown) => void timers.delete(id as number),
      advance(byMs: number) {
        nowMs += byMs;
        for (const [id, timer] of [...timers]) {
          if (timer.atMs <= nowMs) {
            timers.delete(id);
            timer.run();
          }
        }
      },
      pending: () => timers.size,
    };
  }

  test('at most one seek a period: the first at once, the newest when the period is up', () => {
    const time = fakeTime();
    const sent: number[] = [];
    const throttle = new Throttle<number>({ periodMs: 100, send: (v) => sent.push(v), ...time });
    throttle.push(1);
    assert.deepEqual(sent, [1]);
    for (let value = 2; value <= 9; value++) {
      time.advance(10);
      throttle.push(value);
    }
    assert.deepEqual(sent, [1], 'nothing more within the period');
    time.advance(20);
    assert.deepEqual(sent, [1, 9], 'the newest when the period is up');
    time.advance(500);
    assert.deepEqual(sent, [1, 9], 'nothing repeated');
    throttle.push(10);
    assert.deepEqual(sent, [1, 9, 10], 'after a quiet period, at once again');
    throttle.dispose();
  });

  test('the release sends its position once and drops what waited', () => {
    const time = fakeTime();
    const sent: number[] = [];
    const throttle = new Throttle<number>({ periodMs: 100, send: (v) => sent.push(v), ...time });
    throttle.push(1);
    time.advance(30);
    throttle.push(2);
    throttle.flush(3);
    assert.deepEqual(sent, [1, 3]);
    assert.equal(time.pending(), 0, 'no timer left behind');
    time.advance(1000);
    assert.deepEqual(sent, [1, 3]);
    throttle.push(4);
    time.advance(50);
    throttle.push(5);
    throttle.dispose();
    time.advance(1000);
    assert.deepEqual(sent, [1, 3, 4], 'what waited after 4 went with the throttle');
  });
});

describe('last known positions on the map', () => {
  const at = { latDeg: 46.5, lonDeg: -112.9 };
  test('only sightings older than 3 s at the playhead are drawn', () => {
    const stale = staleSightings({
      timeMs: 100_000,
      vehicle: { position: at, timeMs: 98_000 },
      tracks: [
        { trackId: 1, className: 'bear', position: at, timeMs: 99_500 },
        { trackId: 2, className: 'bear', position: at, timeMs: 20_000 },
      ],
    });
    assert.equal(stale.vehicle, null);
    assert.deepEqual(
      stale.tracks.map((track) => track.trackId),
      [2],
    );
    const lost = staleSightings({
      timeMs: 100_000,
      vehicle: { position: at, timeMs: 90_000 },
      tracks: [],
    });
    assert.deepEqual(lost.vehicle, { position: at, timeMs: 90_000 });
  });

  test('labels say when, and how long before the playhead', () => {
    const seenMs = new Date(2021, 11, 8, 15, 20, 5).getTime();
    assert.equal(lastSeenText(seenMs, seenMs + 124_000), 'last seen 15:20:05 (2 min 4 s before)');
  });
});

describe('the event list explains the breaks', () => {
  const marker = (axisMs: number, label: string): ReplayMarker => ({
    kind: 'mode',
    axisMs,
    timeMs: axisToTimeMs(axisMs, START_MS, [GAP, JUMP]).timeMs,
    label,
  });
  // One before the gap, one at the record just before it, one after it, one after the jump.
  const markers = [
    marker(100_000, 'before'),
    marker(300_000, 'at the gap'),
    marker(400_000, 'after the gap'),
    marker(502_000, 'after the jump'),
  ];

  test('breaks are rows at their place, after the markers at their start', () => {
    const rows = replayEventRows(markers, [GAP, JUMP]);
    assert.deepEqual(
      rows.map((row) => (row.kind === 'marker' ? row.marker.label : row.brk.kind)),
      ['before', 'at the gap', 'gap', 'after the gap', 'jump-back', 'after the jump'],
    );
    assert.deepEqual(
      replayEventRows([], [GAP]).map((row) => row.kind),
      ['break'],
    );
    assert.deepEqual(
      replayEventRows(markers.slice(0, 1), [GAP, JUMP]).map((row) => row.kind),
      ['marker', 'break', 'break'],
    );
  });

  test('a break seeks to its end and is the current row until the next event', () => {
    const rows = replayEventRows(markers, [GAP, JUMP]);
    assert.equal(rowSeekAxisMs(rows[2]), GAP.axisEndMs);
    assert.equal(rowSeekAxisMs(rows[0]), 100_000);
    assert.equal(rowIndexAt(rows, 50_000), -1);
    assert.equal(rowIndexAt(rows, 300_000), 2, 'the playhead at the gap: the gap');
    assert.equal(rowIndexAt(rows, GAP.axisEndMs), 2);
    assert.equal(rowIndexAt(rows, 400_000), 3);
    assert.equal(rowIndexAt(rows, 501_000), 4);
    assert.equal(rowIndexAt(rows, 1e9), 5);
  });

  test('the rows say what the break is, and when the clock goes on', () => {
    assert.equal(breakRowText(GAP), `gap 56 min: nothing recorded until ${formatClock(GAP.toMs)}`);
    assert.equal(
      breakRowText(JUMP),
      `log jumps back 8 min: another session (clock back to ${formatClock(JUMP.toMs)})`,
    );
    const html = renderToStaticMarkup(
      createElement(ReplayEvents, {
        markers,
        breaks: [GAP, JUMP],
        positionAxisMs: GAP.axisEndMs,
        onSeek: () => {},
      }),
    );
    const rows = [
      ...html.matchAll(/data-testid="(replay-event(?:-break)?)"[^>]*>(.*?)<\/button>/g),
    ];
    assert.equal(rows.length, 6);
    assert.equal(rows[2][1], 'replay-event-break');
    assert.match(rows[2][2], /gap 56 min: nothing recorded until/);
    assert.match(rows[4][2], /log jumps back 8 min: another session/);
    assert.match(html, /data-testid="replay-event-break" data-kind="gap"[^>]*data-current="true"/);
    assert.match(html, /data-seek-axis-ms="360000"/);
    // The count is of events; the breaks are not events.
    assert.match(html, /replay-events-count">4</);
  });
});
