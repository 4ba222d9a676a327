// Timeline markers from a real journal file: first sightings only of the classes the live map
// shows (bear, person), never of every class the detector names; a detected person in a
// command is "#15", as tracks are everywhere else.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';

import { TRACKED_TARGET_DEFAULTS } from '../../app/core/targets';
import type { GeoDetection } from '../../app/core/types';
import { JournalTimeline, personIdsAsTracks } from '../../app/station/replay/journal-timeline';

const T0_MS = Date.UTC(2026, 11, 5, 2, 2, 10);
const workDir = mkdtempSync(path.join(os.tmpdir(), 'ursa-journal-markers-'));

after(() => rmSync(workDir, { recursive: true, force: true }));

function detection(frameId: number, className: string, classId: number, trackId: number) {
  const found: GeoDetection = {
    frameId,
    frameTimeMs: T0_MS + frameId * 100,
    classId,
    className,
    score: 0.8,
    box: [10, 10, 40, 40],
    imageWidth: 416,
    imageHeight: 416,
    ground: null,
    groundError: 'no attitude in this test',
    trackId,
  };
  return found;
}

function writeJournal(name: string, lines: unknown[]): string {
  const file = path.join(workDir, name);
  writeFileSync(file, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
  return file;
}

test('only bears and people get first-sighting markers; sheep and dogs do not', () => {
  const frames: Array<[string, number, number]> = [
    ['bear', 21, 1],
    ['sheep', 18, 11],
    ['person', 0, 15],
    ['dog', 16, 28],
    ['elephant', 20, 27],
  ];
  const lines: unknown[] = [{ t: T0_MS, session: { version: 1 } }];
  frames.forEach(([className, classId, trackId], i) => {
    const frameId = 10 + i * 20;
    lines.push({
      t: T0_MS + frameId * 100 + 30,
      m: {
        type: 'detections',
        frameId,
        frameTimeMs: T0_MS + frameId * 100,
        detections: [detection(frameId, className, classId, trackId)],
      },
    });
  });
  const timeline = JournalTimeline.load(writeJournal('classes.jsonl', lines));
  assert.deepEqual(timeline.warnings, []);
  const sightings = timeline.markers().filter((marker) => marker.kind === 'detection');
  assert.deepEqual(
    sightings.map((marker) => marker.label),
    ['bear #1 first seen', 'person #15 first seen'],
  );
  assert.deepEqual([...TRACKED_TARGET_DEFAULTS.classes].sort(), ['bear', 'person']);
  // At the capture time of the frame first seen in, as its key frame reads, not 30 ms later.
  assert.deepEqual(
    sightings.map((marker) => marker.timeMs),
    [T0_MS + 10 * 100, T0_MS + 50 * 100],
  );
  // The detections themselves are all still there for the video's boxes.
  assert.equal(timeline.detectionsFor(30)?.detections[0].className, 'sheep');
});

test('a frame time that cannot be the capture time leaves the sighting at its line', () => {
  const t = T0_MS + 5_000;
  // A camera clock an hour behind, and a frame time after its own line: neither is when the
  // bear was seen.
  const frames = [
    { trackId: 1, lineMs: t, frameTimeMs: t - 3_600_000 },
    { trackId: 2, lineMs: t + 1000, frameTimeMs: t + 1500 },
  ];
  const file = writeJournal('clock.jsonl', [
    { t: T0_MS, session: { version: 1 } },
    ...frames.map(({ trackId, lineMs, frameTimeMs }, i) => ({
      t: lineMs,
      m: {
        type: 'detections',
        frameId: i + 1,
        frameTimeMs,
        detections: [{ ...detection(i + 1, 'bear', 21, trackId), frameTimeMs }],
      },
    })),
  ]);
  const timeline = JournalTimeline.load(file);
  assert.deepEqual(
    timeline.markers().map((marker) => marker.timeMs),
    [t, t + 1000],
  );
});

test('a command on a detected person names it "#15"', () => {
  const t = T0_MS + 42_000;
  const file = writeJournal('remove.jsonl', [
    { t: T0_MS, session: { version: 1 } },
    { t, command: { id: 7, command: { kind: 'remove-person', personId: 'track-15' } } },
    { t: t + 1, result: { id: 7, outcome: { ok: true, result: 'ACCEPTED', text: 'done' } } },
  ]);
  const timeline = JournalTimeline.load(file);
  const command = timeline.markers().find((marker) => marker.kind === 'command');
  assert.equal(command?.label, 'Operator: remove person #15 (ACCEPTED)');
  const logged = timeline.viewAt(t + 1).log.map((entry) => entry.text);
  assert.ok(logged.includes('Operator: remove person #15'), logged.join('\n'));
  assert.equal(personIdsAsTracks('Person track-15 removed'), 'Person #15 removed');
  assert.equal(personIdsAsTracks('remove person mark-3'), 'remove person mark-3');
});
