// Reads a session journal (see ../journal.ts) back for replay: what a live client had on screen
// at any wall-clock time, found by a binary search in each kind of message rather than by
// folding the session from its start. Tolerant: a last line cut short by a kill, a line that is
// not JSON or of a shape it does not know is skipped, counted and named in the warnings.

import { closeSync, openSync, readSync } from 'node:fs';

import type { HazingEvent, HazingOperator } from '../../core/hazing-log';
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
import type { ProtectedZone, ZoneAlert } from '../../core/zones';
import { LOG_LIMIT, mergeAlert, mergeHazingEvent } from '../../core/screen-fold';
import { describeCommand, JOURNAL_VERSION } from '../journal';

const log = createLogger('journal-timeline');

const READ_CHUNK_BYTES = 1024 * 1024;
/** Skipped lines named one by one in a warning; the rest are counted. */
const NAMED_SKIPS = 10;

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
  | { t: number; kind: 'session'; version: number }
  | { t: number; kind: 'message'; message: ServerMessage }
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
  static load(filePath: string | null): JournalTimeline {
    if (filePath === null) return new JournalTimeline([]);
    let raw: Array<{ text: string; lineNo: number; ended: boolean }>;
    try {
      raw = readLines(filePath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return new JournalTimeline([]);
      const timeline = new JournalTimeline([]);
      timeline.warnings.push(
        `session journal ${filePath} cannot be read (${(error as Error).message}): ` +
          'the replay has no detections, alerts or operator actions',
      );
      return timeline;
    }
    const lines: Line[] = [];
    const skipped: string[] = [];
    let newerVersion: number | null = null;
    for (const { text, lineNo, ended } of raw) {
      if (text.trim() === '') continue;
      const parsed = parseLine(text);
      if (typeof parsed === 'string') {
        const why = ended ? parsed : 'cut short: the station stopped while writing it';
        skipped.push(`line ${lineNo} (${why})`);
        continue;
      }
      if (parsed === null) continue;
      if (parsed.kind === 'session' && parsed.version > JOURNAL_VERSION) {
        newerVersion = parsed.version;
      }
      lines.push(parsed);
    }
    // Stable: lines of one millisecond keep the order the station wrote them in.
    lines.sort((a, b) => a.t - b.t);
    const timeline = new JournalTimeline(lines);
    if (newerVersion !== null) {
      timeline.warnings.push(
        `session journal ${filePath} is version ${newerVersion}, newer than this station ` +
          `reads (${JOURNAL_VERSION}): only what it understands is shown`,
      );
    }
    if (skipped.length > 0) {
      const more = skipped.length - NAMED_SKIPS;
      timeline.warnings.push(
        `session journal ${filePath}: skipped ${skipped.length} line(s): ` +
          skipped.slice(0, NAMED_SKIPS).join(', ') +
          (more > 0 ? ` and ${more} more` : ''),
      );
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
            const text = `Operator: ${describeCommand(line.command)}`;
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
              this.firstSighting(t, detection.trackId, detection.className);
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
      const label = `Operator: ${describeCommand(command.command)} (${answer})`;
      this.markerList.push({ kind, timeMs: command.timeMs, label });
    }
    for (const [trackId, track] of this.tracksById) {
      this.markerList.push({
        kind: 'detection',
        timeMs: track.firstT,
        label: `${track.className} #${trackId} first seen`,
      });
    }
    this.markerList.sort((a, b) => a.timeMs - b.timeMs);
  }

  private firstSighting(t: number, trackId: number, className: string): TrackRecord {
    let track = this.tracksById.get(trackId);
    if (!track) {
      track = { className, firstT: t, seen: new Series() };
      this.tracksById.set(trackId, track);
    }
    return track;
  }

  private sawTarget(t: number, target: MapTarget): void {
    const track = this.firstSighting(t, target.id, target.className);
    const last = track.seen.last;
    const { latDeg, lonDeg } = target.position;
    const moved = !last || last.latDeg !== latDeg || last.lonDeg !== lonDeg;
    if (last && last.timeMs >= target.lastSeenMs && !moved) return;
    track.seen.push(t, { latDeg, lonDeg, timeMs: target.lastSeenMs });
  }
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

/** The file's lines; `ended` is false for a last line with no newline (cut short, maybe). */
function readLines(filePath: string): Array<{ text: string; lineNo: number; ended: boolean }> {
  const lines: Array<{ text: string; lineNo: number; ended: boolean }> = [];
  const fd = openSync(filePath, 'r');
  try {
    // In chunks: a long session's journal may be larger than one string can hold.
    const chunk = Buffer.alloc(READ_CHUNK_BYTES);
    let pending: Buffer[] = [];
    for (;;) {
      const read = readSync(fd, chunk, 0, chunk.length, null);
      if (read === 0) break;
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(0x0a, start);
        if (newline < 0 || newline >= read) break;
        pending.push(chunk.subarray(start, newline));
        const text = Buffer.concat(pending).toString('utf8');
        lines.push({ text, lineNo: lines.length + 1, ended: true });
        pending = [];
        start = newline + 1;
      }
      if (start < read) pending.push(Buffer.from(chunk.subarray(start, read)));
    }
    if (pending.length > 0) {
      const text = Buffer.concat(pending).toString('utf8');
      lines.push({ text, lineNo: lines.length + 1, ended: false });
    }
  } finally {
    closeSync(fd);
  }
  return lines;
}

/** A line of the journal; a string says why it is not one; null: a message replay ignores. */
function parseLine(text: string): Line | string | null {
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
    return { t, kind: 'session', version };
  }
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
    const problem = checkMessage(value.m);
    if (problem === 'ignored') return null;
    if (problem !== null) return problem;
    return { t, kind: 'message', message: value.m as unknown as ServerMessage };
  }
  return 'unknown shape';
}

/** Why a recorded message cannot be used, 'ignored' for one replay does not show, or null. */
function checkMessage(m: Record<string, unknown>): string | null {
  const bad = `a "${String(m.type)}" message of unknown shape`;
  switch (m.type) {
    case 'log': {
      const entry = m.entry;
      const ok =
        isRecord(entry) &&
        typeof entry.timeMs === 'number' &&
        typeof entry.text === 'string' &&
        (entry.level === 'info' || entry.level === 'warn' || entry.level === 'error');
      return ok ? null : bad;
    }
    case 'targets':
      return Array.isArray(m.targets) && m.targets.every(isTarget) ? null : bad;
    case 'detections':
      return typeof m.frameId === 'number' &&
        typeof m.frameTimeMs === 'number' &&
        Array.isArray(m.detections) &&
        m.detections.every(isRecord)
        ? null
        : bad;
    case 'action':
      return m.action === null || isRecord(m.action) ? null : bad;
    case 'zones':
      return Array.isArray(m.zones) ? null : bad;
    case 'people':
      return Array.isArray(m.people) ? null : bad;
    case 'hazing-operator':
      return m.operator === null || isRecord(m.operator) ? null : bad;
    case 'alert':
      return isRecord(m.alert) && typeof m.alert.id === 'number' ? null : bad;
    case 'hazing-event':
      return isRecord(m.event) &&
        typeof m.event.id === 'string' &&
        typeof m.event.startedMs === 'number'
        ? null
        : bad;
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
      return `a message of unknown type ${JSON.stringify(m.type)}`;
  }
}

function isTarget(value: unknown): boolean {
  return (
    isRecord(value) &&
    typeof value.id === 'number' &&
    typeof value.className === 'string' &&
    typeof value.lastSeenMs === 'number' &&
    isRecord(value.position) &&
    typeof value.position.latDeg === 'number' &&
    typeof value.position.lonDeg === 'number'
  );
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
