// Video ingest with the real ffmpeg on real files: the demo clip built from the shared photos,
// image sequences, and the ways opening a source can fail.

import assert from 'node:assert/strict';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sharedDir } from '../../app/station/paths';
import { DEMO_PHOTOS, ensureDemoClip } from '../../app/station/video/demo-clip';
import { decodeImageRgb } from '../../app/station/video/ffmpeg';
import {
  type FrameSource,
  type VideoFrame,
  openFrameSource,
} from '../../app/station/video/frame-source';
import { collectFrames, VIDEO_WAIT_MS, waitForStatus } from '../helpers/video';

const SHARED = sharedDir();
const IMAGES = path.join(SHARED, 'fixtures', 'images');
const skip = existsSync(IMAGES) ? false : `${IMAGES} is absent (see ../shared/README.md)`;
const WAIT_LIMIT_MS = VIDEO_WAIT_MS;

let root = '';
const opened: FrameSource[] = [];

before(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-video-'));
});

after(async () => {
  for (const source of opened) await source.dispose();
  rmSync(root, { recursive: true, force: true });
});

function open(spec: string, options: Partial<Parameters<typeof openFrameSource>[1]> = {}) {
  const source = openFrameSource(spec, {
    cacheDir: path.join(root, 'cache'),
    sharedDir: SHARED,
    ...options,
  });
  opened.push(source);
  return source;
}

/** Mean absolute difference per byte between a frame's rgb and its JPEG, decoded apart. */
async function jpegDifference(frame: VideoFrame, name: string): Promise<number> {
  const file = path.join(root, name);
  writeFileSync(file, frame.jpeg);
  const decoded = await decodeImageRgb(file);
  assert.deepEqual([decoded.width, decoded.height], [frame.width, frame.height]);
  let total = 0;
  for (let i = 0; i < frame.rgb.length; i++) total += Math.abs(frame.rgb[i] - decoded.rgb[i]);
  return total / frame.rgb.length;
}

test(
  'the demo plays frames of the still photos, each raw frame with its JPEG',
  { skip },
  async () => {
    const source = open('demo');
    assert.equal(source.label, 'demo: still photos');
    assert.equal(source.status.state, 'starting');
    const frames = await collectFrames(source, 8);

    assert.deepEqual(
      frames.map((frame) => frame.frameId),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i];
      assert.deepEqual([frame.width, frame.height], [640, 480]);
      assert.equal(frame.rgb.length, 640 * 480 * 3);
      assert.deepEqual([...frame.jpeg.subarray(0, 2)], [0xff, 0xd8]);
      assert.deepEqual([...frame.jpeg.subarray(-2)], [0xff, 0xd9]);
      if (i > 0) assert.ok(frame.frameTimeMs >= frames[i - 1].frameTimeMs);
      assert.ok(Math.abs(frame.frameTimeMs - Date.now()) < WAIT_LIMIT_MS);
    }
    // The JPEG shows the same picture as the raw frame: only compression error between them,
    // far less than between two frames of the moving shot.
    const own = await jpegDifference(frames[0], 'first.jpg');
    assert.ok(own < 6, `JPEG differs from its own frame by ${own.toFixed(2)} a byte`);
    let apart = 0;
    for (let i = 0; i < frames[0].rgb.length; i++) {
      apart += Math.abs(frames[0].rgb[i] - frames[7].rgb[i]);
    }
    apart /= frames[0].rgb.length;
    assert.ok(apart > own * 1.5, `frames 1 and 8 differ by ${apart.toFixed(2)}, JPEG by ${own}`);

    const running = await waitForStatus(source, (status) => status.framesPerSecond > 0);
    assert.equal(running.state, 'running');
    assert.equal(running.label, 'demo: still photos');
    assert.deepEqual([running.width, running.height], [640, 480]);
    assert.equal(running.error, null);
    // Played in real time at the clip's 5 frames a second, not as fast as ffmpeg can decode.
    assert.ok(running.framesPerSecond < 8, `measured ${running.framesPerSecond} fps`);

    await source.dispose();
    assert.equal(source.status.state, 'stopped');
  },
);

test('the demo clip is cached and rebuilt when a photo changes', { skip }, async () => {
  const shared = path.join(root, 'shared-copy');
  const photos = path.join(shared, 'fixtures', 'images');
  mkdirSync(photos, { recursive: true });
  for (const photo of DEMO_PHOTOS) copyFileSync(path.join(IMAGES, photo), path.join(photos, photo));
  const cacheDir = path.join(root, 'cache-rebuild');

  const first = await ensureDemoClip({ cacheDir, sharedDir: shared });
  const builtAtMs = statSync(first).mtimeMs;
  assert.equal(await ensureDemoClip({ cacheDir, sharedDir: shared }), first);
  assert.equal(statSync(first).mtimeMs, builtAtMs);

  copyFileSync(path.join(IMAGES, 'horses.jpg'), path.join(photos, 'dog.jpg'));
  const second = await ensureDemoClip({ cacheDir, sharedDir: shared });
  assert.notEqual(second, first);
  assert.ok(existsSync(second));
  assert.ok(!existsSync(first), 'the stale clip is removed');
});

test('missing demo photos give an error status that says where it looked', async () => {
  const nowhere = path.join(root, 'no-shared');
  const source = open('demo', { sharedDir: nowhere });
  const status = await waitForStatus(source, (s) => s.state === 'error');
  assert.equal(status.label, 'demo: still photos');
  assert.ok(status.error?.includes(path.join(nowhere, 'fixtures', 'images')), status.error ?? '');
  assert.match(status.error ?? '', /demo photos missing: .*bear-coco-285\.jpg/);
});

test('a missing video file gives an error status naming the file', async () => {
  const missing = path.join(root, 'no-such-flight.mp4');
  const frames: VideoFrame[] = [];
  const source = open(missing);
  source.onFrame((frame) => frames.push(frame));
  const status = await waitForStatus(source, (s) => s.state === 'error');
  assert.equal(status.label, 'file: no-such-flight.mp4');
  assert.equal(status.error, `video file ${missing} does not exist`);
  assert.equal(frames.length, 0);
});

test('a corrupt video file gives an error status naming the file', { skip }, async () => {
  const corrupt = path.join(root, 'corrupt.mp4');
  // A real H.264 MP4 cut short: its index (moov) is at the end, so nothing can be decoded.
  const video = path.join(SHARED, 'fixtures/thermal/dji-h20t/h20t-forest-95m-stills-2fps.mp4');
  writeFileSync(corrupt, readFileSync(video).subarray(0, 100_000));
  const source = open(corrupt);
  const status = await waitForStatus(source, (s) => s.state === 'error');
  assert.ok(status.error?.startsWith(`cannot decode video file ${corrupt}: `), status.error ?? '');
});

test('a missing ffmpeg gives an error status, not a crash', { skip }, async () => {
  const source = open('demo', {
    ffmpegPath: path.join(root, 'no-ffmpeg-here'),
    cacheDir: path.join(root, 'cache-no-ffmpeg'),
  });
  const status = await waitForStatus(source, (s) => s.state === 'error');
  assert.match(status.error ?? '', /ffmpeg not found \(tried ".*no-ffmpeg-here"\)/);
});

test(
  'an image sequence pattern and a folder of images play, scaled to the max width',
  { skip },
  async () => {
    const dir = path.join(root, 'sequence');
    mkdirSync(dir);
    // 768 x 576 photos, and one of another size that must be fitted into the same frame.
    copyFileSync(path.join(IMAGES, 'dog.jpg'), path.join(dir, 'img_0001.jpg'));
    copyFileSync(path.join(IMAGES, 'dog.jpg'), path.join(dir, 'img_0002.jpg'));
    copyFileSync(path.join(IMAGES, 'person.jpg'), path.join(dir, 'img_0003.jpg'));

    for (const spec of [path.join(dir, 'img_%04d.jpg'), dir]) {
      const source = open(spec, { maxWidth: 320, fps: 10 });
      assert.equal(source.label, `images: ${spec}`);
      // More frames than images: the sequence loops.
      const frames = await collectFrames(source, 5);
      for (const frame of frames) {
        assert.deepEqual([frame.width, frame.height], [320, 240]);
        assert.equal(frame.rgb.length, 320 * 240 * 3);
      }
      await source.dispose();
    }
  },
);

test('an image pattern that matches nothing is an error naming the pattern', async () => {
  const pattern = path.join(root, 'img_%04d.png');
  const source = open(pattern);
  const status = await waitForStatus(source, (s) => s.state === 'error');
  assert.equal(status.error, `no images in ${root} match the pattern ${pattern}`);
});

test('an empty source name or a bad size or rate is refused at once', () => {
  assert.throws(() => open('  '), /video source is empty/);
  assert.throws(() => open('demo', { maxWidth: 0 }), /maxWidth must be .* got 0/);
  assert.throws(() => open('demo', { fps: -1 }), /fps must be in \(0, 120\], got -1/);
});
