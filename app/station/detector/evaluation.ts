// Detection quality against labelled frames: recall (labelled objects found) and precision
// (detections that are labelled objects), matching each label to at most one detection.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Detection, PixelBox } from '../../core/types';

export interface LabelledFrame {
  file: string;
  widthPx: number;
  heightPx: number;
  labels: Array<{ className: string; box: PixelBox }>;
}

export interface MatchCounts {
  labelled: number;
  detected: number;
  truePositives: number;
}

export interface QualityFigures extends MatchCounts {
  /** Found / labelled; null when nothing was labelled. */
  recall: number | null;
  /** Correct / detected; null when nothing was detected. */
  precision: number | null;
}

/** Overlap a detection needs with a label to count, the usual 0.5 of PASCAL VOC and COCO. */
export const MATCH_IOU = 0.5;

export function boxIou(a: PixelBox, b: PixelBox): number {
  const widthPx = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const heightPx = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (widthPx <= 0 || heightPx <= 0) return 0;
  const overlap = widthPx * heightPx;
  return overlap / (a[2] * a[3] + b[2] * b[3] - overlap);
}

/** Greedy matching, strongest detection first, as detection benchmarks count it. */
export function matchDetections(
  labels: readonly PixelBox[],
  detections: ReadonlyArray<Pick<Detection, 'box' | 'score'>>,
  minIou = MATCH_IOU,
): MatchCounts {
  const taken = new Array<boolean>(labels.length).fill(false);
  let truePositives = 0;
  const sorted = [...detections].sort((a, b) => b.score - a.score);
  for (const detection of sorted) {
    let best = -1;
    let bestIou = minIou;
    labels.forEach((label, index) => {
      if (taken[index]) return;
      const overlap = boxIou(label, detection.box);
      if (overlap >= bestIou) {
        best = index;
        bestIou = overlap;
      }
    });
    if (best >= 0) {
      taken[best] = true;
      truePositives++;
    }
  }
  return { labelled: labels.length, detected: detections.length, truePositives };
}

export function addCounts(a: MatchCounts, b: MatchCounts): MatchCounts {
  return {
    labelled: a.labelled + b.labelled,
    detected: a.detected + b.detected,
    truePositives: a.truePositives + b.truePositives,
  };
}

export function qualityFigures(counts: MatchCounts): QualityFigures {
  return {
    ...counts,
    recall: counts.labelled > 0 ? counts.truePositives / counts.labelled : null,
    precision: counts.detected > 0 ? counts.truePositives / counts.detected : null,
  };
}

/**
 * Reads HIT-UAV style annotations: {categories: {id: name}, images: [{file, width, height,
 * annotations: [{category, bbox: [x, y, w, h]}]}]}. Errors name the file and the bad entry.
 */
export function readLabelledFrames(annotationsPath: string): LabelledFrame[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(annotationsPath, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read annotations ${annotationsPath}: ${(error as Error).message}`);
  }
  const images = (parsed as { images?: unknown }).images;
  if (!Array.isArray(images)) {
    throw new Error(`annotations ${annotationsPath} have no "images" list`);
  }
  return images.map((image: unknown, index: number): LabelledFrame => {
    const entry = image as {
      file?: unknown;
      width?: unknown;
      height?: unknown;
      annotations?: unknown;
    };
    const where = `annotations ${annotationsPath}, image ${index}`;
    if (typeof entry.file !== 'string' || path.basename(entry.file) !== entry.file) {
      throw new Error(`${where}: "file" must be a plain file name`);
    }
    if (typeof entry.width !== 'number' || typeof entry.height !== 'number') {
      throw new Error(`${where}: "width" and "height" must be numbers`);
    }
    if (!Array.isArray(entry.annotations)) throw new Error(`${where}: no "annotations" list`);
    const labels = entry.annotations.map((annotation: unknown, labelIndex: number) => {
      const { category, bbox } = annotation as { category?: unknown; bbox?: unknown };
      const valid =
        typeof category === 'string' &&
        Array.isArray(bbox) &&
        bbox.length === 4 &&
        bbox.every((value) => Number.isFinite(value));
      if (!valid) {
        throw new Error(`${where}, label ${labelIndex}: needs "category" and "bbox" [x,y,w,h]`);
      }
      return { className: category, box: bbox as PixelBox };
    });
    return { file: entry.file, widthPx: entry.width, heightPx: entry.height, labels };
  });
}
