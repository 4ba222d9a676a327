// The incident report: after an incident someone must show, to a warden, a court or a parent,
// where the drone flew, where the bears went, what was seen and what the operator did, from
// records whose checksums prove they are the ones the report was made from.
//
// writeIncidentReport writes one folder: report.html for people (self-contained, printable),
// report.geojson and report.kml for GIS tools, events.csv and hazing-log.csv for spreadsheets,
// sources.sha256 (the records' checksums) and SHA256SUMS (the folder's own files).

import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { checkLatLon } from '../../core/geodesy';
import { hazingEventsToCsv, type HazingEvent } from '../../core/hazing-log';
import { createLogger } from '../../core/log';
import type { ReplayFile, ReplayMarkerKind } from '../../core/replay';
import type { GeoDetection, GlobalPosition, LatLon } from '../../core/types';
import { ZONE_KIND_VALUES, type ProtectedZone, type ZoneKind } from '../../core/zones';
import { checkJournalHazingEvent } from '../replay/journal-timeline';
import type { TileProvider } from '../server';
import { csvTextCell } from '../../core/hazing-log';
import { csvDocument, isoTime, sha256Line } from './format';
import { buildGeoJson, type PlacedEvent } from './geojson';
import { renderReportHtml, type HtmlSourceFile } from './html';
import { buildKml } from './kml';
import { renderMapSvg, type MapTrack } from './map-svg';
import { pathLegs, positionAt, summarize, type TimedPosition } from './span';

const log = createLogger('report');

export type ReportEventKind = ReplayMarkerKind | 'log' | 'gap' | 'jump-back';

export interface ReportInput {
  title: string;
  sourceFile: string;
  fromMs: number;
  toMs: number;
  generatedMs: number;
  vehiclePath: Array<GlobalPosition & { timeMs: number }>;
  tracks: Array<{ trackId: number; className: string; points: Array<LatLon & { timeMs: number }> }>;
  zones: ProtectedZone[];
  /**
   * In the order they are listed: the record's (axis) order, which after a clock jump back is
   * not time order. gap and jump-back are the log's breaks.
   */
  events: Array<{ timeMs: number; kind: ReportEventKind; label: string }>;
  keyFrames: Array<{
    timeMs: number;
    frameId: number;
    jpeg: Buffer;
    widthPx: number;
    heightPx: number;
    detections: GeoDetection[];
    caption: string;
  }>;
  hazingEvents: HazingEvent[];
  /** The records the report is made from; a null sha256 is computed here. */
  files: ReplayFile[];
  tiles?: { provider: TileProvider; attribution: string } | null;
}

export const REPORT_FILES = {
  html: 'report.html',
  geojson: 'report.geojson',
  kml: 'report.kml',
  events: 'events.csv',
  hazing: 'hazing-log.csv',
  sources: 'sources.sha256',
  sums: 'SHA256SUMS',
} as const;

export const EVENTS_CSV_COLUMNS = ['time', 'kind', 'label', 'drone_lat', 'drone_lon'] as const;

const MAX_TITLE_LENGTH = 200;
/** Folder names tried beside a taken one: "report", "report-2", ... */
const MAX_FOLDER_TRIES = 1000;
const EVENT_KINDS = new Set<string>([
  'detection',
  'alert',
  'mode',
  'link-lost',
  'link-back',
  'hazing-start',
  'hazing-end',
  'abort',
  'command',
  'log',
  'gap',
  'jump-back',
]);

function finite(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`report input: ${where} is ${JSON.stringify(value)}, not a finite number`);
  }
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string') throw new Error(`report input: ${where} must be text`);
  return value;
}

function array<T>(value: unknown, where: string): T[] {
  if (!Array.isArray(value)) throw new Error(`report input: ${where} must be an array`);
  return value as T[];
}

function timedLatLon(value: unknown, where: string): LatLon & { timeMs: number } {
  const point = checkLatLon(value, `report input: ${where}`);
  return { ...point, timeMs: finite((value as { timeMs?: unknown }).timeMs, `${where}.timeMs`) };
}

/** Why a zone cannot be drawn, in words after "zone 3, ", or null when it can. */
function zoneProblem(zone: unknown): string | null {
  if (typeof zone !== 'object' || zone === null || Array.isArray(zone)) {
    return 'it is not an object';
  }
  const { id, name, kind, alertDistanceM, polygon } = zone as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isFinite(id)) return 'its id is not a number';
  if (typeof name !== 'string') return 'its name is not text';
  if (kind !== undefined && !ZONE_KIND_VALUES.includes(kind as ZoneKind)) {
    return `its kind ${JSON.stringify(kind)} is not a zone kind`;
  }
  if (typeof alertDistanceM !== 'number' || !Number.isFinite(alertDistanceM)) {
    return 'its alert distance is not a number';
  }
  if (!Array.isArray(polygon)) return 'its polygon is not a list of points';
  if (polygon.length < 3) return `its polygon has ${polygon.length} corners, fewer than 3`;
  for (const [index, corner] of polygon.entries()) {
    try {
      checkLatLon(corner, `its corner ${index + 1}`);
    } catch (error) {
      return (error as Error).message;
    }
  }
  return null;
}

interface CheckedInput {
  title: string;
  sourceFile: string;
  fromMs: number;
  toMs: number;
  generatedMs: number;
  vehiclePath: TimedPosition[];
  tracks: MapTrack[];
  zones: ProtectedZone[];
  events: ReportInput['events'];
  keyFrames: ReportInput['keyFrames'];
  hazingEvents: HazingEvent[];
  files: ReplayFile[];
  tiles: { provider: TileProvider; attribution: string } | null;
}

/**
 * Checks the input and keeps what lies in the span: path points, track points, events and key
 * frames inside it, hazing events that overlap it. Throws an Error naming the bad field.
 */
export function checkReportInput(input: ReportInput): CheckedInput {
  if (typeof input !== 'object' || input === null) throw new Error('report input is missing');
  const title = text(input.title, 'title').trim();
  if (title.length === 0) throw new Error('report input: title is empty');
  if (title.length > MAX_TITLE_LENGTH) {
    throw new Error(`report input: title is longer than ${MAX_TITLE_LENGTH} characters`);
  }
  const fromMs = finite(input.fromMs, 'fromMs');
  const toMs = finite(input.toMs, 'toMs');
  if (toMs <= fromMs) throw new Error('report input: the span must end (toMs) after it starts');
  const inSpan = (timeMs: number): boolean => timeMs >= fromMs && timeMs <= toMs;
  const vehiclePath = array<GlobalPosition & { timeMs: number }>(input.vehiclePath, 'vehiclePath')
    .map((point, i) => ({
      ...timedLatLon(point, `vehiclePath[${i}]`),
      altitudeMslM: finite(point.altitudeMslM, `vehiclePath[${i}].altitudeMslM`),
      altitudeRelM: finite(point.altitudeRelM, `vehiclePath[${i}].altitudeRelM`),
    }))
    .filter((point) => inSpan(point.timeMs));
  const tracks = array<MapTrack>(input.tracks, 'tracks')
    .map((track, i) => {
      const trackId = finite(track?.trackId, `tracks[${i}].trackId`);
      const points = array<unknown>(track.points, `tracks[${i}].points`)
        .map((point, j) => timedLatLon(point, `tracks[${i}].points[${j}]`))
        .filter((point) => inSpan(point.timeMs))
        .sort((a, b) => a.timeMs - b.timeMs);
      return { trackId, className: text(track.className, `tracks[${i}].className`), points };
    })
    .filter((track) => track.points.length > 0);
  // A bad zone or hazing entry comes from the record, not the caller: it is left out with a
  // note among the events rather than costing the whole report.
  const leftOut: string[] = [];
  const zones: ProtectedZone[] = [];
  array<unknown>(input.zones, 'zones').forEach((zone, i) => {
    const problem = zoneProblem(zone);
    if (problem === null) {
      const checked = zone as ProtectedZone;
      const polygon = checked.polygon.map((corner) => checkLatLon(corner, 'corner'));
      zones.push({ ...checked, polygon });
    } else leftOut.push(`left out: zone ${i + 1}, ${problem}`);
  });
  const events = array<ReportInput['events'][number]>(input.events, 'events')
    .map((event, i) => {
      const kind = text(event?.kind, `events[${i}].kind`);
      if (!EVENT_KINDS.has(kind)) {
        throw new Error(`report input: events[${i}].kind ${JSON.stringify(kind)} is not a kind`);
      }
      return {
        timeMs: finite(event.timeMs, `events[${i}].timeMs`),
        kind: event.kind,
        label: text(event.label, `events[${i}].label`),
      };
    })
    // Kept in the given order: sorted by time, two sessions after a jump back would interleave.
    .filter((event) => inSpan(event.timeMs));
  const keyFrames = array<ReportInput['keyFrames'][number]>(input.keyFrames, 'keyFrames')
    .map((frame, i) => {
      const where = `keyFrames[${i}]`;
      const jpeg = frame?.jpeg;
      if (!Buffer.isBuffer(jpeg) || jpeg.length < 3 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) {
        throw new Error(`report input: ${where}.jpeg is not a JPEG image`);
      }
      for (const side of ['widthPx', 'heightPx'] as const) {
        const size = finite(frame[side], `${where}.${side}`);
        if (!Number.isInteger(size) || size <= 0) {
          throw new Error(`report input: ${where}.${side} ${size} is not a positive whole number`);
        }
      }
      finite(frame.timeMs, `${where}.timeMs`);
      finite(frame.frameId, `${where}.frameId`);
      array<GeoDetection>(frame.detections, `${where}.detections`).forEach((detection, j) => {
        const box = array<number>(detection?.box, `${where}.detections[${j}].box`);
        if (box.length !== 4) throw new Error(`report input: ${where}.detections[${j}].box`);
        box.forEach((value, k) => finite(value, `${where}.detections[${j}].box[${k}]`));
        text(detection.className, `${where}.detections[${j}].className`);
        finite(detection.score, `${where}.detections[${j}].score`);
        finite(detection.imageWidth, `${where}.detections[${j}].imageWidth`);
        finite(detection.imageHeight, `${where}.detections[${j}].imageHeight`);
      });
      return { ...frame, caption: text(frame.caption, `${where}.caption`) };
    })
    .filter((frame) => inSpan(frame.timeMs))
    .sort((a, b) => a.timeMs - b.timeMs);
  const hazingEvents: HazingEvent[] = [];
  array<unknown>(input.hazingEvents, 'hazingEvents').forEach((value, i) => {
    let event: HazingEvent;
    try {
      event = checkJournalHazingEvent(value, 'its');
    } catch (error) {
      leftOut.push(`left out: hazing entry ${i + 1}, ${(error as Error).message}`);
      return;
    }
    if (event.startedMs <= toMs && (event.endedMs ?? Number.POSITIVE_INFINITY) >= fromMs) {
      hazingEvents.push(event);
    }
  });
  hazingEvents.sort((a, b) => a.startedMs - b.startedMs);
  for (const label of leftOut) {
    log.warn(`report: ${label}`);
    events.unshift({ timeMs: fromMs, kind: 'log', label });
  }
  const files = array<ReplayFile>(input.files, 'files').map((file, i) => {
    const sha256 = file?.sha256 ?? null;
    if (sha256 !== null && !/^[0-9a-f]{64}$/.test(sha256)) {
      throw new Error(`report input: files[${i}].sha256 is not 64 lower-case hex digits`);
    }
    return {
      role: file.role,
      path: text(file.path, `files[${i}].path`),
      bytes: finite(file.bytes, `files[${i}].bytes`),
      sha256,
    };
  });
  const tiles = input.tiles ?? null;
  if (tiles !== null && typeof tiles.provider?.getTile !== 'function') {
    throw new Error('report input: tiles.provider has no getTile');
  }
  return {
    title,
    sourceFile: text(input.sourceFile, 'sourceFile'),
    fromMs,
    toMs,
    generatedMs: finite(input.generatedMs, 'generatedMs'),
    vehiclePath,
    tracks,
    zones,
    events,
    keyFrames,
    hazingEvents,
    files,
    tiles,
  };
}

async function sha256OfFile(filePath: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(filePath)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Checksums the station did not supply are computed; an unreadable file is named as such. */
async function sourceChecksums(files: readonly ReplayFile[]): Promise<HtmlSourceFile[]> {
  const checked: HtmlSourceFile[] = [];
  for (const file of files) {
    if (file.sha256 !== null) {
      checked.push({ ...file, problem: null });
      continue;
    }
    try {
      const bytes = statSync(file.path).size;
      checked.push({ ...file, bytes, sha256: await sha256OfFile(file.path), problem: null });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      log.warn(`report: no checksum for ${file.path}: ${reason}`);
      checked.push({ ...file, problem: `not readable: ${reason}` });
    }
  }
  return checked;
}

/**
 * The folder to write into: outDir itself when it is new or empty (the caller may have made
 * it), else the first free "outDir-2", "outDir-3", ...: an earlier report is never overwritten.
 */
function claimFolder(outDir: string): { dir: string; made: boolean } {
  const base = path.resolve(outDir);
  mkdirSync(path.dirname(base), { recursive: true });
  for (let attempt = 1; attempt <= MAX_FOLDER_TRIES; attempt++) {
    const dir = attempt === 1 ? base : `${base}-${attempt}`;
    try {
      mkdirSync(dir);
      return { dir, made: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      if (statSync(dir).isDirectory() && readdirSync(dir).length === 0) return { dir, made: false };
    }
  }
  throw new Error(`report: ${base} and ${MAX_FOLDER_TRIES - 1} names beside it are all taken`);
}

function eventsCsv(events: readonly PlacedEvent[]): string {
  const rows = [[...EVENTS_CSV_COLUMNS] as string[]];
  for (const event of events) {
    rows.push([
      isoTime(event.timeMs),
      csvTextCell(event.kind),
      csvTextCell(event.label),
      event.position ? event.position.latDeg.toFixed(7) : '',
      event.position ? event.position.lonDeg.toFixed(7) : '',
    ]);
  }
  return csvDocument(rows);
}

/**
 * Writes the report folder and returns it with the names of the files in it. Bad input throws
 * an Error naming the field before anything is written; a failure while writing removes the
 * folder it made, so no half report is left behind.
 */
export async function writeIncidentReport(
  input: ReportInput,
  outDir: string,
): Promise<{ dir: string; files: string[] }> {
  const data = checkReportInput(input);
  const sources = await sourceChecksums(data.files);
  // The path stays in record order: after a clock jump back its times repeat, and sorting
  // them would join two sessions into one zigzag. Positions are found leg by leg.
  const legs = pathLegs(data.vehiclePath);
  const events: PlacedEvent[] = data.events.map((event) => ({
    ...event,
    position: positionAt(data.vehiclePath, event.timeMs, legs),
  }));
  const geo = { ...data, events };
  const map = renderMapSvg({ ...data, tiles: data.tiles });
  const summary = summarize(
    data.toMs - data.fromMs,
    data.vehiclePath,
    data.tracks,
    data.hazingEvents,
  );
  const contents: Array<[string, string]> = [
    [
      REPORT_FILES.html,
      renderReportHtml({
        ...data,
        summary,
        map,
        events,
        files: sources,
        companionFiles: Object.values(REPORT_FILES).filter((name) => name !== REPORT_FILES.html),
      }),
    ],
    [REPORT_FILES.geojson, `${JSON.stringify(buildGeoJson(geo), null, 1)}\n`],
    [REPORT_FILES.kml, buildKml(geo)],
    [REPORT_FILES.events, eventsCsv(events)],
    [REPORT_FILES.hazing, hazingEventsToCsv(data.hazingEvents)],
    [
      REPORT_FILES.sources,
      sources
        .filter((file) => file.sha256 !== null)
        .map((file) => sha256Line(file.sha256 as string, file.path))
        .join(''),
    ],
  ];
  const { dir, made } = claimFolder(outDir);
  const written: string[] = [];
  try {
    const sums: string[] = [];
    for (const [name, body] of contents) {
      const bytes = Buffer.from(body, 'utf8');
      writeFileSync(path.join(dir, name), bytes, { flag: 'wx' });
      written.push(name);
      sums.push(sha256Line(createHash('sha256').update(bytes).digest('hex'), name));
    }
    writeFileSync(path.join(dir, REPORT_FILES.sums), sums.join(''), { flag: 'wx' });
  } catch (error) {
    // A folder the caller made is left (empty) to the caller.
    if (made) rmSync(dir, { recursive: true, force: true });
    else for (const name of written) rmSync(path.join(dir, name), { force: true });
    throw error;
  }
  log.info(`incident report written to ${dir}`);
  return { dir, files: [...contents.map(([name]) => name), REPORT_FILES.sums] };
}
