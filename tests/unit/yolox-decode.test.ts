import assert from 'node:assert/strict';
import { test } from 'node:test';
import { letterbox } from '../../app/station/detector/letterbox';
import {
  type RawBox,
  decodeYolox,
  intersectionOverUnion,
  nonMaxSuppression,
  toDetections,
  yoloxCellCount,
} from '../../app/station/detector/yolox';

// A tiny network: 32 px input, strides 8/16/32 give 4x4 + 2x2 + 1x1 = 21 cells, 3 classes.
const INPUT_SIZE = 32;
const STRIDES = [8, 16, 32];
const NUM_CLASSES = 3;
const VALUES_PER_CELL = 5 + NUM_CLASSES;

function emptyOutput(): Float32Array {
  return new Float32Array(yoloxCellCount(INPUT_SIZE, STRIDES) * VALUES_PER_CELL);
}

function setCell(
  output: Float32Array,
  cell: number,
  values: { dx: number; dy: number; logW: number; logH: number; obj: number; cls: number[] },
): void {
  output.set(
    [values.dx, values.dy, values.logW, values.logH, values.obj, ...values.cls],
    cell * VALUES_PER_CELL,
  );
}

const decodeOptions = { inputSize: INPUT_SIZE, strides: STRIDES, numClasses: NUM_CLASSES };

function box(classId: number, score: number, x1: number, y1: number, x2: number, y2: number) {
  return { classId, score, x1Px: x1, y1Px: y1, x2Px: x2, y2Px: y2 } satisfies RawBox;
}

test('cell counts follow the strides', () => {
  assert.equal(yoloxCellCount(416, [8, 16, 32]), 3549);
  assert.equal(yoloxCellCount(INPUT_SIZE, STRIDES), 21);
});

test('a known stride-8 cell decodes to the known box, class and score', () => {
  const output = emptyOutput();
  // Grid (x 1, y 2) of the 4x4 stride-8 grid is cell 2 * 4 + 1 = 9.
  setCell(output, 9, {
    dx: 0.5,
    dy: 0.5,
    logW: Math.log(2),
    logH: Math.log(4),
    obj: 0.9,
    cls: [0.1, 0.8, 0.2],
  });
  const boxes = decodeYolox(output, { ...decodeOptions, scoreThreshold: 0.3, scale: 1 });
  assert.equal(boxes.length, 1);
  const [found] = boxes;
  assert.equal(found.classId, 1);
  assert.ok(Math.abs(found.score - 0.72) < 1e-6);
  // Centre (1.5 x 8, 2.5 x 8) = (12, 20); size 2 x 8 by 4 x 8 = 16 x 32.
  for (const [actual, expected] of [
    [found.x1Px, 4],
    [found.y1Px, 4],
    [found.x2Px, 20],
    [found.y2Px, 36],
  ]) {
    assert.ok(Math.abs(actual - expected) < 1e-4, `${actual} should be ${expected}`);
  }
});

test('boxes are mapped back to source pixels through the letterbox scale', () => {
  const output = emptyOutput();
  setCell(output, 9, {
    dx: 0.5,
    dy: 0.5,
    logW: Math.log(2),
    logH: Math.log(4),
    obj: 0.9,
    cls: [0.1, 0.8, 0.2],
  });
  // The source was shrunk to half size to fit: source coordinates are twice the network's.
  const [found] = decodeYolox(output, { ...decodeOptions, scoreThreshold: 0.3, scale: 0.5 });
  assert.deepEqual(
    [found.x1Px, found.y1Px, found.x2Px, found.y2Px].map((v) => Math.round(v * 1000) / 1000),
    [8, 8, 40, 72],
  );
});

test('cells of the coarser strides index after the finer grids', () => {
  const output = emptyOutput();
  // Stride 16: cells 16..19, grid (x 1, y 0) is cell 17. Stride 32: the single cell 20.
  setCell(output, 17, { dx: 0, dy: 0, logW: 0, logH: 0, obj: 1, cls: [0.9, 0, 0] });
  setCell(output, 20, { dx: 0.25, dy: 0.5, logW: 0, logH: 0, obj: 1, cls: [0, 0, 0.95] });
  const boxes = decodeYolox(output, { ...decodeOptions, scoreThreshold: 0.5, scale: 1 });
  assert.equal(boxes.length, 2);
  const byClass = new Map(boxes.map((b) => [b.classId, b]));
  const stride16 = byClass.get(0);
  const stride32 = byClass.get(2);
  assert.ok(stride16 && stride32);
  // Centre (1 x 16, 0) with a 16 px square box.
  assert.deepEqual([stride16.x1Px, stride16.y1Px, stride16.x2Px, stride16.y2Px], [8, -8, 24, 8]);
  // Centre (0.25 x 32, 0.5 x 32) = (8, 16) with a 32 px square box.
  assert.deepEqual([stride32.x1Px, stride32.y1Px, stride32.x2Px, stride32.y2Px], [-8, 0, 24, 32]);
});

test('score is objectness times class score and is held to the threshold', () => {
  const output = emptyOutput();
  // Objectness 0.6 x class 0.6 = 0.36: under a 0.4 threshold though each factor is over it.
  setCell(output, 0, { dx: 0, dy: 0, logW: 0, logH: 0, obj: 0.6, cls: [0.6, 0, 0] });
  // Objectness 0.3 alone is under the threshold, whatever the class says.
  setCell(output, 1, { dx: 0, dy: 0, logW: 0, logH: 0, obj: 0.3, cls: [1, 0, 0] });
  setCell(output, 2, { dx: 0, dy: 0, logW: 0, logH: 0, obj: 0.8, cls: [0, 0.6, 0] });
  const boxes = decodeYolox(output, { ...decodeOptions, scoreThreshold: 0.4, scale: 1 });
  assert.equal(boxes.length, 1);
  assert.equal(boxes[0].classId, 1);
  assert.ok(Math.abs(boxes[0].score - 0.48) < 1e-6);
});

test('an output of the wrong length is refused with the expected size', () => {
  assert.throws(
    () => decodeYolox(new Float32Array(100), { ...decodeOptions, scoreThreshold: 0.3, scale: 1 }),
    /output has 100 values, expected 21 cells x 8 = 168/,
  );
});

test('intersection over union of known boxes', () => {
  const a = box(0, 1, 0, 0, 10, 10);
  assert.equal(intersectionOverUnion(a, box(0, 1, 0, 0, 10, 10)), 1);
  assert.equal(intersectionOverUnion(a, box(0, 1, 10, 0, 20, 10)), 0);
  // Half overlap: intersection 50, union 150.
  assert.ok(Math.abs(intersectionOverUnion(a, box(0, 1, 5, 0, 15, 10)) - 1 / 3) < 1e-9);
});

test('per-class NMS keeps overlapping boxes of different classes', () => {
  const bear = box(21, 0.9, 0, 0, 100, 100);
  const dog = box(16, 0.6, 5, 5, 100, 100);
  const bearDuplicate = box(21, 0.8, 2, 2, 98, 98);
  const kept = nonMaxSuppression([dog, bearDuplicate, bear], 0.45);
  assert.deepEqual(kept, [bear, dog]);
  // Class-agnostic suppression removes the dog under the stronger bear.
  assert.deepEqual(nonMaxSuppression([dog, bearDuplicate, bear], 0.45, false), [bear]);
});

test('NMS suppresses in order of score, so a suppressed box suppresses nothing', () => {
  // B overlaps A and C; A and C overlap little. A (strongest) removes B, and C survives
  // because B, already gone, cannot remove it.
  const a = box(0, 0.9, 0, 0, 10, 10);
  const b = box(0, 0.8, 3, 0, 13, 10);
  const c = box(0, 0.7, 6, 0, 16, 10);
  assert.ok(intersectionOverUnion(a, b) > 0.45 && intersectionOverUnion(b, c) > 0.45);
  assert.ok(intersectionOverUnion(a, c) < 0.45);
  // Taken in input order, B would come first and remove both A and C.
  assert.deepEqual(nonMaxSuppression([b, c, a], 0.45), [a, c]);
  assert.deepEqual(nonMaxSuppression([c, a, b], 0.45), [a, c]);
});

test('NMS refuses an IoU threshold outside 0..1', () => {
  assert.throws(() => nonMaxSuppression([], 1.5), /iouThreshold must be in 0..1/);
});

test('detections are clipped to the frame and empty boxes dropped', () => {
  const frame = { frameId: 7, frameTimeMs: 1000, width: 100, height: 50 };
  const detections = toDetections(
    [box(21, 0.9, -10, -5, 60, 70), box(0, 0.5, 120, 10, 140, 20)],
    frame,
    ['person', ...Array.from({ length: 20 }, (_, i) => `c${i + 1}`), 'bear'],
  );
  assert.equal(detections.length, 1);
  assert.deepEqual(detections[0], {
    frameId: 7,
    frameTimeMs: 1000,
    classId: 21,
    className: 'bear',
    score: 0.9,
    box: [0, 0, 60, 50],
    imageWidth: 100,
    imageHeight: 50,
  });
});

test('non-finite boxes and scores outside 0..1 from a broken model are dropped', () => {
  const frame = { frameId: 8, frameTimeMs: 1000, width: 100, height: 50 };
  const names = ['person'];
  const broken = [
    box(0, Number.POSITIVE_INFINITY, 10, 10, 20, 20),
    box(0, Number.NaN, 10, 10, 20, 20),
    box(0, 1e30, 10, 10, 20, 20),
    box(0, 0.8, Number.NaN, 10, 20, 20),
    box(0, 0.8, 10, 10, Number.POSITIVE_INFINITY, 20),
  ];
  assert.deepEqual(toDetections(broken, frame, names), []);
  assert.equal(toDetections([box(0, 0.8, 10, 10, 20, 20)], frame, names).length, 1);
});

test('letterbox puts the resized frame top-left in BGR planes and pads with 114', () => {
  // 4 x 2 frame of one colour: red 10, green 20, blue 30. Into 8 x 8: scale 2, 8 x 4 image.
  const rgb = new Uint8Array(4 * 2 * 3);
  for (let i = 0; i < rgb.length; i += 3) rgb.set([10, 20, 30], i);
  const { tensor, scale } = letterbox(rgb, 4, 2, {
    inputSize: 8,
    padValue: 114,
    channelOrder: 'BGR',
  });
  assert.equal(scale, 2);
  assert.equal(tensor.length, 3 * 64);
  const at = (plane: number, x: number, y: number): number => tensor[plane * 64 + y * 8 + x];
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const expected = y < 4 ? [30, 20, 10] : [114, 114, 114];
      assert.deepEqual([at(0, x, y), at(1, x, y), at(2, x, y)], expected, `pixel ${x},${y}`);
    }
  }
});

test('letterbox resamples bilinearly with OpenCV pixel centres', () => {
  // One row 0, 100 (grey) scaled to 4 wide: source x = (x + 0.5) / 2 - 0.5, clamped.
  const rgb = new Uint8Array([0, 0, 0, 100, 100, 100]);
  const { tensor, scale } = letterbox(rgb, 2, 1, {
    inputSize: 4,
    padValue: 114,
    channelOrder: 'RGB',
  });
  assert.equal(scale, 2);
  assert.deepEqual(Array.from(tensor.subarray(0, 4)), [0, 25, 75, 100]);
  assert.deepEqual(Array.from(tensor.subarray(4, 8)), [0, 25, 75, 100]);
  assert.deepEqual(Array.from(tensor.subarray(8, 16)), Array(8).fill(114));
});

test('letterbox refuses a frame whose bytes do not match its size', () => {
  assert.throws(
    () => letterbox(new Uint8Array(10), 4, 2, { inputSize: 8, padValue: 114, channelOrder: 'BGR' }),
    /needs 24 bytes, got 10/,
  );
});
