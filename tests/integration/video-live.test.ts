// Live video through the real ffmpeg on real UDP sockets on 127.0.0.1: wall-clock-stamped
// MPEG-TS (H.264 and H.265) gives each frame's capture time and delay; RTP as QGroundControl
// streams it plays with the delay "not measurable"; a stream that stops is reported and
// reopened; and a slow detector never makes frames queue.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Detector, SUBMITS_IN_FLIGHT } from '../../app/station/detector/detector';
import { yoloxNanoCard } from '../../app/station/detector/model-card';
import { sharedDir } from '../../app/station/paths';
import {
  type FrameSource,
  type VideoFrame,
  openFrameSource,
} from '../../app/station/video/frame-source';
import {
  CLOCK_TOLERANCE_MS,
  startWallClockTestStream,
  type WallClockTestStream,
} from '../../app/station/video/wall-clock';
import { freeUdpPort } from '../helpers/net';
import { collectFrames, VIDEO_WAIT_MS, waitForStatus } from '../helpers/video';

const WAIT_LIMIT_MS = VIDEO_WAIT_MS;
const IN_FLIGHT = SUBMITS_IN_FLIGHT;
const MODEL = path.join(sharedDir(), 'models', yoloxNanoCard.file.name);
const WORKER = path.join(__dirname, '..', '..', 'dist', 'station', 'detector-worker.js');

let root = '';
const owned: Array<{ dispose(): unknown }> = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-video-live-'));
});

after(async () => {
  for (const item of owned.reverse()) await item.dispose();
  rmSync(root, { recursive: true, force: true });
});

function open(spec: string): FrameSource {
  const source = openFrameSource(spec, { cacheDir: path.join(root, 'cache'), sharedDir: root });
  owned.push(source);
  return source;
}

function stream(options: Parameters<typeof startWallClockTestStream>[0]): WallClockTestStream {
  const started = startWallClockTestStream(options);
  owned.push(started);
  return started;
}

function checkClockFrames(frames: VideoFrame[]): void {
  for (let i = 0; i < frames.length; i++) {
    const frame = frames[i];
    assert.notEqual(frame.delayMs, null, `frame ${frame.frameId} has a measured delay`);
    const delayMs = frame.delayMs as number;
    // Captured before it arrived, and not long before: the same machine's clock stamped it.
    assert.ok(delayMs >= 0 && delayMs < CLOCK_TOLERANCE_MS, `delay ${delayMs} ms`);
    assert.equal(frame.frameTimeMs, frame.arrivalMs - delayMs);
    if (i > 0) {
      assert.equal(frame.frameId, frames[i - 1].frameId + 1);
      assert.ok(frame.frameTimeMs > frames[i - 1].frameTimeMs, 'capture times increase');
    }
  }
}

test('a wall-clock H.264 stream over UDP gives each frame its capture time and delay', async () => {
  const port = await freeUdpPort();
  stream({ port, fps: 25, widthPx: 320, heightPx: 240 });
  const source = open(`udp://127.0.0.1:${port}`);
  assert.equal(source.label, `live: udp://127.0.0.1:${port}`);
  assert.equal(source.status.live, true);

  const frames = await collectFrames(source, 30);
  checkClockFrames(frames);
  assert.deepEqual([frames[0].width, frames[0].height], [320, 240]);
  assert.equal(frames[0].rgb.length, 320 * 240 * 3);
  assert.deepEqual([...frames[0].jpeg.subarray(0, 2)], [0xff, 0xd8]);
  // testsrc moves: consecutive frames show different pictures.
  assert.notDeepEqual(frames[0].rgb, frames[10].rgb);

  const status = await waitForStatus(source, (s) => s.framesPerSecond > 0 && s.delayMs != null);
  assert.equal(status.state, 'running');
  assert.equal(status.frameTimeSource, 'capture');
  assert.match(status.delayMeasures ?? '', /capture to arrival/);
  assert.equal(status.reconnects, 0);
  assert.ok(status.framesPerSecond > 5 && status.framesPerSecond < 40, `${status.framesPerSecond}`);
});

test('a wall-clock H.265 stream over UDP plays with its delay', async () => {
  const port = await freeUdpPort();
  stream({ port, fps: 15, widthPx: 320, heightPx: 240, codec: 'h265' });
  const source = open(`udp://127.0.0.1:${port}`);
  checkClockFrames(await collectFrames(source, 10));
});

test('a stream that stops is reported reconnecting, with why, and comes back', async () => {
  const port = await freeUdpPort();
  const first = stream({ port, fps: 25 });
  const source = open(`udp://127.0.0.1:${port}`);
  await collectFrames(source, 5);

  await first.dispose();
  const dropped = await waitForStatus(source, (s) => s.state === 'reconnecting');
  assert.match(dropped.error ?? '', /no frame from live stream udp:\/\/127\.0\.0\.1:\d+ for 3 s/);
  assert.equal(dropped.delayMs, null);
  assert.equal(dropped.framesPerSecond, 0);
  // Nothing comes while the sender is away: the source keeps trying, it does not give up.
  const retried = await waitForStatus(source, (s) => (s.reconnects ?? 0) >= 2);
  assert.notEqual(retried.state, 'error');

  const lastIdBefore = source.status;
  stream({ port, fps: 25 });
  const back = await collectFrames(source, 10);
  checkClockFrames(back);
  const running = await waitForStatus(source, (s) => s.state === 'running' && s.error === null);
  assert.ok((running.reconnects ?? 0) >= 2);
  assert.equal(lastIdBefore.label, running.label);
});

test('RTP H.264 on a QGroundControl-style port plays; its delay is not measurable', async () => {
  const port = await freeUdpPort();
  const source = open(`rtp://127.0.0.1:${port}?codec=h264`);
  // A camera sending plain RTP: its timestamps start anywhere, not at wall-clock time.
  const sender = spawn(
    'ffmpeg',
    [
      '-hide_banner',
      '-loglevel',
      'error',
      '-nostdin',
      '-re',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=320x240:rate=20',
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      '-tune',
      'zerolatency',
      '-g',
      '20',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'rtp',
      '-payload_type',
      '96',
      `rtp://127.0.0.1:${port}`,
    ],
    { stdio: 'ignore' },
  );
  const senderExited = new Promise((resolve) => sender.once('close', resolve));
  owned.push({
    dispose: async () => {
      sender.kill('SIGKILL');
      await senderExited;
    },
  });

  const frames = await collectFrames(source, 20);
  for (const frame of frames) {
    assert.equal(frame.delayMs, null);
    assert.equal(frame.frameTimeMs, frame.arrivalMs);
  }
  assert.deepEqual([frames[0].width, frames[0].height], [320, 240]);
  const status = await waitForStatus(source, (s) => s.framesPerSecond > 0);
  assert.equal(status.delayMs, null);
  assert.equal(status.frameTimeSource, 'arrival');
  assert.match(status.delayMeasures ?? '', /not measurable/);
});

test('a malformed live URL is refused at once, naming the problem', () => {
  assert.throws(() => open('udp://127.0.0.1'), /needs a port/);
  assert.throws(() => open('rtp://127.0.0.1:5600?codec=mpeg2'), /codec must be h264 or h265/);
});

test(
  'a detector slower than the camera skips stale frames instead of queueing them',
  {
    skip: existsSync(MODEL) && existsSync(WORKER) ? false : `${MODEL} or ${WORKER} absent`,
  },
  async () => {
    const port = await freeUdpPort();
    stream({ port, fps: 25, widthPx: 640, heightPx: 480 });
    const detector = await Detector.create({ modelPath: MODEL, intraOpThreads: 1 });
    owned.push(detector);
    const source = openFrameSource(`udp://127.0.0.1:${port}`, {
      cacheDir: path.join(root, 'cache'),
      sharedDir: root,
      droppedDownstream: () => detector.stats.framesDropped,
    });
    owned.push(source);

    // The model runs faster than 25 frames a second on some machines: three other callers keep
    // the same worker busy (a second camera, say), so the station's frames get a slow detector.
    let hogging = true;
    const hogs: Promise<void>[] = [];
    const hogFrame = { frameId: 0, frameTimeMs: 0, width: 320, height: 240 };
    const rgb = new Uint8Array(320 * 240 * 3).fill(90);
    for (let i = 0; i < 3; i++) {
      hogs.push(
        (async () => {
          while (hogging) await detector.detect({ ...hogFrame, rgb }).catch(() => []);
        })(),
      );
    }
    owned.push({
      dispose: async () => {
        hogging = false;
        await Promise.all(hogs);
      },
    });

    const delivered = new Map<number, VideoFrame>();
    let newestId = 0;
    /** For each detection result, the newest frame delivered when it came. */
    const results: Array<{ frameId: number; frameTimeMs: number; newestAtResult: number }> = [];
    source.onFrame((frame) => {
      delivered.set(frame.frameId, frame);
      newestId = frame.frameId;
      detector.submit(frame);
    });
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('too few detections')), WAIT_LIMIT_MS);
      detector.onDetections((frame) => {
        results.push({ ...frame, newestAtResult: newestId });
        if (results.length < 12) return;
        clearTimeout(timer);
        resolve();
      });
    });
    await done;
    hogging = false;
    await Promise.all(hogs);

    const stats = detector.stats;
    assert.ok(stats.framesDropped > 0, `the detector skipped frames (${JSON.stringify(stats)})`);
    // Every frame handed over is detected, dropped, or in hand: one waiting and at most
    // IN_FLIGHT being prepared or inferred.
    const inHand = delivered.size - results.length - stats.framesDropped;
    assert.ok(
      inHand >= 0 && inHand <= IN_FLIGHT + 1,
      `${inHand} frames in hand: ${JSON.stringify(stats)}`,
    );
    for (let i = 0; i < results.length; i++) {
      const result = results[i];
      // Each result names its own frame, with that frame's capture time.
      assert.equal(result.frameTimeMs, delivered.get(result.frameId)?.frameTimeMs);
      if (i === 0) continue;
      assert.ok(result.frameId > results[i - 1].frameId, 'results come in frame order');
      if (i < IN_FLIGHT) continue;
      // No queue: a frame goes to the detector when a slot frees, as a result comes back, and
      // it is the newest there is then; so no result is older than the newest frame there was
      // IN_FLIGHT results ago.
      const newestThen = results[i - IN_FLIGHT].newestAtResult;
      assert.ok(
        result.frameId >= newestThen,
        `result ${i}: frame ${result.frameId} < ${newestThen}`,
      );
    }
    const skipped = results.slice(1).filter((r, i) => r.frameId > results[i].frameId + 1);
    assert.ok(skipped.length > 0, 'frames between results were skipped, not queued');
    const status = await waitForStatus(source, (s) => (s.droppedFrames ?? 0) > 0);
    assert.ok((status.droppedFrames ?? 0) >= stats.framesDropped);
  },
);

test('a station too busy to read its stream reopens it rather than run behind', async () => {
  const port = await freeUdpPort();
  stream({ port, fps: 25 });
  const source = open(`udp://127.0.0.1:${port}`);
  await collectFrames(source, 5);
  // A listener that blocks the event loop five times as long as a frame lasts: ffmpeg's
  // output backs up and the frames that do come are ever older.
  const busy = source.onFrame(() => {
    const untilMs = Date.now() + 200;
    while (Date.now() < untilMs) {
      // Busy on purpose.
    }
  });
  const behind = await waitForStatus(source, (s) => s.state === 'reconnecting');
  busy.dispose();
  assert.match(behind.error ?? '', /fell \d+\.\d s behind live stream/);
  // Once the station keeps up again the stream comes back, fresh.
  const frames = await collectFrames(source, 10);
  checkClockFrames(frames);
  assert.ok((frames.at(-1)?.delayMs ?? Infinity) < 3000, `delay ${frames.at(-1)?.delayMs}`);
});
