// Tiny YOLO-family ONNX models of each output layout, through the real onnxruntime-node in the
// detector's worker thread: the layout, input size and class names are read off the model.
// Needs `node scripts/build.mjs` (the worker is dist/station/detector-worker.js).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { Detection } from '../../app/core/types';
import { Detector, type DetectorFrame } from '../../app/station/detector/detector';
import { columnsOutput, rowsOutput, writeTinyModel } from '../helpers/onnx-models';

const SIDE_PX = 32;
/** Grid cells at strides 8/16/32 for a 32-pixel input: 4x4 + 2x2 + 1x1. */
const CELLS = 21;
let tempDir = '';

before(() => {
  tempDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-layouts-'));
});

after(() => {
  rmSync(tempDir, { recursive: true, force: true });
});

function frame(widthPx: number, heightPx: number): DetectorFrame {
  const rgb = new Uint8Array(widthPx * heightPx * 3).fill(60);
  return { frameId: 1, frameTimeMs: 1000, width: widthPx, height: heightPx, rgb };
}

async function detectWith(modelPath: string, input: DetectorFrame) {
  const detector = await Detector.create({ modelPath, intraOpThreads: 1 });
  try {
    return { card: detector.card, detections: await detector.detect(input) };
  } finally {
    await detector.dispose();
  }
}

function summary(detections: Detection[]) {
  return detections.map((d) => ({ className: d.className, classId: d.classId, box: d.box }));
}

test('YOLOv5 [1, N, 5 + classes], names from Ultralytics metadata, RGB 0..1 centred', async () => {
  const model = writeTinyModel(path.join(tempDir, 'v5.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputShape: [1, 3 * CELLS, 7],
    output: rowsOutput(3 * CELLS, 7, {
      4: [16, 16, 8, 4, 0.9, 0.1, 0.8],
      // Objectness too weak: dropped.
      5: [10, 10, 4, 4, 0.2, 1, 0],
    }),
    metadata: { names: "{0: 'person', 1: 'bear'}", imgsz: '[32, 32]' },
  });
  // 64x32 into 32x32: scale 0.5, image 32x16 centred, 8 px of padding above.
  const { card, detections } = await detectWith(model, frame(64, 32));
  assert.equal(card.output.format, 'yolov5');
  assert.deepEqual(card.classNames, ['person', 'bear']);
  assert.equal(card.input.channelOrder, 'RGB');
  assert.deepEqual(card.input.valueRange, [0, 1]);
  assert.equal(card.input.letterbox.align, 'center');
  assert.deepEqual(summary(detections), [{ className: 'bear', classId: 1, box: [24, 12, 16, 8] }]);
  assert.ok(Math.abs(detections[0].score - 0.9 * 0.8) < 1e-6, `${detections[0].score}`);
});

test('YOLOv8/YOLO11 [1, 4 + classes, N], names from MODEL.labels.txt', async () => {
  const dir = path.join(tempDir, 'v8');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'bears.labels.txt'), 'cub\nsow\nboar\n');
  writeFileSync(path.join(dir, 'labels.txt'), 'not\nthese\nnames\n');
  const model = writeTinyModel(path.join(dir, 'bears.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputShape: [1, 7, CELLS],
    output: columnsOutput(7, CELLS, {
      5: [16, 20, 4, 8, 0.1, 0.2, 0.6],
      // The same box, weaker: suppressed.
      6: [16, 20, 4, 8, 0.1, 0.2, 0.5],
      7: [4, 4, 2, 2, 0.1, 0.1, 0.1],
    }),
  });
  // 32x64 into 32x32: scale 0.5, image 16x32 centred, 8 px of padding left.
  const { card, detections } = await detectWith(model, frame(32, 64));
  assert.equal(card.output.format, 'yolov8');
  assert.deepEqual(card.classNames, ['cub', 'sow', 'boar']);
  assert.deepEqual(summary(detections), [{ className: 'boar', classId: 2, box: [12, 32, 8, 16] }]);
  assert.ok(Math.abs(detections[0].score - 0.6) < 1e-6);
});

test('end-to-end [1, N, 6], names from labels.txt, unnamed classes as "class N"', async () => {
  const dir = path.join(tempDir, 'e2e');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'labels.txt'), 'cat\ndog\n');
  const model = writeTinyModel(path.join(dir, 'yolov10.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputShape: [1, 4, 6],
    output: rowsOutput(4, 6, {
      0: [8, 8, 24, 16, 0.95, 1],
      1: [0, 0, 4, 4, 0.5, 5],
      2: [0, 0, 30, 30, 0.1, 0],
    }),
  });
  const { card, detections } = await detectWith(model, frame(32, 32));
  assert.equal(card.output.format, 'end-to-end');
  assert.deepEqual(summary(detections), [
    { className: 'dog', classId: 1, box: [8, 8, 16, 8] },
    { className: 'class 5', classId: 5, box: [0, 0, 4, 4] },
  ]);
  assert.deepEqual(
    detections.map((d) => Math.round(d.score * 1e6) / 1e6),
    [0.95, 0.5],
  );
});

test('a YOLOX grid that is not the carded one: BGR 0..255 top-left, "class N"', async () => {
  const model = writeTinyModel(path.join(tempDir, 'yolox-tiny.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputShape: [1, CELLS, 6],
    // Cell 9 is stride 8, grid (1, 2): centre (12, 20), exp(0) x 8 = 8 px wide and high.
    output: rowsOutput(CELLS, 6, { 9: [0.5, 0.5, 0, 0, 0.9, 0.9] }),
  });
  const { card, detections } = await detectWith(model, frame(32, 32));
  assert.equal(card.output.format, 'yolox-grid');
  assert.equal(card.input.channelOrder, 'BGR');
  assert.deepEqual(card.input.valueRange, [0, 255]);
  assert.equal(card.input.letterbox.align, 'top-left');
  assert.deepEqual(summary(detections), [{ className: 'class 0', classId: 0, box: [8, 16, 8, 8] }]);
  assert.ok(Math.abs(detections[0].score - 0.81) < 1e-6);
});

test('a dynamic input size comes from Ultralytics imgsz metadata', async () => {
  const model = writeTinyModel(path.join(tempDir, 'dynamic.onnx'), {
    inputShape: ['batch', 3, 'height', 'width'],
    outputShape: [1, 5, CELLS],
    output: columnsOutput(5, CELLS, { 0: [16, 16, 8, 8, 0.7] }),
    metadata: { names: "{0: 'bear'}", imgsz: '[32, 32]' },
  });
  const { card, detections } = await detectWith(model, frame(32, 32));
  assert.deepEqual(card.input.shape, [1, 3, 32, 32]);
  assert.deepEqual(summary(detections), [{ className: 'bear', classId: 0, box: [12, 12, 8, 8] }]);
});

test('a model of no known layout is refused, naming its shapes and what was expected', async () => {
  const model = writeTinyModel(path.join(tempDir, 'odd.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputName: 'scores',
    outputShape: [1, 7, 9],
    output: new Float32Array(63),
  });
  await assert.rejects(Detector.create({ modelPath: model, intraOpThreads: 1 }), (error: Error) => {
    const message = error.message;
    assert.ok(message.includes(`model ${model}`), message);
    assert.ok(message.includes('"images" [1,3,32,32]'), message);
    assert.ok(message.includes('"scores" [1,7,9]'), message);
    assert.ok(message.includes(`YOLOv8/YOLO11 [1, 4 + classes, ${CELLS}]`), message);
    assert.ok(message.includes('end-to-end [1, N, 6]'), message);
    return true;
  });
});

test('Ultralytics models are fed 0..1, YOLOX models 0..255', async () => {
  const white = frame(32, 32);
  white.rgb.fill(255);
  // The graph adds the largest input value to every output value.
  const v8Output = new Float32Array(5 * CELLS).fill(-1);
  [15, 15, 7, 7, -0.3].forEach((value, channel) => {
    v8Output[channel * CELLS] = value;
  });
  const v8 = writeTinyModel(path.join(tempDir, 'v8-range.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputShape: [1, 5, CELLS],
    output: v8Output,
    addInputMax: true,
  });
  const fromV8 = await detectWith(v8, white);
  assert.deepEqual(summary(fromV8.detections), [
    { className: 'class 0', classId: 0, box: [12, 12, 8, 8] },
  ]);
  assert.ok(Math.abs(fromV8.detections[0].score - 0.7) < 1e-6);

  const yoloxOutput = new Float32Array(CELLS * 6).fill(-255);
  yoloxOutput.set([0.5 - 255, 0.5 - 255, -255, -255, 0.9 - 255, 0.9 - 255], 9 * 6);
  const yolox = writeTinyModel(path.join(tempDir, 'yolox-range.onnx'), {
    inputShape: [1, 3, SIDE_PX, SIDE_PX],
    outputShape: [1, CELLS, 6],
    output: yoloxOutput,
    addInputMax: true,
  });
  const fromYolox = await detectWith(yolox, white);
  assert.deepEqual(summary(fromYolox.detections), [
    { className: 'class 0', classId: 0, box: [8, 16, 8, 8] },
  ]);
  assert.ok(Math.abs(fromYolox.detections[0].score - 0.81) < 1e-4);
});
