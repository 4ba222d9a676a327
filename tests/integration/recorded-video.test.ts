// A video recorded by the real VideoRecorder (ffmpeg, MPEG-TS, frame table) opened for replay
// by RecordedVideo: every frame decoded once into the cache, found by its time, and read back
// as the picture that was recorded. Broken inputs give errors that name the file.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  CACHE_OWNER_FILE,
  RecordedVideo,
  removeStaleCaches,
} from '../../app/station/replay/recorded-video';
import { decodeImageRgb } from '../../app/station/video/ffmpeg';
import { VideoRecorder } from '../../app/station/video/recorder';

/** One solid colour a frame, far apart, so a decoded frame names itself. */
const COLOURS: Array<[number, number, number]> = [
  [230, 30, 30],
  [30, 230, 30],
  [30, 30, 230],
  [230, 230, 30],
  [30, 230, 230],
  [230, 30, 230],
  [240, 240, 240],
  [20, 20, 20],
  [128, 128, 128],
  [230, 130, 30],
  [130, 30, 230],
  [30, 130, 90],
];
const WIDTH_PX = 160;
const HEIGHT_PX = 120;
const FIRST_FRAME_MS = 1_800_000_000_000;
const FRAME_STEP_MS = 100;

let root = '';
let base = '';

function solidJpeg([r, g, b]: [number, number, number]): Buffer {
  const hex = [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return execFileSync('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', `color=c=0x${hex}:s=${WIDTH_PX}x${HEIGHT_PX}`, '-frames:v', '1'],
    ...['-q:v', '3', '-f', 'mjpeg', 'pipe:1'],
  ]);
}

const frameTimeMs = (index: number): number => FIRST_FRAME_MS + index * FRAME_STEP_MS;

before(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'ursa-recorded-video-'));
  base = path.join(root, 'flight');
  const recorder = VideoRecorder.start(base);
  try {
    COLOURS.forEach((colour, index) => {
      recorder.write({
        frameId: 1000 + index,
        frameTimeMs: frameTimeMs(index),
        arrivalMs: frameTimeMs(index) + 20,
        delayMs: 20,
        jpeg: solidJpeg(colour),
      });
    });
  } finally {
    await recorder.dispose();
  }
  assert.equal(recorder.failed, null);
  assert.equal(recorder.framesRecorded, COLOURS.length);
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

async function meanColour(jpeg: Buffer, name: string): Promise<[number, number, number]> {
  const file = path.join(root, `${name}.jpg`);
  writeFileSync(file, jpeg);
  const image = await decodeImageRgb(file);
  const sum = [0, 0, 0];
  for (let i = 0; i < image.rgb.length; i += 3) {
    for (let c = 0; c < 3; c++) sum[c] += image.rgb[i + c];
  }
  const pixels = image.rgb.length / 3;
  return [sum[0] / pixels, sum[1] / pixels, sum[2] / pixels];
}

function nearestColour(rgb: [number, number, number]): number {
  let best = -1;
  let bestDistance = Infinity;
  COLOURS.forEach((colour, index) => {
    const distance = Math.hypot(...colour.map((v, c) => v - rgb[c]));
    if (distance < bestDistance) {
      bestDistance = distance;
      best = index;
    }
  });
  return best;
}

test('each recorded frame is decoded once, found by its time, read back as recorded', async () => {
  const cacheDir = path.join(root, 'cache-a');
  const progress: Array<[number, number]> = [];
  const video = await RecordedVideo.open(`${base}.ts`, `${base}.frames.csv`, {
    cacheDir,
    onProgress: (done, total) => progress.push([done, total]),
  });
  try {
    assert.equal(video.frames, COLOURS.length);
    assert.deepEqual(video.warnings, []);
    assert.equal(video.widthPx, WIDTH_PX);
    assert.equal(video.heightPx, HEIGHT_PX);
    assert.deepEqual(progress.at(-1), [COLOURS.length, COLOURS.length]);
    assert.ok(progress.every(([done, total], i) => done === i + 1 && total === COLOURS.length));

    assert.equal(video.frameAt(frameTimeMs(0) - 1), null, 'nothing before the first frame');
    for (let i = 0; i < COLOURS.length; i++) {
      assert.equal(video.frameAt(frameTimeMs(i)), i, `frame ${i} at its own time`);
      assert.equal(video.frameAt(frameTimeMs(i) + FRAME_STEP_MS / 2), i, 'newest before');
      assert.deepEqual(video.frameInfo(i), { frameId: 1000 + i, frameTimeMs: frameTimeMs(i) });
    }
    assert.equal(video.frameAt(frameTimeMs(COLOURS.length + 50)), COLOURS.length - 1);

    // Read back in a scattered order: each is its own picture, from the cache file.
    const order = [5, 0, 11, 3, 7, 1, 10, 2, 9, 4, 8, 6];
    for (const index of order) {
      const jpeg = video.jpeg(index);
      assert.equal(jpeg[0], 0xff);
      assert.equal(jpeg[1], 0xd8);
      const rgb = await meanColour(jpeg, `frame-${index}`);
      assert.equal(nearestColour(rgb), index, `frame ${index} decodes to ${rgb.join(',')}`);
    }

    const caches = readdirSync(cacheDir);
    assert.equal(caches.length, 1, 'one cache folder');
    assert.throws(() => video.jpeg(COLOURS.length), /frame 12 is not in the recorded video/);
    assert.throws(() => video.frameInfo(-1), /frame -1 is not in the recorded video/);
  } finally {
    video.dispose();
  }
  assert.deepEqual(readdirSync(cacheDir), [], 'dispose removes the cache');
  assert.throws(() => video.jpeg(0), /is closed|not in/);
});

test('a table longer than its video (a kill): the frames there are, and a warning', async () => {
  const cut = path.join(root, 'cut');
  copyFileSync(`${base}.ts`, `${cut}.ts`);
  copyFileSync(`${base}.frames.csv`, `${cut}.frames.csv`);
  const extra = [12, 13, 14].map((i) => `${i},${1000 + i},${frameTimeMs(i)},${frameTimeMs(i)},`);
  // And a last row cut short in the middle of its writing.
  appendFileSync(`${cut}.frames.csv`, `${extra.join('\n')}\n15,1015,18000`);
  const video = await RecordedVideo.open(`${cut}.ts`, `${cut}.frames.csv`, {
    cacheDir: path.join(root, 'cache-b'),
  });
  try {
    assert.equal(video.frames, COLOURS.length);
    assert.equal(video.warnings.length, 2, video.warnings.join('\n'));
    assert.match(video.warnings.join('\n'), /last row was cut short/);
    assert.match(
      video.warnings.join('\n'),
      /has 12 frames where its table lists 15 \(the recording was cut short\)/,
    );
    assert.equal(video.frameAt(frameTimeMs(14)), COLOURS.length - 1);
    assert.equal(nearestColour(await meanColour(video.jpeg(11), 'cut-11')), 11);
  } finally {
    video.dispose();
  }
});

test('missing or broken files: an error that names the file, and no cache left', async () => {
  const cacheDir = path.join(root, 'cache-c');
  const table = `${base}.frames.csv`;
  await assert.rejects(
    RecordedVideo.open(path.join(root, 'none.ts'), table, { cacheDir }),
    /recorded video .*none\.ts does not exist/,
  );
  await assert.rejects(
    RecordedVideo.open(`${base}.ts`, path.join(root, 'none.frames.csv'), { cacheDir }),
    /frame table .*none\.frames\.csv does not exist/,
  );

  const junk = path.join(root, 'junk.ts');
  writeFileSync(junk, Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919) % 251)));
  await assert.rejects(
    RecordedVideo.open(junk, table, { cacheDir }),
    /recorded video .*junk\.ts holds no frames ffmpeg can decode/,
  );

  const badHeader = path.join(root, 'bad-header.frames.csv');
  writeFileSync(badHeader, 'frame,id,time\n0,1,2\n');
  await assert.rejects(
    RecordedVideo.open(`${base}.ts`, badHeader, { cacheDir }),
    /frame table .*bad-header\.frames\.csv does not start with the header/,
  );

  const badRow = path.join(root, 'bad-row.frames.csv');
  const rows = readFileSync(table, 'utf8').split('\n');
  rows[3] = '2,1002,soon,1,';
  writeFileSync(badRow, rows.join('\n'));
  await assert.rejects(
    RecordedVideo.open(`${base}.ts`, badRow, { cacheDir }),
    /frame table .*bad-row\.frames\.csv line 4: frameTimeMs "soon" is not a time/,
  );

  assert.ok(!existsSync(cacheDir) || readdirSync(cacheDir).length === 0, 'no cache left');
});

test('cancelling the decoding rejects and leaves no cache', async () => {
  const cacheDir = path.join(root, 'cache-d');
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    RecordedVideo.open(`${base}.ts`, `${base}.frames.csv`, {
      cacheDir,
      signal: controller.signal,
    }),
    /cancelled/,
  );
  assert.deepEqual(readdirSync(cacheDir), []);
});

test('stale caches of replays that were killed are removed; live ones are kept', async () => {
  const cacheDir = path.join(root, 'cache-e');
  mkdirSync(cacheDir, { recursive: true });
  // A process that has exited: its pid names no process now.
  const gone = spawnSync(process.execPath, ['-e', '0']).pid!;
  const folder = (name: string, owner: number | null, ageMs = 0): string => {
    const dir = path.join(cacheDir, `replay-video-${name}`);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'frames.jpegs'), 'x');
    if (owner !== null)
      writeFileSync(path.join(dir, CACHE_OWNER_FILE), JSON.stringify({ pid: owner }));
    const whenS = (Date.now() - ageMs) / 1000;
    utimesSync(dir, whenS, whenS);
    return dir;
  };
  const dead = folder('dead', gone);
  const oldUnowned = folder('old', null, 2 * 60 * 60 * 1000);
  const newUnowned = folder('new', null, 60 * 1000);
  const alive = folder('alive', process.ppid);
  const other = path.join(cacheDir, 'something-else');
  mkdirSync(other);
  const video = await RecordedVideo.open(`${base}.ts`, `${base}.frames.csv`, { cacheDir });
  try {
    assert.ok(!existsSync(dead), 'the cache of a process that is gone');
    assert.ok(!existsSync(oldUnowned), 'an old cache without an owner');
    assert.ok(existsSync(newUnowned), 'a new cache without an owner may be being made');
    assert.ok(existsSync(alive), 'the cache of a live process');
    assert.ok(existsSync(other), 'not a replay cache');
    const mine = readdirSync(cacheDir).filter(
      (name) => name.startsWith('replay-video-') && !/-(new|alive)$/.test(name),
    );
    assert.equal(mine.length, 1, mine.join(', '));
    const owner = JSON.parse(readFileSync(path.join(cacheDir, mine[0], CACHE_OWNER_FILE), 'utf8'));
    assert.deepEqual(owner, { pid: process.pid });
  } finally {
    video.dispose();
  }
  assert.deepEqual(removeStaleCaches(cacheDir), [], 'nothing stale is left');
});
