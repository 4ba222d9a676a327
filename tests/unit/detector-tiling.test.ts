import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cropRgb, mergeTiledBoxes, planTiles, shiftBox } from '../../app/station/detector/tiling';
import {
  boxIou,
  matchDetections,
  qualityFigures,
  readLabelledFrames,
} from '../../app/station/detector/evaluation';
import type { RawBox } from '../../app/station/detector/yolox';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

test('tiles cover every pixel, overlap by at least the asked amount and stay inside', () => {
  for (const [widthPx, heightPx, tilePx, overlapPx] of [
    [640, 512, 416, 96],
    [640, 512, 208, 48],
    [1920, 1080, 416, 64],
    [417, 300, 416, 0],
  ]) {
    const tiles = planTiles(widthPx, heightPx, tilePx, overlapPx);
    const covered = new Uint8Array(widthPx * heightPx);
    for (const tile of tiles) {
      assert.ok(tile.xPx >= 0 && tile.yPx >= 0);
      assert.ok(tile.xPx + tile.widthPx <= widthPx && tile.yPx + tile.heightPx <= heightPx);
      for (let y = tile.yPx; y < tile.yPx + tile.heightPx; y++) {
        covered.fill(1, y * widthPx + tile.xPx, y * widthPx + tile.xPx + tile.widthPx);
      }
    }
    assert.equal(covered.indexOf(0), -1, `${widthPx}x${heightPx} / ${tilePx}: a gap`);
    const xs = [...new Set(tiles.map((t) => t.xPx))].sort((a, b) => a - b);
    for (let i = 1; i < xs.length; i++) {
      assert.ok(xs[i - 1] + Math.min(tilePx, widthPx) - xs[i] >= overlapPx, 'overlap too small');
    }
  }
  assert.equal(planTiles(640, 512, 208, 48).length, 12);
  assert.deepEqual(planTiles(400, 300, 416, 96), [], 'a frame inside one tile needs none');
});

test('bad tiling settings are refused by name', () => {
  assert.throws(() => planTiles(640, 480, 416, 416), /overlap/);
  assert.throws(() => planTiles(640, 480, 0, 10), /tile size/);
  assert.throws(() => planTiles(640.5, 480, 416, 10), /frame width/);
});

test('a cropped tile holds the frame pixels it names', () => {
  const widthPx = 7;
  const heightPx = 5;
  const rgb = new Uint8Array(widthPx * heightPx * 3).map((_, i) => i % 251);
  const tile = { xPx: 2, yPx: 1, widthPx: 3, heightPx: 2 };
  const out = cropRgb(rgb, widthPx, tile);
  assert.equal(out.length, 3 * 2 * 3);
  for (let row = 0; row < 2; row++) {
    for (let col = 0; col < 3; col++) {
      for (let c = 0; c < 3; c++) {
        const source = rgb[((1 + row) * widthPx + 2 + col) * 3 + c];
        assert.equal(out[(row * 3 + col) * 3 + c], source);
      }
    }
  }
});

test('a box cut by a tile edge merges into the whole one; neighbours stay apart', () => {
  const box = (x1Px: number, y1Px: number, x2Px: number, y2Px: number, score: number): RawBox => ({
    classId: 0,
    score,
    x1Px,
    y1Px,
    x2Px,
    y2Px,
  });
  const whole = box(100, 100, 140, 180, 0.8);
  const cutPart = shiftBox(box(0, 0, 20, 80, 0.5), {
    xPx: 100,
    yPx: 100,
    widthPx: 20,
    heightPx: 80,
  });
  const neighbour = box(150, 100, 190, 180, 0.6);
  const otherClass = { ...box(100, 100, 140, 180, 0.4), classId: 3 };
  const merged = mergeTiledBoxes([cutPart, whole, neighbour, otherClass]);
  assert.deepEqual(merged, [whole, neighbour, otherClass]);
});

test('recall and precision count each label once', () => {
  assert.equal(boxIou([0, 0, 10, 10], [5, 0, 10, 10]), 50 / 150);
  const labels: Array<[number, number, number, number]> = [
    [0, 0, 10, 10],
    [100, 100, 10, 10],
  ];
  const counts = matchDetections(labels, [
    { box: [1, 1, 10, 10], score: 0.9 },
    { box: [0, 0, 10, 10], score: 0.5 },
    { box: [300, 300, 10, 10], score: 0.7 },
  ]);
  assert.deepEqual(counts, { labelled: 2, detected: 3, truePositives: 1 });
  const figures = qualityFigures(counts);
  assert.equal(figures.recall, 0.5);
  assert.equal(figures.precision, 1 / 3);
  assert.equal(qualityFigures({ labelled: 0, detected: 0, truePositives: 0 }).recall, null);
});

test('annotation files with a bad entry are refused with its place', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ursa-labels-'));
  const file = path.join(dir, 'a.json');
  writeFileSync(
    file,
    JSON.stringify({
      images: [
        {
          file: 'x.jpg',
          width: 4,
          height: 4,
          annotations: [{ category: 'Person', bbox: [1, 2, 3] }],
        },
      ],
    }),
  );
  assert.throws(() => readLabelledFrames(file), /image 0, label 0/);
  writeFileSync(
    file,
    JSON.stringify({ images: [{ file: '../x.jpg', width: 4, height: 4, annotations: [] }] }),
  );
  assert.throws(() => readLabelledFrames(file), /plain file name/);
  writeFileSync(file, '{not json');
  assert.throws(() => readLabelledFrames(file), /cannot read annotations/);
});
