// The shipped model on real drone thermal frames (HIT-UAV, labelled), through the Detector's
// worker thread, on the whole frame and with tiling. The model is trained on colour photos:
// these tests pin what tiling adds, not a quality the model does not have. The figures are
// printed by `npm run bench -- --only thermal`.
// Needs `node scripts/build.mjs` (the worker is dist/station/detector-worker.js).

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { Detection, PixelBox } from '../../app/core/types';
import { Detector } from '../../app/station/detector/detector';
import {
  addCounts,
  type LabelledFrame,
  type MatchCounts,
  matchDetections,
  readLabelledFrames,
} from '../../app/station/detector/evaluation';
import { yoloxNanoCard } from '../../app/station/detector/model-card';
import type { TilingOptions } from '../../app/station/detector/tiling';
import { sharedDir } from '../../app/station/paths';
import { decodeImageRgb } from '../../app/station/video/ffmpeg';

const DIR = path.join(sharedDir(), 'fixtures', 'thermal', 'hit-uav');
const MODEL = path.join(sharedDir(), 'models', yoloxNanoCard.file.name);
const ANNOTATIONS = path.join(DIR, 'annotations.json');
const skip = existsSync(MODEL) && existsSync(ANNOTATIONS) ? false : `${MODEL} or HIT-UAV absent`;
/** The night frame from 60 m: 28 people, 8-14 px wide. */
const SMALL_PEOPLE_FRAME = '1_60_30_0_00007.jpg';

interface FrameResult {
  frame: LabelledFrame;
  people: Detection[];
  counts: MatchCounts;
}

async function detectAll(tiling: TilingOptions | null): Promise<FrameResult[]> {
  const detector = await Detector.create({ modelPath: MODEL, tiling });
  try {
    const results: FrameResult[] = [];
    for (const [index, frame] of readLabelledFrames(ANNOTATIONS).entries()) {
      const image = await decodeImageRgb(path.join(DIR, frame.file));
      assert.equal(image.width, frame.widthPx);
      const detections = await detector.detect({ frameId: index + 1, frameTimeMs: 0, ...image });
      const people = detections.filter((d) => d.className === 'person');
      const labels: PixelBox[] = frame.labels
        .filter((label) => label.className === 'Person')
        .map((label) => label.box);
      results.push({ frame, people, counts: matchDetections(labels, people) });
    }
    return results;
  } finally {
    await detector.dispose();
  }
}

function total(results: FrameResult[]): MatchCounts {
  return results.reduce((sum, r) => addCounts(sum, r.counts), {
    labelled: 0,
    detected: 0,
    truePositives: 0,
  });
}

test(
  'tiling finds small people in real thermal frames that the whole frame misses',
  { skip },
  async () => {
    const whole = await detectAll(null);
    const tiled = await detectAll({ tileSizePx: 208, overlapPx: 48 });

    const wholeTotal = total(whole);
    const tiledTotal = total(tiled);
    assert.equal(wholeTotal.labelled, 37, 'the HIT-UAV subset has 37 labelled people');
    assert.ok(wholeTotal.truePositives >= 1, 'the colour model still finds the larger day people');
    assert.ok(
      tiledTotal.truePositives > wholeTotal.truePositives,
      `tiled ${tiledTotal.truePositives} vs whole ${wholeTotal.truePositives} people found`,
    );

    const small = (results: FrameResult[]): FrameResult =>
      results.find((r) => r.frame.file === SMALL_PEOPLE_FRAME) as FrameResult;
    assert.equal(small(whole).counts.truePositives, 0, 'letterboxed, 10 px people are too small');
    assert.ok(small(tiled).counts.truePositives >= 1, 'enlarged tiles resolve some of them');

    // Every tiled box lies inside the frame, whichever tile it came from.
    for (const { frame, people } of tiled) {
      for (const { box } of people) {
        assert.ok(box[0] >= 0 && box[1] >= 0, `${frame.file}: box starts outside`);
        assert.ok(
          box[0] + box[2] <= frame.widthPx + 0.5 && box[1] + box[3] <= frame.heightPx + 0.5,
        );
      }
    }
  },
);
