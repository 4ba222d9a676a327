import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeEndToEnd,
  decodeYolov5,
  decodeYolov8,
  expectedLayouts,
  recogniseLayout,
} from '../../app/station/detector/layouts';
import { letterbox } from '../../app/station/detector/letterbox';
import {
  parseClassNames,
  parseImageSize,
  readOnnxMetadata,
} from '../../app/station/detector/onnx-metadata';
import { columnsOutput, encodeTinyModel, rowsOutput } from '../helpers/onnx-models';

const PLACED = { scoreThreshold: 0.3, scale: 0.5, padXPx: 4, padYPx: 8 };

test('layouts are recognised from the output shape at the usual sizes', () => {
  assert.deepEqual(recogniseLayout(416, [1, 3549, 85]), { format: 'yolox-grid', numClasses: 80 });
  assert.deepEqual(recogniseLayout(640, [1, 25200, 85]), { format: 'yolov5', numClasses: 80 });
  // A one-class YOLOv5 is [1, N, 6] too; three anchors per cell tell it from end-to-end.
  assert.deepEqual(recogniseLayout(640, [1, 25200, 6]), { format: 'yolov5', numClasses: 1 });
  assert.deepEqual(recogniseLayout(640, [1, 84, 8400]), { format: 'yolov8', numClasses: 80 });
  assert.deepEqual(recogniseLayout(640, [1, 5, 8400]), { format: 'yolov8', numClasses: 1 });
  assert.deepEqual(recogniseLayout(640, [1, 300, 6]), { format: 'end-to-end', numClasses: 0 });
  assert.equal(recogniseLayout(640, [1, 84, 8000]), null);
  assert.equal(recogniseLayout(640, [2, 300, 6]), null);
  assert.equal(recogniseLayout(640, [1, 1000]), null);
  assert.match(expectedLayouts(640), /YOLOv5 \[1, 25200, 5 \+ classes\]/);
});

test('YOLOv5 rows decode to source pixels, score = objectness x class score', () => {
  const output = rowsOutput(3, 7, {
    0: [20, 40, 8, 16, 0.5, 0.2, 0.9],
    1: [20, 40, 8, 16, 0.2, 1, 1],
    2: [20, 40, 8, 16, 0.9, 0.3, 0.1],
  });
  const boxes = decodeYolov5(output, 3, 2, PLACED);
  assert.equal(boxes.length, 1);
  assert.equal(boxes[0].classId, 1);
  assert.ok(Math.abs(boxes[0].score - 0.45) < 1e-6);
  assert.deepEqual([boxes[0].x1Px, boxes[0].y1Px, boxes[0].x2Px, boxes[0].y2Px], [24, 48, 40, 80]);
  assert.throws(() => decodeYolov5(output, 3, 3, PLACED), /expected 3 x 8/);
});

test('YOLOv8 columns decode with no objectness', () => {
  const output = columnsOutput(6, 4, { 2: [20, 40, 8, 16, 0.1, 0.7], 3: [1, 1, 1, 1, 0.2, 0.1] });
  const boxes = decodeYolov8(output, 4, 2, PLACED);
  assert.equal(boxes.length, 1);
  assert.equal(boxes[0].classId, 1);
  assert.ok(Math.abs(boxes[0].score - 0.7) < 1e-6);
  assert.deepEqual([boxes[0].x1Px, boxes[0].y2Px], [24, 80]);
});

test('end-to-end rows keep corners, score and class id', () => {
  const output = rowsOutput(2, 6, { 0: [16, 24, 24, 40, 0.8, 3], 1: [0, 0, 1, 1, 0.1, 0] });
  const boxes = decodeEndToEnd(output, 2, PLACED);
  assert.deepEqual(
    boxes.map((b) => [b.classId, b.x1Px, b.y1Px, b.x2Px, b.y2Px]),
    [[3, 24, 32, 40, 64]],
  );
});

test('class names parse from Ultralytics dicts, JSON lists, with gaps named', () => {
  assert.deepEqual(parseClassNames("{0: 'person', 1: 'black bear', 2: \"it's\"}"), [
    'person',
    'black bear',
    "it's",
  ]);
  assert.deepEqual(parseClassNames('["a", "b"]'), ['a', 'b']);
  assert.deepEqual(parseClassNames("{0: 'a', 2: 'c'}"), ['a', 'class 1', 'c']);
  assert.equal(parseClassNames('nothing here'), null);
  assert.equal(parseImageSize('[640, 640]'), 640);
  assert.equal(parseImageSize('[480, 640]'), null);
  assert.equal(parseImageSize(undefined), null);
});

test('metadata_props are read from an ONNX file', () => {
  const bytes = encodeTinyModel({
    inputShape: [1, 3, 32, 32],
    outputShape: [1, 2, 6],
    output: new Float32Array(12),
    metadata: { names: "{0: 'bear'}", imgsz: '[32, 32]', author: 'Ultralytics' },
  });
  const metadata = readOnnxMetadata(bytes);
  assert.equal(metadata.get('names'), "{0: 'bear'}");
  assert.equal(metadata.get('imgsz'), '[32, 32]');
  assert.equal(metadata.size, 3);
  assert.throws(() => readOnnxMetadata(bytes.subarray(0, bytes.length - 3)), /past|truncated/);
});

test('a centred letterbox pads both sides and reports where the image starts', () => {
  // A 4x2 white frame into 4x4: 4x2 image with one row of padding above and below.
  const rgb = new Uint8Array(4 * 2 * 3).fill(255);
  const placed = letterbox(rgb, 4, 2, {
    inputSize: 4,
    padValue: 114,
    channelOrder: 'RGB',
    align: 'center',
  });
  assert.deepEqual([placed.scale, placed.padXPx, placed.padYPx], [1, 0, 1]);
  assert.deepEqual(Array.from(placed.tensor.subarray(0, 16)), [
    ...Array(4).fill(114),
    ...Array(8).fill(255),
    ...Array(4).fill(114),
  ]);
  const topLeft = letterbox(rgb, 4, 2, { inputSize: 4, padValue: 114, channelOrder: 'RGB' });
  assert.deepEqual([topLeft.padXPx, topLeft.padYPx], [0, 0]);
  assert.deepEqual(Array.from(topLeft.tensor.subarray(0, 8)), Array(8).fill(255));
});
