// Key frames of a report on a real shared log with a video recorded by the real VideoRecorder
// and a journal beside it: first sightings of bears and people only (never of the sheep and
// dogs the detector also names), and a hazing end in the ABORT's frame when within a second
// of it, in a frame of its own when later. Needs ffmpeg.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { HazingEvent } from '../../app/core/hazing-log';
import type { GeoDetection } from '../../app/core/types';
import { sharedDir } from '../../app/station/paths';
import { ReplaySession } from '../../app/station/replay/replay-session';
import { TlogIndex } from '../../app/station/replay/tlog-index';
import { VideoRecorder } from '../../app/station/video/recorder';

const GAP_LOG = path.join(sharedDir(), 'fixtures', 'tlog', 'olivieri_20211208-151717.tlog');
const FRAMES = 50;
const FRAME_STEP_MS = 100;
const FIRST_FRAME_ID = 2000;
/** Hazing on bear #1: ABORT at frame 10, its end logged 0.2 s later. */
const ABORT_1_FRAME = 10;
const END_1_FRAME = 12;
/** Hazing on bear #3: ABORT at frame 20, its end logged 2.5 s later. */
const ABORT_2_FRAME = 20;
const END_2_FRAME = 45;

let workDir = '';
let session: ReplaySession;
let index: TlogIndex;
let firstFrameMs = 0;

const frameMs = (frame: number): number => firstFrameMs + frame * FRAME_STEP_MS;

function detection(frame: number, className: string, classId: number, trackId: number) {
  const found: GeoDetection = {
    frameId: FIRST_FRAME_ID + frame,
    frameTimeMs: frameMs(frame),
    classId,
    className,
    score: 0.8,
    box: [10 + classId, 10, 40, 40],
    imageWidth: 160,
    imageHeight: 120,
    ground: null,
    groundError: 'no attitude in this test',
    trackId,
  };
  return found;
}

function hazing(id: string, trackId: number, startFrame: number, endFrame: number | null) {
  const event: HazingEvent = {
    id,
    operator: { operatorName: 'Jane Ridley', agencyOrPermitId: 'MT FWP permit 2026-117' },
    trackId,
    pattern: {
      kind: 'push',
      safeBearingDeg: 90,
      safeZoneId: null,
      standoffM: 40,
      altitudeAglM: 15,
      successDistanceM: 200,
      onSuccess: 'hold',
    },
    startedMs: frameMs(startFrame),
    endedMs: endFrame === null ? null : frameMs(endFrame),
    bearStart: null,
    bearEnd: null,
    droneStart: null,
    droneEnd: null,
    bearMovedM: null,
    durationS: endFrame === null ? null : ((endFrame - startFrame) * FRAME_STEP_MS) / 1000,
    outcome: endFrame === null ? null : 'aborted',
    actions: [{ timeMs: frameMs(startFrame), action: 'start', detail: 'push' }],
  };
  return event;
}

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-key-frames-'));
  const tlog = path.join(workDir, 'flight.tlog');
  copyFileSync(GAP_LOG, tlog);
  index = await TlogIndex.build(tlog);
  firstFrameMs = Math.round(index.timeline.startUs / 1000) + 10_000;
  const jpeg = execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'color=c=0x808080:s=160x120', '-frames:v', '1', '-q:v', '3', '-f', 'mjpeg'],
    'pipe:1',
  ]);
  const recorder = VideoRecorder.start(path.join(workDir, 'flight'));
  try {
    for (let frame = 0; frame < FRAMES; frame++) {
      const frameTimeMs = frameMs(frame);
      recorder.write({
        frameId: FIRST_FRAME_ID + frame,
        frameTimeMs,
        arrivalMs: frameTimeMs + 20,
        delayMs: 20,
        jpeg,
      });
    }
  } finally {
    await recorder.dispose();
  }
  assert.equal(recorder.failed, null);
  const lines: unknown[] = [{ t: frameMs(0) - 1000, session: { version: 1, tlog } }];
  const at = (frame: number, line: object): number => lines.push({ t: frameMs(frame), ...line });
  for (let frame = 0; frame < FRAMES; frame++) {
    const detections = [detection(frame, 'bear', 21, 1)];
    // A new sheep, cow or dog every few frames, as the detector names them in a field.
    const other = (['sheep', 'cow', 'dog'] as const)[frame % 3];
    if (frame % 3 === 0) detections.push(detection(frame, other, 18, 100 + frame));
    if (frame >= 30) detections.push(detection(frame, 'person', 0, 15));
    const m = {
      type: 'detections',
      frameId: FIRST_FRAME_ID + frame,
      frameTimeMs: frameMs(frame),
      detections,
    };
    lines.push({ t: frameMs(frame) + 30, m });
  }
  const first = hazing('h-1', 1, 2, null);
  const second = hazing('h-2', 3, 14, null);
  at(2, { m: { type: 'hazing-event', event: first } });
  at(ABORT_1_FRAME, { command: { id: 1, command: { kind: 'abort' } } });
  const ok = { ok: true, result: 'ACCEPTED', text: 'Holding position (BRAKE)' };
  at(ABORT_1_FRAME, { result: { id: 1, outcome: ok } });
  at(END_1_FRAME, { m: { type: 'hazing-event', event: hazing('h-1', 1, 2, END_1_FRAME) } });
  at(14, { m: { type: 'hazing-event', event: second } });
  at(ABORT_2_FRAME, { command: { id: 2, command: { kind: 'abort' } } });
  at(ABORT_2_FRAME, { result: { id: 2, outcome: ok } });
  at(END_2_FRAME, { m: { type: 'hazing-event', event: hazing('h-2', 3, 14, END_2_FRAME) } });
  const journal = lines.map((line) => JSON.stringify(line)).join('\n');
  writeFileSync(path.join(workDir, 'flight.journal.jsonl'), `${journal}\n`);
  session = ReplaySession.open(tlog, { cacheDir: path.join(workDir, 'cache') });
  await session.whenReady;
  assert.equal(session.status().error, null, session.status().warnings.join('\n'));
  const journalWarnings = session.status().warnings.filter((w) => w.includes('journal'));
  assert.deepEqual(journalWarnings, []);
  assert.equal(session.status().videoFrames, FRAMES);
});

after(() => {
  session?.dispose();
  index?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

test('key frames: bears, people, each ABORT, and a hazing end apart from its ABORT', async () => {
  const axisUs = (frame: number): number => index.timeline.timeToAxisUs(frameMs(frame) * 1000);
  const written = await session.report(
    axisUs(0) - 1_000_000,
    axisUs(FRAMES - 1) + 1_000_000,
    path.join(workDir, 'reports'),
  );
  const html = readFileSync(path.join(written.dir, 'report.html'), 'utf8');
  const figures = [
    ...html.matchAll(/<figure class="key-frame" data-frame-id="(\d+)"[^]*?<\/figure>/g),
  ].map((figure) => ({
    frame: Number(figure[1]) - FIRST_FRAME_ID,
    caption: /<figcaption>([^]*?)<\/figcaption>/.exec(figure[0])?.[1] ?? '',
  }));
  const captions = figures.map((figure) => figure.caption).join('\n');
  assert.doesNotMatch(captions, /sheep|cow|dog/);
  assert.match(captions, /bear #1 first seen/);
  assert.match(captions, /person #15 first seen/);
  const aborts = figures.filter((figure) => figure.caption.includes('Operator: ABORT'));
  assert.deepEqual(
    aborts.map((figure) => figure.frame),
    [ABORT_1_FRAME, ABORT_2_FRAME],
  );
  const ends = figures.filter((figure) => figure.caption.includes('Hazing ended'));
  assert.deepEqual(
    ends.map((figure) => [figure.frame, /bear #(\d+)/.exec(figure.caption)?.[1]]),
    [[END_2_FRAME, '3']],
    captions,
  );
  // The events list every marker still: the end next to its ABORT is not lost there.
  const csv = readFileSync(path.join(written.dir, 'events.csv'), 'utf8');
  assert.match(csv, /hazing-end,"?Hazing ended: push on bear #1, aborted/);
});
