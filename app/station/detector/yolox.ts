// YOLOX output decoding and non-maximum suppression. Pure: no Node imports, so the worker, the
// benchmark and the unit tests share exactly the same arithmetic.

import type { Detection } from '../../core/types';

/** A candidate box in source-frame pixels (corners), before or after suppression. */
export interface RawBox {
  classId: number;
  score: number;
  x1Px: number;
  y1Px: number;
  x2Px: number;
  y2Px: number;
}

export interface DecodeOptions {
  /** Side of the square network input, in pixels (416 for YOLOX-Nano). */
  inputSize: number;
  strides: number[];
  numClasses: number;
  /** Boxes whose objectness x class score is below this are dropped. */
  scoreThreshold: number;
  /** Letterbox scale: network-input pixels per source pixel. */
  scale: number;
}

/** Cells the network predicts for a square input: one per grid position per stride. */
export function yoloxCellCount(inputSize: number, strides: number[]): number {
  let cells = 0;
  for (const stride of strides) {
    const side = Math.floor(inputSize / stride);
    cells += side * side;
  }
  return cells;
}

/**
 * Decodes the raw grid output ([1, cells, 5 + classes]: x, y, w, h, objectness, class scores;
 * objectness and class scores already through a sigmoid) into boxes in source pixels. Each cell
 * gives at most one box, of its best class.
 */
export function decodeYolox(output: Float32Array, options: DecodeOptions): RawBox[] {
  const { inputSize, strides, numClasses, scoreThreshold, scale } = options;
  if (!(scale > 0)) throw new Error(`decodeYolox: scale must be > 0, got ${scale}`);
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw new Error(`decodeYolox: numClasses must be a positive integer, got ${numClasses}`);
  }
  const stridePerCell = 5 + numClasses;
  const cells = yoloxCellCount(inputSize, strides);
  if (output.length !== cells * stridePerCell) {
    throw new Error(
      `decodeYolox: output has ${output.length} values, expected ${cells} cells x ` +
        `${stridePerCell} = ${cells * stridePerCell} for input ${inputSize} and strides ` +
        `${strides.join('/')}`,
    );
  }
  const boxes: RawBox[] = [];
  let cell = 0;
  for (const stride of strides) {
    const side = Math.floor(inputSize / stride);
    for (let gridY = 0; gridY < side; gridY++) {
      for (let gridX = 0; gridX < side; gridX++, cell++) {
        const base = cell * stridePerCell;
        const objectness = output[base + 4];
        // Class scores are at most 1, so a weak objectness can never reach the threshold.
        if (objectness < scoreThreshold) continue;
        let classId = 0;
        let classScore = output[base + 5];
        for (let c = 1; c < numClasses; c++) {
          const value = output[base + 5 + c];
          if (value > classScore) {
            classScore = value;
            classId = c;
          }
        }
        const score = objectness * classScore;
        if (score < scoreThreshold) continue;
        const centerX = (output[base] + gridX) * stride;
        const centerY = (output[base + 1] + gridY) * stride;
        const width = Math.exp(output[base + 2]) * stride;
        const height = Math.exp(output[base + 3]) * stride;
        boxes.push({
          classId,
          score,
          x1Px: (centerX - width / 2) / scale,
          y1Px: (centerY - height / 2) / scale,
          x2Px: (centerX + width / 2) / scale,
          y2Px: (centerY + height / 2) / scale,
        });
      }
    }
  }
  return boxes;
}

export function intersectionOverUnion(a: RawBox, b: RawBox): number {
  const width = Math.min(a.x2Px, b.x2Px) - Math.max(a.x1Px, b.x1Px);
  const height = Math.min(a.y2Px, b.y2Px) - Math.max(a.y1Px, b.y1Px);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const areaA = (a.x2Px - a.x1Px) * (a.y2Px - a.y1Px);
  const areaB = (b.x2Px - b.x1Px) * (b.y2Px - b.y1Px);
  const union = areaA + areaB - intersection;
  return union > 0 ? intersection / union : 0;
}

/**
 * Greedy suppression: the highest score wins and removes every box that overlaps it by more
 * than iouThreshold (only boxes of its own class when perClass). Returns the kept boxes,
 * highest score first.
 */
export function nonMaxSuppression(
  boxes: readonly RawBox[],
  iouThreshold: number,
  perClass = true,
): RawBox[] {
  if (!(iouThreshold >= 0 && iouThreshold <= 1)) {
    throw new Error(`nonMaxSuppression: iouThreshold must be in 0..1, got ${iouThreshold}`);
  }
  const sorted = [...boxes].sort((a, b) => b.score - a.score);
  const kept: RawBox[] = [];
  const suppressed = new Uint8Array(sorted.length);
  for (let i = 0; i < sorted.length; i++) {
    if (suppressed[i]) continue;
    const winner = sorted[i];
    kept.push(winner);
    for (let j = i + 1; j < sorted.length; j++) {
      if (suppressed[j]) continue;
      if (perClass && sorted[j].classId !== winner.classId) continue;
      if (intersectionOverUnion(winner, sorted[j]) > iouThreshold) suppressed[j] = 1;
    }
  }
  return kept;
}

/** Frame facts a detection carries along. */
export interface DetectionFrameInfo {
  frameId: number;
  frameTimeMs: number;
  width: number;
  height: number;
}

/** Suppressed boxes to Detections, clipped to the frame; boxes with nothing left are dropped. */
export function toDetections(
  boxes: readonly RawBox[],
  frame: DetectionFrameInfo,
  classNames: readonly string[],
): Detection[] {
  const detections: Detection[] = [];
  for (const box of boxes) {
    // A broken or foreign model can emit NaN, Infinity or scores above 1: never pass them on.
    const corners = [box.x1Px, box.y1Px, box.x2Px, box.y2Px];
    if (!(box.score >= 0 && box.score <= 1) || !corners.every(Number.isFinite)) continue;
    const left = Math.min(Math.max(box.x1Px, 0), frame.width);
    const top = Math.min(Math.max(box.y1Px, 0), frame.height);
    const right = Math.min(Math.max(box.x2Px, 0), frame.width);
    const bottom = Math.min(Math.max(box.y2Px, 0), frame.height);
    if (right - left < 1 || bottom - top < 1) continue;
    detections.push({
      frameId: frame.frameId,
      frameTimeMs: frame.frameTimeMs,
      classId: box.classId,
      className: classNames[box.classId] ?? `class ${box.classId}`,
      score: box.score,
      box: [left, top, right - left, bottom - top],
      imageWidth: frame.width,
      imageHeight: frame.height,
    });
  }
  return detections;
}
