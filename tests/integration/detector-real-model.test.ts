// The real YOLOX-Nano model in its worker thread, on real photos decoded by ffmpeg.
// Needs `node scripts/build.mjs` (the worker is dist/station/detector-worker.js).

import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Detection, PixelBox } from '../../app/core/types';
import { Detector, type DetectorFrame } from '../../app/station/detector/detector';
import { yoloxNanoCard } from '../../app/station/detector/model-card';
import { sharedDir } from '../../app/station/paths';
import { decodeImageRgb } from '../../app/station/video/ffmpeg';
import { openFrameSource } from '../../app/station/video/frame-source';

const IMAGES = path.join(sharedDir(), 'fixtures', 'images');
const MODEL = path.join(sharedDir(), 'models', yoloxNanoCard.file.name);
const skip = existsSync(MODEL) && existsSync(IMAGES) ? false : `${MODEL} or ${IMAGES} absent`;

let detector: Detector;
let tempDir = '';

before(async () => {
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-detector-'));
  if (!skip) detector = await Detector.create({ modelPath: MODEL });
});

after(async () => {
  await detector?.dispose();
  rmSync(tempDir, { recursive: true, force: true });
});

let nextFrameId = 1;
async function photoFrame(name: string): Promise<DetectorFrame> {
  const image = await decodeImageRgb(path.join(IMAGES, name));
  return { frameId: nextFrameId++, frameTimeMs: Date.now(), ...image };
}

function iou(a: PixelBox, b: PixelBox): number {
  const width = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const height = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  return intersection / (a[2] * a[3] + b[2] * b[3] - intersection);
}

function contains(box: PixelBox, [x, y]: [number, number]): boolean {
  return x >= box[0] && x <= box[0] + box[2] && y >= box[1] && y <= box[1] + box[3];
}

function best(detections: Detection[], className: string): Detection | undefined {
  return detections.filter((d) => d.className === className).sort((a, b) => b.score - a.score)[0];
}

test('finds the bear in bear-coco-285.jpg with its whole body boxed', { skip }, async () => {
  const frame = await photoFrame('bear-coco-285.jpg');
  assert.deepEqual([frame.width, frame.height], [586, 640]);
  const detections = await detector.detect(frame);
  const bear = best(detections, 'bear');
  assert.ok(bear, `a bear among ${detections.map((d) => d.className).join(', ')}`);
  assert.ok(bear.score >= 0.9, `bear score ${bear.score}`);
  assert.equal(bear.classId, 21);
  assert.equal(bear.frameId, frame.frameId);
  assert.equal(bear.frameTimeMs, frame.frameTimeMs);
  assert.deepEqual([bear.imageWidth, bear.imageHeight], [586, 640]);
  // Measured by hand on the photo: the bear fills the frame from the left edge to the right
  // edge and from the top of its ears (y about 70) to the bottom.
  const handBox: PixelBox = [0, 70, 586, 570];
  const overlap = iou(bear.box, handBox);
  assert.ok(overlap >= 0.85, `IoU ${overlap.toFixed(3)} of ${bear.box.map(Math.round)}`);
  // Nothing else of note in the photo.
  assert.equal(detections.filter((d) => d.score >= 0.5).length, 1);
});

test(
  'finds the person, the dog and the horse in person.jpg where they stand',
  { skip },
  async () => {
    const frame = await photoFrame('person.jpg');
    const detections = await detector.detect(frame);
    // Points on each animal, read off the photo (640 x 424).
    const expected: [string, [number, number]][] = [
      ['person', [230, 200]],
      ['dog', [130, 300]],
      ['horse', [510, 230]],
    ];
    for (const [className, point] of expected) {
      const found = best(detections, className);
      assert.ok(found, `${className} among ${detections.map((d) => d.className).join(', ')}`);
      assert.ok(found.score >= 0.5, `${className} score ${found.score}`);
      assert.ok(contains(found.box, point), `${className} box ${found.box.map(Math.round)}`);
    }
  },
);

test(
  'submit keeps one frame queued behind inference, drops older waiting ones and counts them',
  { skip },
  async () => {
    const frames: DetectorFrame[] = [];
    for (let i = 0; i < 5; i++) frames.push(await photoFrame('dog.jpg'));
    const before = detector.stats;
    const seen: number[] = [];
    const done = new Promise<void>((resolve) => {
      const subscription = detector.onDetections((frame, detections) => {
        seen.push(frame.frameId);
        assert.ok(detections.some((d) => d.className === 'dog'));
        assert.ok(detections.every((d) => d.frameId === frame.frameId));
        if (frame.frameId === frames[4].frameId) {
          void subscription.dispose();
          resolve();
        }
      });
    });
    // All five arrive while the first is in inference and the second, already letterboxed,
    // is queued behind it: the third and fourth are each replaced by the next.
    for (const frame of frames) detector.submit(frame);
    await done;
    assert.deepEqual(seen, [frames[0].frameId, frames[1].frameId, frames[4].frameId]);
    const after = detector.stats;
    assert.equal(after.framesIn - before.framesIn, 5);
    assert.equal(after.framesDropped - before.framesDropped, 2);
    assert.equal(after.framesDetected - before.framesDetected, 3);
    assert.ok(after.lastInferenceMs !== null && after.lastInferenceMs > 0);
  },
);

test(
  'a frame letterboxed on the main thread (submit) gives what the worker finds alone',
  { skip },
  async () => {
    const frame = await photoFrame('horses.jpg');
    const direct = await detector.detect(frame);
    const submitted = await new Promise<Detection[]>((resolve) => {
      const subscription = detector.onDetections((info, detections) => {
        if (info.frameId !== frame.frameId) return;
        void subscription.dispose();
        resolve(detections);
      });
      detector.submit(frame);
    });
    assert.ok(direct.length >= 2, 'the horses photo has several horses');
    assert.deepEqual(submitted, direct);
  },
);

test('the demo video, frame by frame through submit, shows a bear', { skip }, async () => {
  const source = openFrameSource('demo', {
    cacheDir: path.join(tempDir, 'cache'),
    sharedDir: sharedDir(),
  });
  try {
    const bear = await new Promise<Detection>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no bear within 60 s')), 60_000);
      const detections = detector.onDetections((_frame, found) => {
        const match = found.find((d) => d.className === 'bear' && d.score >= 0.5);
        if (!match) return;
        clearTimeout(timer);
        void detections.dispose();
        void frames.dispose();
        resolve(match);
      });
      const frames = source.onFrame((frame) => detector.submit(frame));
    });
    assert.deepEqual([bear.imageWidth, bear.imageHeight], [640, 480]);
  } finally {
    await source.dispose();
  }
});

test('a frame whose bytes do not match its size is refused', { skip }, () => {
  const frame = { frameId: 1, frameTimeMs: 0, width: 10, height: 10, rgb: new Uint8Array(5) };
  assert.throws(() => detector.detect(frame), /needs 300 rgb24 bytes, got 5/);
  assert.throws(() => detector.submit(frame), /needs 300 rgb24 bytes, got 5/);
});

test('a text file instead of the model is refused clearly', { skip }, async () => {
  const textFile = path.join(tempDir, 'yolox-nano-416.onnx');
  writeFileSync(textFile, 'this is not a model\n');
  await assert.rejects(Detector.create({ modelPath: textFile }), (error) => {
    const message = (error as Error).message;
    assert.ok(message.includes(`cannot load model ${textFile}`), message);
    assert.ok(message.includes(`sha256 ${yoloxNanoCard.file.sha256}`), message);
    return true;
  });
});

test('a truncated copy of the model is refused clearly', { skip }, async () => {
  const truncated = path.join(tempDir, 'truncated.onnx');
  writeFileSync(truncated, readFileSync(MODEL).subarray(0, 1_000_000));
  await assert.rejects(
    Detector.create({ modelPath: truncated }),
    new RegExp(`cannot load model ${truncated}: .*expected yolox-nano \\(yolox-nano-416\\.onnx`),
  );
});

test('a missing model file is refused before any worker starts', async () => {
  const missing = path.join(tempDir, 'missing.onnx');
  await assert.rejects(
    Detector.create({ modelPath: missing }),
    new RegExp(`model file ${missing} does not exist; expected yolox-nano-416\\.onnx`),
  );
});

test('dispose answers waiting requests and ignores later frames', { skip }, async () => {
  const own = await Detector.create({ modelPath: MODEL });
  const frame = await photoFrame('horses.jpg');
  const answered = assert.rejects(own.detect(frame), /detector disposed/);
  await own.dispose();
  await answered;
  own.submit(frame);
  await assert.rejects(own.detect(frame), /detector disposed/);
});
