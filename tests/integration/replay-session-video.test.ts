// A ReplaySession on a real shared log (a long gap, sessions written over each other) with a
// video recorded by the real VideoRecorder and a journal of detections beside it: steps never
// go the wrong way (at the video's ends, after a jump back), the video's recorded rate, key
// frames that show the track first seen, and a cache folder that names its owner process.
// Needs ffmpeg.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import type { GeoDetection } from '../../app/core/types';
import { sharedDir } from '../../app/station/paths';
import { CACHE_OWNER_FILE } from '../../app/station/replay/recorded-video';
import { ReplaySession } from '../../app/station/replay/replay-session';
import { TlogIndex } from '../../app/station/replay/tlog-index';
import { VideoRecorder } from '../../app/station/video/recorder';

const GAP_LOG = path.join(sharedDir(), 'fixtures', 'tlog', 'olivieri_20211208-151717.tlog');
const FRAMES = 20;
const FRAME_STEP_MS = 100;
const FIRST_FRAME_ID = 1000;
/** The frame where the person (track 2) scores best, and where the bear does. */
const PERSON_BEST_FRAME = 6;
const BEAR_BEST_FRAME = 10;

let workDir = '';
let cacheDir = '';
let session: ReplaySession;
let index: TlogIndex;
let firstFrameMs = 0;

function detection(
  frame: number,
  className: 'bear' | 'person',
  trackId: number,
  score: number,
): GeoDetection {
  return {
    frameId: FIRST_FRAME_ID + frame,
    frameTimeMs: firstFrameMs + frame * FRAME_STEP_MS,
    classId: className === 'bear' ? 21 : 0,
    className,
    score,
    box: className === 'bear' ? [10, 10, 60, 60] : [90, 20, 120, 100],
    imageWidth: 160,
    imageHeight: 120,
    ground: null,
    groundError: 'no attitude in this test',
    trackId,
  };
}

before(async () => {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-replay-video-'));
  cacheDir = path.join(workDir, 'cache');
  const tlog = path.join(workDir, 'flight.tlog');
  copyFileSync(GAP_LOG, tlog);
  index = await TlogIndex.build(tlog);
  // Frames 10 s into the first session: that time is held by the first run of the axis.
  firstFrameMs = Math.round(index.timeline.startUs / 1000) + 10_000;
  const jpeg = execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'color=c=0x808080:s=160x120', '-frames:v', '1', '-q:v', '3', '-f', 'mjpeg'],
    'pipe:1',
  ]);
  const recorder = VideoRecorder.start(path.join(workDir, 'flight'));
  try {
    for (let frame = 0; frame < FRAMES; frame++) {
      const frameTimeMs = firstFrameMs + frame * FRAME_STEP_MS;
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
  // The bear in every frame, best in BEAR_BEST_FRAME; a person from frame 5 to 7.
  const lines: string[] = [
    JSON.stringify({ t: firstFrameMs - 1000, session: { version: 1, tlog } }),
  ];
  for (let frame = 0; frame < FRAMES; frame++) {
    const detections = [detection(frame, 'bear', 1, frame === BEAR_BEST_FRAME ? 0.97 : 0.8)];
    if (frame >= 5 && frame <= 7) {
      detections.push(detection(frame, 'person', 2, frame === PERSON_BEST_FRAME ? 0.7 : 0.5));
    }
    const frameTimeMs = firstFrameMs + frame * FRAME_STEP_MS;
    const m = {
      type: 'detections',
      frameId: FIRST_FRAME_ID + frame,
      frameTimeMs,
      detections,
    };
    lines.push(JSON.stringify({ t: frameTimeMs + 30, m }));
  }
  writeFileSync(path.join(workDir, 'flight.journal.jsonl'), `${lines.join('\n')}\n`);
  session = ReplaySession.open(tlog, { cacheDir });
  await session.whenReady;
  assert.equal(session.status().error, null, session.status().warnings.join('\n'));
  assert.equal(session.status().videoFrames, FRAMES);
});

after(() => {
  session?.dispose();
  index?.dispose();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

const frameAxisUs = (frame: number): number =>
  index.timeline.timeToAxisUs((firstFrameMs + frame * FRAME_STEP_MS) * 1000);

test('a step over the video is one frame; at its ends it never goes the wrong way', () => {
  assert.equal(session.stepAxisUs(frameAxisUs(3), 1), frameAxisUs(4));
  assert.equal(session.stepAxisUs(frameAxisUs(3), -2), frameAxisUs(1));
  assert.equal(session.stepAxisUs(0, 1), frameAxisUs(0), 'before the video, + is its first frame');
  // Before the first frame a step back is a record step back, never forward to a frame.
  assert.equal(session.stepAxisUs(0, -1), 0);
  const beforeVideoUs = frameAxisUs(0) - 2_000_000;
  const back = session.stepAxisUs(beforeVideoUs, -1);
  assert.ok(back < beforeVideoUs, `${back} < ${beforeVideoUs}`);
  assert.equal(back, index.stepAxisUs(beforeVideoUs, -1));
  // Past the last frame: record steps forward, and the end holds.
  const last = frameAxisUs(FRAMES - 1);
  const past = session.stepAxisUs(last, 1);
  assert.equal(past, index.stepAxisUs(last, 1));
  assert.ok(past > last);
  const endUs = session.axisEndUs;
  assert.equal(session.stepAxisUs(endUs, 1), endUs);
  assert.equal(session.stepAxisUs(endUs, 5), endUs);
  // Back from the end is back, one frame before the one still shown there.
  assert.equal(session.frameIndexAt(endUs), FRAMES - 1);
  assert.equal(session.stepAxisUs(endUs, -1), frameAxisUs(FRAMES - 2));
});

test('after a jump back, frames that sit earlier on the axis are skipped: record steps', () => {
  const jump = index.timeline.breaks.find((b) => b.kind === 'jump-back')!;
  // The second session's clock holds the frames' times too, but they sit in the first run.
  const afterUs = jump.axisEndUs + 1_000_000;
  const stepped = session.stepAxisUs(afterUs, 1);
  assert.ok(stepped > afterUs, `step +1 from ${afterUs} went to ${stepped}`);
  assert.equal(stepped, index.stepAxisUs(afterUs, 1));
  assert.ok(session.stepAxisUs(afterUs, -1) < afterUs);
  // Later in that run, where its clock is at frame 5: the next frame in time is behind.
  const inRunUs = jump.axisEndUs + (firstFrameMs + 5 * FRAME_STEP_MS) * 1000 - jump.toUs + 50_000;
  assert.equal(session.frameIndexAt(inRunUs), 5);
  const next = session.stepAxisUs(inRunUs, 1);
  assert.equal(next, index.stepAxisUs(inRunUs, 1));
  assert.ok(next > inRunUs);
  const back = session.stepAxisUs(inRunUs, -3);
  assert.ok(back < inRunUs, 'back is back');
});

test('the video status says the recorded rate', () => {
  const video = session.videoStatus()!;
  assert.equal(video.label, 'recorded video');
  assert.ok(Math.abs(video.framesPerSecond - 1000 / FRAME_STEP_MS) < 1e-9);
  assert.equal(video.live, false);
});

test("a track's first sighting shows that track's box", async () => {
  const written = await session.report(
    frameAxisUs(0) - 1_000_000,
    frameAxisUs(FRAMES - 1) + 1_000_000,
    path.join(workDir, 'reports'),
  );
  const html = readFileSync(path.join(written.dir, 'report.html'), 'utf8');
  const figures = [
    ...html.matchAll(/<figure class="key-frame" data-frame-id="(\d+)"[^]*?<\/figure>/g),
  ];
  const person = figures.find((f) => f[0].includes('person #2 first seen'));
  const bear = figures.find((f) => f[0].includes('bear #1 first seen'));
  assert.ok(person, figures.map((f) => f[0].slice(0, 80)).join('\n'));
  assert.ok(bear);
  assert.equal(Number(person[1]), FIRST_FRAME_ID + PERSON_BEST_FRAME);
  assert.equal(Number(bear[1]), FIRST_FRAME_ID + BEAR_BEST_FRAME);
});

test('the frame cache names the process that owns it', () => {
  const folders = readdirSync(cacheDir).filter((name) => name.startsWith('replay-video-'));
  assert.equal(folders.length, 1);
  const owner = JSON.parse(readFileSync(path.join(cacheDir, folders[0], CACHE_OWNER_FILE), 'utf8'));
  assert.deepEqual(owner, { pid: process.pid });
});
