// Reads a session journal (see ../journal.ts) back for replay: what a live client had on screen
// at any wall-clock time, found by a binary search in each kind of message rather than by
// folding the session from its start. Tolerant: a last line cut short by a kill, a line that is
// not JSON or of a shape it does not know is skipped, counted and named in the warnings.

import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';

import { checkHazingOperator, type HazingEvent, type HazingOperator } from '../../core/hazing-log';
import { checkLatLon } from '../../core/geodesy';
import { checkPatternSettings } from '../../core/patterns';
import { createLogger } from '../../core/log';
import type {
  ActionStatus,
  KnownPerson,
  LogEntry,
  OperatorCommand,
  ServerMessage,
} from '../../core/protocol';
import type { ReplayMarkerKind, TrackLastKnown } from '../../core/replay';
import type { CommandOutcome, GeoDetection, LatLon, MapTarget } from '../../core/types';
import { checkZone, type ProtectedZone, type ZoneAlert } from '../../core/zones';
import { LOG_LIMIT, mergeAlert, mergeHazingEvent } from '../../core/screen-fold';
import { TRACKED_TARGET_DEFAULTS } from '../../core/targets';
import { describeCommand, JOURNAL_VERSION } from '../journal';

const log = createLogger('journal-timeline');

const READ_CHUNK_BYTES = 1024 * 1024;
/**
 * Reasons kept and named in a warning; the rest are only counted, so that a file of millions
 * of junk lines costs no memory for them.
 */
const NAMED_SKIPS = 20;

const MAX_REASON_LENGTH = 160;
const JSON_START = /^[ \t\r\n]*[{["0-9tfn-]/;
/** A frame's capture time is trusted for a sighting only this far before its journal line. */
const CAPTURE_LAG_MAX_MS = 10_000;

/**
 * The classes the live map shows: only their first sightings are markers. The detector names
 * every COCO class it sees (sheep, umbrellas), which would bury the bear.
 */
const MARKED_CLASSES: ReadonlySet<string> = new Set(TRACKED_TARGET_DEFAULTS.classes);

export interface JournalReadLimits {
  /**
   * A longer line is skipped unread. Every legal message fits: the largest, a zones list of
   * many zones with many corners each, is over 1 MB.
   */
  maxLineBytes: number;
  /** Past this the rest of the file is left out, so that loading stays bounded. */
  maxBytes: number;
}

export const JOURNAL_READ_LIMITS: JournalReadLimits = {
  maxLineBytes: 16 * 1024 * 1024,
  maxBytes: 512 * 1024 * 1024,
};

/** What a live client had on screen at one moment (besides the vehicle and the video). */
export interface JournalView {
  targets: MapTarget[];
  action: ActionStatus | null;
  zones: ProtectedZone[];
  alerts: ZoneAlert[];
  people: KnownPerson[];
  hazingOperator: HazingOperator | null;
  hazingEvents: HazingEvent[];
  /** Newest last, at most as many as a live client keeps. */
  log: LogEntry[];
  tracksLastKnown: TrackLastKnown[];
}

export interface JournalDetections {
  frameId: number;
  frameTimeMs: number;
  detections: GeoDetection[];
}

/** An operator command and its outcome; null outcome when the station never answered. */
export interface JournalCommand {
  id: number;
  timeMs: number;
  command: OperatorCommand;
  outcome: CommandOutcome | null;
  resultMs: number | null;
}

export interface JournalTrack {
  trackId: number;
  className: string;
  points: Array<LatLon & { timeMs: number }>;
}

type Line =
  | { t: number; kind: 'session'; version: number; tlog: string | null }
  | { t: number; kind: 'stopped'; why: string }
  | { t: number; kind: 'message'; message: ServerMessage; leftOut: string[] }
  | { t: number; kind: 'command'; id: number; command: OperatorCommand }
  | { t: number; kind: 'result'; id: number; outcome: CommandOutcome };

/** Values in time order, found by a binary search: the newest at or before a time. */
class Series<T> {
  readonly times: number[] = [];
  readonly values: T[] = [];

  push(t: number, value: T): void {
    this.times.push(t);
    this.values.push(value);
  }

  /** Index of the newest value at or before `t`, or -1. */
  indexAt(t: number): number {
    let low = 0;
    let high = this.times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.times[mid] <= t) low = mid + 1;
      else high = mid;
    }
    return low - 1;
  }

  at(t: number): T | undefined {
    const index = this.indexAt(t);
    return index >= 0 ? this.values[index] : undefined;
  }

  get last(): T | undefined {
    return this.values.at(-1);
  }
}

interface TrackRecord {
  className: string;
  /** Journal time of its first sighting. */
  firstT: number;
  /**
   * When the frame it was first seen in was taken: the marker's time, so that the event and
   * the key frame read the same second (the journal line comes a detector's run later).
   */
  firstSeenMs: number;
  /** Positions as the targets said them, by journal time; timeMs is when it was seen. */
  seen: Series<LatLon & { timeMs: number }>;
}

export class JournalTimeline {
  readonly warnings: string[] = [];
  readonly startMs: number | null = null;
  readonly endMs: number | null = null;

  private readonly targetSeries = new Series<MapTarget[]>();
  private readonly actionSeries = new Series<ActionStatus | null>();
  private readonly zoneSeries = new Series<ProtectedZone[]>();
  private readonly alertSeries = new Series<ZoneAlert[]>();
  private readonly peopleSeries = new Series<KnownPerson[]>();
  private readonly operatorSeries = new Series<HazingOperator | null>();
  private readonly hazingSeries = new Series<HazingEvent[]>();
  private readonly logSeries = new Series<LogEntry>();
  private readonly detectionSeries = new Series<JournalDetections>();
  private readonly detectionsByFrame = new Map<number, JournalDetections>();
  private readonly tracksById = new Map<number, TrackRecord>();
  /** The newest state of every hazing event, whether or not a client still showed it. */
  private readonly hazingById = new Map<string, HazingEvent>();
  private readonly commandList: JournalCommand[] = [];
  private readonly markerList: Array<{ kind: ReplayMarkerKind; timeMs: number; label: string }> =
    [];

  private constructor(lines: Line[]) {
    if (lines.length === 0) return;
    this.startMs = lines[0].t;
    this.endMs = lines[lines.length - 1].t;
    this.index(lines);
  }

  /**
   * Reads a whole journal. Null or a missing file gives an empty timeline; a file that cannot
   * be read gives an empty one with a warning that says why.
   */
  static load(
    filePath: string | null,
    limits: JournalReadLimits = JOURNAL_READ_LIMITS,
    tlogPath: string | null = null,
  ): JournalTimeline {
    if (filePath === null) return new JournalTimeline([]);
    const lines: Line[] = [];
    const skipped = new CountedList();
    const leftOut = new CountedList();
    let newerVersion: number | null = null;
    let stoppedWhy: string | null = null;
    let firstLine = true;
    const tlogName = tlogPath === null ? null : path.basename(tlogPath);
    // Each line parsed as it is read: the raw text of a long journal is never held at once.
    const onLine = ({ text, lineNo, ended }: RawLine): void => {
      if (text.trim() === '') return;
      const parsed = parseLine(text);
      const first = firstLine;
      firstLine = false;
      if (typeof parsed === 'string') {
        skipped.add(() => {
          const why = ended ? parsed : 'cut short: the station stopped while writing it';
          return `line ${lineNo} (${why})`;
        });
        return;
      }
      if (parsed === null) return;
      if (parsed.kind === 'stopped') {
        stoppedWhy ??= parsed.why;
        return;
      }
      if (parsed.kind === 'session') {
        // A journal left by another session under this name shows another flight's picture.
        // By name only: the session line may hold the path the record had where it was written.
        const named = parsed.tlog?.split(/[\\/]/).pop() ?? null;
        if (first && tlogName !== null && named !== null && named !== tlogName) {
          throw new ForeignJournal(parsed.tlog ?? named);
        }
        if (parsed.version > JOURNAL_VERSION) newerVersion = parsed.version;
      }
      if (parsed.kind === 'message') {
        for (const why of parsed.leftOut) leftOut.add(() => `line ${lineNo} ${why}`);
      }
      lines.push(parsed);
    };
    let read: ReadResult;
    try {
      read = readLines(filePath, limits, onLine);
    } catch (error) {
      if (error instanceof ForeignJournal) {
        const timeline = new JournalTimeline([]);
        timeline.warnings.push(
          `${path.basename(filePath)} belongs to ${clipped(error.tlogName)}, ` +
            `not ${tlogName}: left out`,
        );
        log.warn(timeline.warnings[0]);
        return timeline;
      }
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return new JournalTimeline([]);
      const timeline = new JournalTimeline([]);
      timeline.warnings.push(
        `session journal ${filePath} cannot be read (${(error as Error).message}): ` +
          'the replay has no detections, alerts or operator actions',
      );
      log.warn(timeline.warnings[0]);
      return timeline;
    }
    // Stable: lines of one millisecond keep the order the station wrote them in.
    lines.sort((a, b) => a.t - b.t);
    const timeline = new JournalTimeline(lines);
    const warn = (text: string): number =>
      timeline.warnings.push(`session journal ${filePath}${text}`);
    if (newerVersion !== null) {
      warn(
        ` is version ${newerVersion}, newer than this station reads (${JOURNAL_VERSION}): ` +
          'only what it understands is shown',
      );
    }
    if (read.truncated) {
      warn(
        ` is larger than ${megabytes(limits.maxBytes)}: only its first ` +
          `${megabytes(limits.maxBytes)} are shown, the rest is left out`,
      );
    }
    if (read.longLines.count > 0) {
      warn(
        `: skipped ${read.longLines.count} line(s) longer than ` +
          `${megabytes(limits.maxLineBytes)}: ${read.longLines.text()}`,
      );
    }
    if (skipped.count > 0) {
      warn(`: skipped ${skipped.count} line(s): ${skipped.text()}`);
    }
    if (leftOut.count > 0) {
      warn(`: left out ${leftOut.count} item(s) of a shape replay cannot show: ${leftOut.text()}`);
    }
    if (stoppedWhy !== null) {
      timeline.warnings.push(`the journal stopped during the session: ${clipped(stoppedWhy)}`);
    }
    for (const warning of timeline.warnings) log.warn(warning);
    return timeline;
  }

  /** The picture a live client had at wall-clock time `timeMs`. */
  viewAt(timeMs: number): JournalView {
    const logEnd = this.logSeries.indexAt(timeMs) + 1;
    return {
      targets: [...(this.targetSeries.at(timeMs) ?? [])],
      action: this.actionSeries.at(timeMs) ?? null,
      zones: [...(this.zoneSeries.at(timeMs) ?? [])],
      alerts: [...(this.alertSeries.at(timeMs) ?? [])],
      people: [...(this.peopleSeries.at(timeMs) ?? [])],
      hazingOperator: this.operatorSeries.at(timeMs) ?? null,
      hazingEvents: [...(this.hazingSeries.at(timeMs) ?? [])],
      log: this.logSeries.values.slice(Math.max(0, logEnd - LOG_LIMIT), logEnd),
      tracksLastKnown: this.tracksLastKnownAt(timeMs),
    };
  }

  /** The detections the station sent for one video frame, or null when it sent none. */
  detectionsFor(frameId: number): JournalDetections | null {
    return this.detectionsByFrame.get(frameId) ?? null;
  }

  /** The newest detections a live client had at `timeMs` (by when they were sent). */
  detectionsAt(timeMs: number): JournalDetections | null {
    return this.detectionSeries.at(timeMs) ?? null;
  }

  /**
   * Moments for the timeline, oldest first: each track's first sighting, each alert raised,
   * hazing starts and ends, every ABORT and every other operator command.
   */
  markers(): Array<{ kind: ReplayMarkerKind; timeMs: number; label: string }> {
    return this.markerList.map((marker) => ({ ...marker }));
  }

  /** Every operator command in the journal, oldest first, with its outcome. */
  commands(): JournalCommand[] {
    return this.commandList.map((command) => ({ ...command }));
  }

  /** Each track's positions seen from `fromMs` to `toMs` (by when seen), oldest first. */
  tracks(fromMs: number, toMs: number): JournalTrack[] {
    const tracks: JournalTrack[] = [];
    for (const [trackId, track] of this.tracksById) {
      const points = track.seen.values
        .filter((point) => point.timeMs >= fromMs && point.timeMs <= toMs)
        .map((point) => ({ ...point }));
      if (points.length > 0) tracks.push({ trackId, className: track.className, points });
    }
    return tracks.sort((a, b) => a.trackId - b.trackId);
  }

  /** The newest state of every hazing event that flew during the span, oldest first. */
  hazingEvents(fromMs: number, toMs: number): HazingEvent[] {
    return [...this.hazingById.values()]
      .filter((event) => event.startedMs <= toMs && (event.endedMs ?? Infinity) >= fromMs)
      .sort((a, b) => a.startedMs - b.startedMs);
  }

  private tracksLastKnownAt(timeMs: number): TrackLastKnown[] {
    const known: TrackLastKnown[] = [];
    for (const [trackId, track] of this.tracksById) {
      if (track.className !== 'bear' || track.firstT > timeMs) continue;
      const seen = track.seen.at(timeMs);
      if (!seen) continue;
      known.push({
        trackId,
        className: track.className,
        position: { latDeg: seen.latDeg, lonDeg: seen.lonDeg },
        timeMs: seen.timeMs,
      });
    }
    return known.sort((a, b) => a.trackId - b.trackId);
  }

  private index(lines: Line[]): void {
    let alerts: ZoneAlert[] = [];
    let hazingEvents: HazingEvent[] = [];
    const alertsRaised = new Set<number>();
    const commandsById = new Map<number, { index: number; record: JournalCommand }>();
    /** Where each log text was last seen, to tell whether the station logged an outcome. */
    const logTextAt = new Map<string, number>();

    lines.forEach((line, index) => {
      switch (line.kind) {
        case 'session':
        case 'stopped':
          return;
        case 'command': {
          const record: JournalCommand = {
            id: line.id,
            timeMs: line.t,
            command: line.command,
            outcome: null,
            resultMs: null,
          };
          this.commandList.push(record);
          commandsById.set(line.id, { index, record });
          // The station logs most commands itself, at once; the others are written in here.
          const next = lines[index + 1];
          const logged =
            next?.kind === 'message' &&
            next.message.type === 'log' &&
            next.message.entry.text.startsWith('Operator: ');
          if (!logged) {
            const text = `Operator: ${commandText(line.command)}`;
            this.logSeries.push(line.t, { timeMs: line.t, level: 'info', text });
          }
          return;
        }
        case 'result': {
          const asked = commandsById.get(line.id);
          if (!asked) return;
          asked.record.outcome = line.outcome;
          asked.record.resultMs = line.t;
          if ((logTextAt.get(line.outcome.text) ?? -1) <= asked.index) {
            const level = line.outcome.ok ? 'info' : 'warn';
            this.logSeries.push(line.t, { timeMs: line.t, level, text: line.outcome.text });
          }
          return;
        }
        case 'message':
          break;
      }
      const { t, message } = line;
      switch (message.type) {
        case 'log':
          this.logSeries.push(t, message.entry);
          logTextAt.set(message.entry.text, index);
          return;
        case 'targets':
          this.targetSeries.push(t, message.targets);
          for (const target of message.targets) this.sawTarget(t, target);
          return;
        case 'detections': {
          const detections: JournalDetections = {
            frameId: message.frameId,
            frameTimeMs: message.frameTimeMs,
            detections: message.detections,
          };
          this.detectionSeries.push(t, detections);
          this.detectionsByFrame.set(message.frameId, detections);
          for (const detection of message.detections) {
            if (typeof detection.trackId === 'number') {
              const seenMs = captureTime(t, message.frameTimeMs);
              this.firstSighting(t, detection.trackId, detection.className, seenMs);
            }
          }
          return;
        }
        case 'action':
          this.actionSeries.push(t, message.action);
          return;
        case 'zones':
          this.zoneSeries.push(t, message.zones);
          return;
        case 'people':
          this.peopleSeries.push(t, message.people);
          return;
        case 'hazing-operator':
          this.operatorSeries.push(t, message.operator);
          return;
        case 'alert': {
          const alert = message.alert;
          alerts = mergeAlert(alerts, alert);
          this.alertSeries.push(t, alerts);
          if (alert.acknowledgedMs === null && !alertsRaised.has(alert.id)) {
            alertsRaised.add(alert.id);
            this.markerList.push({ kind: 'alert', timeMs: t, label: alertLabel(alert) });
          }
          return;
        }
        case 'hazing-event': {
          const event = message.event;
          const before = this.hazingById.get(event.id);
          hazingEvents = mergeHazingEvent(hazingEvents, event);
          this.hazingSeries.push(t, hazingEvents);
          this.hazingById.set(event.id, event);
          if (!before) {
            this.markerList.push({ kind: 'hazing-start', timeMs: t, label: hazingLabel(event) });
          }
          if (event.outcome !== null && (before === undefined || before.outcome === null)) {
            this.markerList.push({ kind: 'hazing-end', timeMs: t, label: hazingLabel(event) });
          }
          return;
        }
        default:
          // Video status and anything a later station adds: not part of the picture here.
          return;
      }
    });

    for (const command of this.commandList) {
      const kind = command.command.kind === 'abort' ? 'abort' : 'command';
      const answer = command.outcome ? command.outcome.result : 'no answer';
      const label = `Operator: ${commandText(command.command)} (${answer})`;
      this.markerList.push({ kind, timeMs: command.timeMs, label });
    }
    for (const [trackId, track] of this.tracksById) {
      if (!MARKED_CLASSES.has(track.className)) continue;
      this.markerList.push({
        kind: 'detection',
        timeMs: track.firstSeenMs,
        label: `${track.className} #${trackId} first seen`,
      });
    }
    this.markerList.sort((a, b) => a.timeMs - b.timeMs);
  }

  private firstSighting(
    t: number,
    trackId: number,
    className: string,
    seenMs: number,
  ): TrackRecord {
    let track = this.tracksById.get(trackId);
    if (!track) {
      track = { className, firstT: t, firstSeenMs: seenMs, seen: new Series() };
      this.tracksById.set(trackId, track);
    }
    return track;
  }

  private sawTarget(t: number, target: MapTarget): void {
    // A target's first hit may be frames before it was confirmed: the journal's time is when
    // the map first showed it.
    const track = this.firstSighting(t, target.id, target.className, t);
    const last = track.seen.last;
    const { latDeg, lonDeg } = target.position;
    const moved = !last || last.latDeg !== latDeg || last.lonDeg !== lonDeg;
    if (last && last.timeMs >= target.lastSeenMs && !moved) return;
    track.seen.push(t, { latDeg, lonDeg, timeMs: target.lastSeenMs });
  }
}

/**
 * A frame's capture time where it is a plausible time before the journal line; else (a camera
 * clock that is off, a bad value) the journal's own time.
 */
function captureTime(journalMs: number, frameTimeMs: number): number {
  const lagMs = journalMs - frameTimeMs;
  return Number.isFinite(lagMs) && lagMs >= 0 && lagMs <= CAPTURE_LAG_MAX_MS
    ? frameTimeMs
    : journalMs;
}

/** A command in words, a detected person named "#15" as every track is, not "track-15". */
function commandText(command: OperatorCommand): string {
  return personIdsAsTracks(describeCommand(command));
}

/**
 * "person track-15" as "person #15", the way tracks are named everywhere else; for text the
 * station wrote with the person's id in it.
 */
export function personIdsAsTracks(text: string): string {
  return text.replace(/\b([Pp]erson) track-(\d+)\b/g, '$1 #$2');
}

/** Every item counted, only the first few kept (and their text made) to be named. */
class CountedList {
  count = 0;
  private readonly named: string[] = [];

  add(describe: () => string): void {
    this.count += 1;
    if (this.named.length < NAMED_SKIPS) this.named.push(describe());
  }

  text(): string {
    const more = this.count - this.named.length;
    return this.named.join(', ') + (more > 0 ? ` and ${more} more` : '');
  }
}

/** Thrown while reading to stop at a first line that names another flight record. */
class ForeignJournal extends Error {
  constructor(readonly tlogName: string) {
    super(`the journal belongs to ${tlogName}`);
  }
}

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / (1024 * 1024))} MB` : `${bytes} bytes`;
}

function alertLabel(alert: ZoneAlert): string {
  const where = alert.inside
    ? `inside "${alert.zoneName}"`
    : `${Math.round(alert.distanceM)} m from "${alert.zoneName}"`;
  return `ALERT: ${alert.className} #${alert.trackId} ${where}`;
}

function hazingLabel(event: HazingEvent): string {
  const what = event.pattern?.kind ?? 'pattern';
  const bear = event.trackId === null ? '' : ` on bear #${event.trackId}`;
  if (event.outcome === null) {
    return `Hazing started: ${what}${bear} (${event.operator?.operatorName ?? 'operator?'})`;
  }
  return `Hazing ended: ${what}${bear}, ${event.outcome}`;
}

interface RawLine {
  text: string;
  lineNo: number;
  ended: boolean;
}

interface ReadResult {
  /** The lines longer than the limit, left unread. */
  longLines: CountedList;
  /** True when the file holds more than the byte limit and the rest was left out. */
  truncated: boolean;
}

/**
 * The file's lines; `ended` is false for a last line with no newline (cut short, maybe). Only
 * a regular file is read: a FIFO or a device would block or never end.
 */
function readLines(
  filePath: string,
  limits: JournalReadLimits,
  onLine: (line: RawLine) => void,
): ReadResult {
  const result: ReadResult = { longLines: new CountedList(), truncated: false };
  // Non-blocking, so that opening a FIFO with no writer returns at once to be refused.
  const fd = openSync(filePath, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) {
      const what = stats.isDirectory() ? 'a folder' : 'not a regular file';
      throw new Error(`it is ${what}`);
    }
    // In chunks: a long session's journal may be larger than one string can hold.
    const chunk = Buffer.alloc(READ_CHUNK_BYTES);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let tooLong = false;
    let lineNo = 0;
    let totalBytes = 0;
    const endLine = (ended: boolean): void => {
      lineNo += 1;
      if (tooLong) {
        const number = lineNo;
        result.longLines.add(() => `line ${number}`);
      } else {
        const text = Buffer.concat(pending).toString('utf8');
        onLine({ text, lineNo, ended });
      }
      pending = [];
      pendingBytes = 0;
      tooLong = false;
    };
    const keep = (piece: Buffer): void => {
      if (tooLong) return;
      pendingBytes += piece.length;
      if (pendingBytes > limits.maxLineBytes) {
        tooLong = true;
        pending = [];
        return;
      }
      pending.push(Buffer.from(piece));
    };
    for (;;) {
      const wanted = Math.min(chunk.length, limits.maxBytes - totalBytes);
      if (wanted <= 0) {
        result.truncated = readSync(fd, chunk, 0, 1, null) > 0;
        break;
      }
      const read = readSync(fd, chunk, 0, wanted, null);
      if (read === 0) break;
      totalBytes += read;
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, start);
        if (newline < 0 || newline >= read) break;
        keep(chunk.subarray(start, newline));
        endLine(true);
        start = newline + 1;
      }
      if (start < read) keep(chunk.subarray(start, read));
    }
    // A line the byte limit cut is not one the station left unfinished: it is left out.
    if (!result.truncated && (pendingBytes > 0 || tooLong)) endLine(false);
  } finally {
    closeSync(fd);
  }
  return result;
}

/** A line of the journal; a string says why it is not one; null: a message replay ignores. */
function parseLine(text: string): Line | string | null {
  // No JSON text starts otherwise: junk is told without the cost of a thrown parse error.
  if (!JSON_START.test(text)) return 'not JSON';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (!isRecord(value)) return 'not an object';
  const t = value.t;
  if (typeof t !== 'number' || !Number.isFinite(t)) return 'no time "t"';
  if (isRecord(value.session)) {
    const version = value.session.version;
    if (typeof version !== 'number') return 'a session line without a version';
    const tlog = typeof value.session.tlog === 'string' ? value.session.tlog : null;
    return { t, kind: 'session', version, tlog };
  }
  // The live journal's last line when it stops itself (at its byte limit, say).
  if (typeof value.stopped === 'string') return { t, kind: 'stopped', why: value.stopped };
  if (isRecord(value.command)) {
    const { id, command } = value.command;
    if (typeof id !== 'number' || !isRecord(command) || typeof command.kind !== 'string') {
      return 'a command without an id or a kind';
    }
    return { t, kind: 'command', id, command: command as unknown as OperatorCommand };
  }
  if (isRecord(value.result)) {
    const { id, outcome } = value.result;
    if (typeof id !== 'number' || !isOutcome(outcome)) return 'a result without an outcome';
    return { t, kind: 'result', id, outcome };
  }
  if (isRecord(value.m)) {
    const checked = checkMessage(value.m);
    if (checked === 'ignored') return null;
    if (typeof checked === 'string') return checked;
    return { t, kind: 'message', message: checked.message, leftOut: checked.leftOut };
  }
  return 'unknown shape';
}

/** A message as replay keeps it, with the items of it that were left out and why. */
interface CheckedMessage {
  message: ServerMessage;
  leftOut: string[];
}

const ACTION_PHASES = new Set([
  'starting',
  'flying',
  'holding',
  'succeeded',
  'finished',
  'aborted',
  'failed',
  'returning',
]);
const HAZING_OUTCOMES = new Set([
  'success',
  'finished',
  'aborted',
  'failed',
  'battery',
  'link-lost',
  'mode-changed',
  'lost-bear',
]);
const LOG_LEVELS = new Set(['info', 'warn', 'error']);
const PERSON_SOURCES = new Set(['detected', 'marked']);

/**
 * The message with every item checked, the way the screens draw it; a string says why the
 * whole message cannot be used; 'ignored' for one replay does not show.
 */
function checkMessage(m: Record<string, unknown>): CheckedMessage | string {
  const type = m.type;
  const whole = (check: () => void): CheckedMessage | string => {
    try {
      check();
      return { message: m as unknown as ServerMessage, leftOut: [] };
    } catch (error) {
      return clipped(`a "${String(type)}" message: ${(error as Error).message}`);
    }
  };
  switch (type) {
    case 'log':
      return whole(() => checkLogEntry(m.entry));
    case 'targets':
      return checkItems(m, 'targets', 'target', checkTarget);
    case 'detections': {
      const problem = whole(() => {
        finiteNumber(m.frameId, 'frameId');
        finiteNumber(m.frameTimeMs, 'frameTimeMs');
      });
      if (typeof problem === 'string') return problem;
      return checkItems(m, 'detections', 'detection', checkDetection);
    }
    case 'action':
      return whole(() => {
        if (m.action !== null) checkAction(m.action);
      });
    case 'zones':
      return checkItems(m, 'zones', 'zone', (zone, what) => checkZone(zone, what));
    case 'people':
      return checkItems(m, 'people', 'person', checkPerson);
    case 'hazing-operator':
      return whole(() => {
        if (m.operator !== null) checkHazingOperator(m.operator);
      });
    case 'alert':
      return whole(() => checkAlert(m.alert));
    case 'hazing-event':
      return whole(() => checkJournalHazingEvent(m.event));
    case 'video-status':
    case 'vehicle':
    case 'vehicles':
    case 'links':
    case 'frame':
    case 'sim-truth':
    case 'heartbeat':
    case 'hello':
    case 'command-result':
    case 'replay-status':
    case 'replay-view':
      return 'ignored';
    default:
      return `a message of unknown type ${JSON.stringify(type)}`;
  }
}

/** Keeps the items of a list field that pass `check`; each one left out is named. */
function checkItems(
  m: Record<string, unknown>,
  field: string,
  noun: string,
  check: (item: unknown, what: string) => unknown,
): CheckedMessage | string {
  const items = m[field];
  if (!Array.isArray(items)) return `a "${String(m.type)}" message whose ${field} is not a list`;
  const kept: unknown[] = [];
  const leftOut: string[] = [];
  items.forEach((item, index) => {
    const what = `${noun} ${index + 1}`;
    try {
      check(item, what);
      kept.push(item);
    } catch (error) {
      leftOut.push(clipped((error as Error).message));
    }
  });
  return { message: { ...m, [field]: kept } as unknown as ServerMessage, leftOut };
}

function checkLogEntry(entry: unknown): void {
  const record = recordOf(entry, 'entry');
  finiteNumber(record.timeMs, 'entry timeMs');
  if (!LOG_LEVELS.has(record.level as string)) {
    throw new Error(`entry level ${JSON.stringify(record.level)} is not info, warn or error`);
  }
  textOf(record.text, 'entry text');
}

function checkTarget(value: unknown, what: string): void {
  const target = recordOf(value, what);
  finiteNumber(target.id, `${what} id`);
  textOf(target.className, `${what} className`);
  checkLatLon(target.position, `${what} position`);
  for (const field of ['score', 'firstSeenMs', 'lastSeenMs', 'hits']) {
    finiteNumber(target[field], `${what} ${field}`);
  }
  if (target.path !== undefined) {
    if (!Array.isArray(target.path)) throw new Error(`${what} path is not a list of points`);
    target.path.forEach((point, index) => {
      const where = `${what} path point ${index + 1}`;
      checkLatLon(point, where);
      finiteNumber((point as Record<string, unknown>).timeMs, `${where} timeMs`);
    });
  }
  for (const field of ['speedMps', 'courseDeg']) {
    if (target[field] !== undefined && target[field] !== null) {
      finiteNumber(target[field], `${what} ${field}`);
    }
  }
  checkUncertainty(target.uncertainty, what);
}

function checkDetection(value: unknown, what: string): void {
  const detection = recordOf(value, what);
  textOf(detection.className, `${what} className`);
  for (const field of ['classId', 'score', 'imageWidth', 'imageHeight']) {
    finiteNumber(detection[field], `${what} ${field}`);
  }
  const box = detection.box;
  if (!Array.isArray(box) || box.length !== 4) throw new Error(`${what} box is not 4 numbers`);
  box.forEach((side) => finiteNumber(side, `${what} box`));
  if (detection.ground !== null) checkLatLon(detection.ground, `${what} ground`);
  if (detection.groundError !== null) textOf(detection.groundError, `${what} groundError`);
  if (detection.trackId !== undefined && detection.trackId !== null) {
    finiteNumber(detection.trackId, `${what} trackId`);
  }
  checkUncertainty(detection.uncertainty, what);
}

function checkUncertainty(value: unknown, what: string): void {
  if (value === undefined || value === null) return;
  const uncertainty = recordOf(value, `${what} uncertainty`);
  for (const field of ['alongRangeM', 'crossRangeM', 'alongRangeBearingDeg']) {
    finiteNumber(uncertainty[field], `${what} uncertainty ${field}`);
  }
}

function checkPerson(value: unknown, what: string): void {
  const person = recordOf(value, what);
  textOf(person.id, `${what} id`);
  if (!PERSON_SOURCES.has(person.source as string)) {
    throw new Error(`${what} source ${JSON.stringify(person.source)} is not detected or marked`);
  }
  checkLatLon(person.position, `${what} position`);
  finiteNumber(person.lastSeenMs, `${what} lastSeenMs`);
}

function checkAlert(value: unknown): void {
  const alert = recordOf(value, 'alert');
  for (const field of ['id', 'trackId', 'zoneId', 'distanceM', 'raisedMs']) {
    finiteNumber(alert[field], `alert ${field}`);
  }
  textOf(alert.className, 'alert className');
  textOf(alert.zoneName, 'alert zoneName');
  if (typeof alert.inside !== 'boolean') throw new Error('alert inside is not true or false');
  checkLatLon(alert.position, 'alert position');
  if (alert.acknowledgedMs !== null) finiteNumber(alert.acknowledgedMs, 'alert acknowledgedMs');
}

function checkAction(value: unknown): void {
  const action = recordOf(value, 'action');
  const settings = checkPatternSettings(action.settings, 'action');
  if (action.kind !== settings.kind) {
    throw new Error(`action kind ${JSON.stringify(action.kind)} is not its settings' kind`);
  }
  if (!ACTION_PHASES.has(action.phase as string)) {
    throw new Error(`action phase ${JSON.stringify(action.phase)} is not a phase`);
  }
  textOf(action.eventId, 'action eventId');
  textOf(action.text, 'action text');
  if (action.targetId !== null) finiteNumber(action.targetId, 'action targetId');
  if (action.violation !== null) {
    const violation = recordOf(action.violation, 'action violation');
    textOf(violation.rule, 'action violation rule');
    textOf(violation.text, 'action violation text');
  }
  if (action.setpoint !== null) {
    checkLatLon(action.setpoint, 'action setpoint');
    const setpoint = action.setpoint as Record<string, unknown>;
    finiteNumber(setpoint.altitudeAglM, 'action setpoint altitudeAglM');
  }
  if (!Array.isArray(action.preview)) throw new Error('action preview is not a list of points');
  action.preview.forEach((point, index) => checkLatLon(point, `action preview ${index + 1}`));
  if (action.bearStart !== null) checkLatLon(action.bearStart, 'action bearStart');
  for (const field of ['bearMovedM', 'bearTowardM']) {
    if (action[field] !== null && action[field] !== undefined) {
      finiteNumber(action[field], `action ${field}`);
    }
  }
  finiteNumber(action.startedMs, 'action startedMs');
  if (typeof action.awaitingChoice !== 'boolean') {
    throw new Error('action awaitingChoice is not true or false');
  }
}

/**
 * Every field of a hazing entry that the hazing screens and the report read; throws an Error
 * naming the first one that is wrong.
 */
export function checkJournalHazingEvent(value: unknown, what = 'hazing event'): HazingEvent {
  const event = recordOf(value, what);
  textOf(event.id, `${what} id`);
  try {
    checkHazingOperator(event.operator);
  } catch (error) {
    throw new Error(`${what} operator: ${(error as Error).message}`);
  }
  if (event.trackId !== null) finiteNumber(event.trackId, `${what} trackId`);
  checkPatternSettings(event.pattern, `${what} pattern`);
  finiteNumber(event.startedMs, `${what} startedMs`);
  for (const field of ['endedMs', 'bearMovedM', 'durationS']) {
    if (event[field] !== null) finiteNumber(event[field], `${what} ${field}`);
  }
  for (const field of ['bearStart', 'bearEnd', 'droneStart', 'droneEnd']) {
    if (event[field] !== null) checkLatLon(event[field], `${what} ${field}`);
  }
  if (event.outcome !== null && !HAZING_OUTCOMES.has(event.outcome as string)) {
    throw new Error(`${what} outcome ${JSON.stringify(event.outcome)} is not an outcome`);
  }
  if (!Array.isArray(event.actions)) throw new Error(`${what} actions is not a list`);
  event.actions.forEach((item, index) => {
    const where = `${what} action ${index + 1}`;
    const action = recordOf(item, where);
    finiteNumber(action.timeMs, `${where} timeMs`);
    textOf(action.action, `${where} action`);
    textOf(action.detail, `${where} detail`);
  });
  return value as unknown as HazingEvent;
}

/** Reasons quote the bad values; a huge or hostile one must not fill the warning. */
function clipped(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH)}...` : text;
}

function recordOf(value: unknown, what: string): Record<string, unknown> {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  return value;
}

function finiteNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${what} ${JSON.stringify(value) ?? 'missing'} is not a number`);
  }
  return value;
}

function textOf(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new Error(`${what} is not text`);
  return value;
}

function isOutcome(value: unknown): value is CommandOutcome {
  return (
    isRecord(value) &&
    typeof value.ok === 'boolean' &&
    typeof value.result === 'string' &&
    typeof value.text === 'string'
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
