// The YOLO-family output layouts Ursa decodes besides the YOLOX grid, and how a layout is
// recognised from the output shape. Pure: no Node imports.

import { type RawBox, yoloxCellCount } from './yolox';

export type OutputFormat = 'yolox-grid' | 'yolov5' | 'yolov8' | 'end-to-end';

/** The strides every supported export predicts at. */
export const YOLO_STRIDES = [8, 16, 32];

export interface LayoutOptions {
  /** Boxes whose score is below this are dropped. */
  scoreThreshold: number;
  /** Letterbox scale: network-input pixels per source pixel. */
  scale: number;
  /** Letterbox padding before the image starts, in network-input pixels. */
  padXPx: number;
  padYPx: number;
}

export interface RecognisedLayout {
  format: OutputFormat;
  /** Classes the output scores; 0 for end-to-end outputs, which carry a class id instead. */
  numClasses: number;
}

function box(
  classId: number,
  score: number,
  centerX: number,
  centerY: number,
  width: number,
  height: number,
  options: LayoutOptions,
): RawBox {
  const { scale, padXPx, padYPx } = options;
  return {
    classId,
    score,
    x1Px: (centerX - width / 2 - padXPx) / scale,
    y1Px: (centerY - height / 2 - padYPx) / scale,
    x2Px: (centerX + width / 2 - padXPx) / scale,
    y2Px: (centerY + height / 2 - padYPx) / scale,
  };
}

function checkLength(name: string, output: Float32Array, rows: number, columns: number): void {
  if (output.length !== rows * columns) {
    throw new Error(`${name}: output has ${output.length} values, expected ${rows} x ${columns}`);
  }
}

/** [1, N, 5 + classes]: cx, cy, w, h in input pixels, objectness, class scores. */
export function decodeYolov5(
  output: Float32Array,
  rows: number,
  numClasses: number,
  options: LayoutOptions,
): RawBox[] {
  const columns = 5 + numClasses;
  checkLength('decodeYolov5', output, rows, columns);
  const boxes: RawBox[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * columns;
    const objectness = output[base + 4];
    if (objectness < options.scoreThreshold) continue;
    let classId = 0;
    let classScore = output[base + 5];
    for (let c = 1; c < numClasses; c++) {
      if (output[base + 5 + c] > classScore) {
        classScore = output[base + 5 + c];
        classId = c;
      }
    }
    const score = objectness * classScore;
    if (score < options.scoreThreshold) continue;
    const [cx, cy, w, h] = [output[base], output[base + 1], output[base + 2], output[base + 3]];
    boxes.push(box(classId, score, cx, cy, w, h, options));
  }
  return boxes;
}

/** [1, 4 + classes, N], column-major per candidate: cx, cy, w, h, class scores. */
export function decodeYolov8(
  output: Float32Array,
  candidates: number,
  numClasses: number,
  options: LayoutOptions,
): RawBox[] {
  checkLength('decodeYolov8', output, 4 + numClasses, candidates);
  const boxes: RawBox[] = [];
  for (let i = 0; i < candidates; i++) {
    let classId = 0;
    let score = output[4 * candidates + i];
    for (let c = 1; c < numClasses; c++) {
      const value = output[(4 + c) * candidates + i];
      if (value > score) {
        score = value;
        classId = c;
      }
    }
    if (score < options.scoreThreshold) continue;
    const cx = output[i];
    const cy = output[candidates + i];
    const w = output[2 * candidates + i];
    const h = output[3 * candidates + i];
    boxes.push(box(classId, score, cx, cy, w, h, options));
  }
  return boxes;
}

/** [1, N, 6]: x1, y1, x2, y2 in input pixels, score, class id; already suppressed. */
export function decodeEndToEnd(
  output: Float32Array,
  rows: number,
  options: LayoutOptions,
): RawBox[] {
  checkLength('decodeEndToEnd', output, rows, 6);
  const { scale, padXPx, padYPx, scoreThreshold } = options;
  const boxes: RawBox[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * 6;
    const score = output[base + 4];
    if (!(score >= scoreThreshold)) continue;
    const classId = Math.round(output[base + 5]);
    if (!(classId >= 0)) continue;
    boxes.push({
      classId,
      score,
      x1Px: (output[base] - padXPx) / scale,
      y1Px: (output[base + 1] - padYPx) / scale,
      x2Px: (output[base + 2] - padXPx) / scale,
      y2Px: (output[base + 3] - padYPx) / scale,
    });
  }
  return boxes;
}

/** What each layout's output shape must be for a square input of inputSizePx. */
export function expectedLayouts(inputSizePx: number): string {
  const cells = yoloxCellCount(inputSizePx, YOLO_STRIDES);
  return (
    `YOLOX grid [1, ${cells}, 5 + classes], YOLOv5 [1, ${3 * cells}, 5 + classes], ` +
    `YOLOv8/YOLO11 [1, 4 + classes, ${cells}] or end-to-end [1, N, 6] ` +
    `(for input ${inputSizePx}x${inputSizePx}, strides ${YOLO_STRIDES.join('/')})`
  );
}

/** Recognises the layout from the output shape; null when it is none Ursa knows. */
export function recogniseLayout(
  inputSizePx: number,
  outputShape: readonly number[],
): RecognisedLayout | null {
  if (outputShape.length !== 3 || outputShape[0] !== 1) return null;
  const [, rows, columns] = outputShape;
  const cells = yoloxCellCount(inputSizePx, YOLO_STRIDES);
  if (rows === cells && columns >= 6) return { format: 'yolox-grid', numClasses: columns - 5 };
  // A one-class YOLOv5 is also [1, N, 6]; its N is three anchors per cell.
  if (rows === 3 * cells && columns >= 6) return { format: 'yolov5', numClasses: columns - 5 };
  if (columns === 6 && rows >= 1) return { format: 'end-to-end', numClasses: 0 };
  if (columns === cells && rows >= 5) return { format: 'yolov8', numClasses: rows - 4 };
  return null;
}
