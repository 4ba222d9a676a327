// A realistic incident near Conrad, Montana, for the report tests: a five-minute flight of 300
// path points (take off, 400 m east, 300 m north, hover, land), two bear tracks (one seen only
// once) and a person, a zone of each kind, events, two hazing entries, and a key frame from a
// real bear photo (or, without the shared photos, one ffmpeg draws).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { offsetNorthEast } from '../../app/core/geodesy';
import type { HazingEvent } from '../../app/core/hazing-log';
import type { LatLon } from '../../app/core/types';
import type { ProtectedZone } from '../../app/core/zones';
import { sharedDir } from '../../app/station/paths';
import type { ReportInput } from '../../app/station/report/report';

export const HOME: LatLon = { latDeg: 48.17, lonDeg: -111.95 };
export const GROUND_MSL_M = 1065;
export const T0_MS = Date.UTC(2026, 11, 4, 23, 58, 0);
/** The path's horizontal length: 400 m east then 300 m north. */
export const PATH_LENGTH_M = 700;
/** Seconds in the air: from the first step up (s 25 to 26) to the last point, still 1.5 m up. */
export const AIRBORNE_S = 274;
export const PATH_POINTS = 300;
export const SPAN = { fromMs: T0_MS - 10_000, toMs: T0_MS + 320_000 };
export const BEAR_PHOTO = path.join(sharedDir(), 'fixtures', 'images', 'bear-coco-285.jpg');
export const SOURCE_TLOG = path.join(
  sharedDir(),
  'fixtures',
  'tlog',
  'olivieri_20211202-133659.tlog',
);
/** Text a spreadsheet would run, and markup a browser would: both must come out inert. */
export const HOSTILE_LABEL = `=cmd|' /C calc'!A0 <script>alert("x")</script>, "quoted"`;

const at = (northM: number, eastM: number): LatLon => offsetNorthEast(HOME, northM, eastM);

function vehiclePath(): ReportInput['vehiclePath'] {
  const points: ReportInput['vehiclePath'] = [];
  for (let s = 0; s < PATH_POINTS; s++) {
    let northM = 0;
    let eastM = 0;
    let altitudeRelM = 0;
    if (s < 25) altitudeRelM = 0;
    else if (s < 45) altitudeRelM = (s - 25) * 1.5;
    else if (s < 145) [eastM, altitudeRelM] = [(s - 45) * 4, 30];
    else if (s < 220) [eastM, northM, altitudeRelM] = [400, (s - 145) * 4, 30];
    else if (s < 280) [eastM, northM, altitudeRelM] = [400, 300, 30];
    else [eastM, northM, altitudeRelM] = [400, 300, Math.max(0, 30 - (s - 280) * 1.5)];
    points.push({
      ...at(northM, eastM),
      altitudeRelM,
      altitudeMslM: GROUND_MSL_M + altitudeRelM,
      timeMs: T0_MS + s * 1000,
    });
  }
  return points;
}

function tracks(): ReportInput['tracks'] {
  const bear = Array.from({ length: 40 }, (_, i) => ({
    ...at(200 + i * 3, 350 + i * 4),
    timeMs: T0_MS + 100_000 + i * 3000,
  }));
  const person = Array.from({ length: 5 }, (_, i) => ({
    ...at(-30, -20 + i),
    timeMs: T0_MS + 30_000 + i * 1000,
  }));
  return [
    { trackId: 3, className: 'bear', points: bear },
    { trackId: 5, className: 'bear', points: [{ ...at(420, 520), timeMs: T0_MS + 200_000 }] },
    { trackId: 7, className: 'person', points: person },
  ];
}

const square = (northM: number, eastM: number, halfM: number): LatLon[] => [
  at(northM - halfM, eastM - halfM),
  at(northM - halfM, eastM + halfM),
  at(northM + halfM, eastM + halfM),
  at(northM + halfM, eastM - halfM),
];

function zones(): ProtectedZone[] {
  return [
    {
      id: 1,
      name: 'Grain silo',
      kind: 'protected',
      alertDistanceM: 100,
      polygon: square(250, 500, 30),
    },
    {
      id: 2,
      name: 'Ranch house',
      kind: 'no-fly',
      alertDistanceM: 50,
      polygon: square(-80, 150, 25),
    },
    // Drawn clockwise, as people often draw: the GeoJSON ring must come out counter-clockwise.
    {
      id: 3,
      name: 'Flight area',
      kind: 'fence',
      alertDistanceM: 0,
      polygon: [at(-150, -100), at(500, -100), at(500, 650), at(-150, 650)],
    },
    { id: 4, name: 'Open range', kind: 'safe', alertDistanceM: 0, polygon: square(420, 600, 40) },
  ];
}

function events(): ReportInput['events'] {
  const event = (s: number, kind: ReportInput['events'][number]['kind'], label: string) => ({
    timeMs: T0_MS + s * 1000,
    kind,
    label,
  });
  return [
    event(-8, 'log', 'Replay of the flight record opened'),
    event(22, 'mode', 'Mode STABILIZE -> GUIDED'),
    event(30, 'detection', 'person #7 first seen'),
    event(100, 'detection', 'bear #3 first seen'),
    event(118, 'alert', 'bear #3 within 100 m of Grain silo'),
    event(125, 'hazing-start', 'Hazing push started on bear #3'),
    event(160, 'command', 'nudge left 10 deg'),
    event(200, 'detection', 'bear #5 first seen'),
    event(215, 'hazing-end', 'Hazing push succeeded: bear moved 210 m'),
    event(230, 'hazing-start', 'Hazing orbit started on bear #5'),
    event(240, 'abort', 'ABORT pressed by the operator'),
    event(250, 'log', HOSTILE_LABEL),
    event(281, 'mode', 'Mode GUIDED -> LAND'),
  ];
}

function hazingEvents(): HazingEvent[] {
  const operator = { operatorName: 'Dana Whitfield', agencyOrPermitId: 'MT FWP permit 2026-117' };
  return [
    {
      id: '2026-12-05T00-00-05Z-1',
      operator,
      trackId: 3,
      pattern: {
        kind: 'push',
        safeBearingDeg: 45,
        safeZoneId: 4,
        standoffM: 40,
        altitudeAglM: 15,
        successDistanceM: 200,
        onSuccess: 'hold',
      },
      startedMs: T0_MS + 125_000,
      endedMs: T0_MS + 215_000,
      bearStart: at(275, 450),
      bearEnd: at(317, 506),
      droneStart: at(0, 320),
      droneEnd: at(280, 400),
      bearMovedM: 210,
      durationS: 90,
      outcome: 'success',
      actions: [
        { timeMs: T0_MS + 125_000, action: 'start', detail: 'push toward Open range' },
        { timeMs: T0_MS + 160_000, action: 'nudge', detail: 'left 10 deg, "bear turned"' },
        { timeMs: T0_MS + 215_000, action: 'hold', detail: 'bear inside Open range' },
      ],
    },
    {
      id: '2026-12-05T00-01-50Z-2',
      operator,
      trackId: 5,
      pattern: { kind: 'orbit', radiusM: 60, speedMps: 5, altitudeAglM: 20, clockwise: true },
      startedMs: T0_MS + 230_000,
      endedMs: T0_MS + 240_000,
      bearStart: at(420, 520),
      bearEnd: null,
      droneStart: at(300, 400),
      droneEnd: at(300, 400),
      bearMovedM: null,
      durationS: 10,
      outcome: 'aborted',
      actions: [
        { timeMs: T0_MS + 230_000, action: 'start', detail: 'orbit bear #5' },
        { timeMs: T0_MS + 240_000, action: 'abort', detail: '=SUM(A1) person walked out' },
      ],
    },
  ];
}

/** The key frame: the real bear photo, or a frame ffmpeg draws; null with neither. */
export function keyFrameJpeg(): { jpeg: Buffer; widthPx: number; heightPx: number } | null {
  if (existsSync(BEAR_PHOTO))
    return { jpeg: readFileSync(BEAR_PHOTO), widthPx: 586, heightPx: 640 };
  const made = spawnSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=640x512',
      '-frames:v',
      '1',
      '-f',
      'mjpeg',
      '-',
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  if (made.status !== 0 || made.stdout.length === 0) return null;
  return { jpeg: made.stdout, widthPx: 640, heightPx: 512 };
}

export interface ReportFixture {
  input: ReportInput;
  /** A source file the test wrote, its checksum given; a real log, its checksum left null. */
  writtenSource: string;
}

/**
 * The input, with source files under workDir: one written here (checksum given), the shared
 * log when present (checksum left for the report to compute), and one missing.
 */
export function makeReportInput(workDir: string): ReportFixture {
  const frame = keyFrameJpeg();
  if (!frame) throw new Error('no key frame: neither the shared bear photo nor ffmpeg');
  const writtenSource = path.join(workDir, 'flight 2026-12-04.frames.csv');
  const tableText = 'frame,frameId,frameTimeMs,arrivalMs,delayMs\n0,101,1,2,1\n';
  writeFileSync(writtenSource, tableText);
  const files: ReportInput['files'] = [
    {
      role: 'frame-table',
      path: writtenSource,
      bytes: Buffer.byteLength(tableText),
      sha256: createHash('sha256').update(tableText).digest('hex'),
    },
    { role: 'journal', path: path.join(workDir, 'missing.journal.jsonl'), bytes: 0, sha256: null },
  ];
  if (existsSync(SOURCE_TLOG))
    files.unshift({ role: 'tlog', path: SOURCE_TLOG, bytes: 0, sha256: null });
  const scale = (value: number, from: number, to: number): number => (value * to) / from;
  const box: [number, number, number, number] = [
    scale(40, 586, frame.widthPx),
    scale(70, 640, frame.heightPx),
    scale(500, 586, frame.widthPx),
    scale(540, 640, frame.heightPx),
  ];
  const input: ReportInput = {
    title: 'Incident at the Conrad silo <bear #3> & "co"',
    sourceFile: SOURCE_TLOG,
    fromMs: SPAN.fromMs,
    toMs: SPAN.toMs,
    generatedMs: T0_MS + 3_600_000,
    vehiclePath: vehiclePath(),
    tracks: tracks(),
    zones: zones(),
    events: events(),
    keyFrames: [
      {
        timeMs: T0_MS + 100_000,
        frameId: 4211,
        jpeg: frame.jpeg,
        widthPx: frame.widthPx,
        heightPx: frame.heightPx,
        detections: [
          {
            frameId: 4211,
            frameTimeMs: T0_MS + 100_000,
            classId: 21,
            className: 'bear',
            score: 0.94,
            box,
            imageWidth: frame.widthPx,
            imageHeight: frame.heightPx,
            ground: at(200, 350),
            groundError: null,
            trackId: 3,
          },
        ],
        caption: 'bear #3 first seen',
      },
    ],
    hazingEvents: hazingEvents(),
    files,
    tiles: null,
  };
  return { input, writtenSource };
}
