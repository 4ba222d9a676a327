// One flight record opened for replay: the .tlog indexed by time, and what was recorded beside
// it (video and its frame table, the session journal, the hazing log) on the same timeline.
// Indexing runs once in the background; afterwards any point of the record costs the same.
// A missing sidecar is fine; a broken one is a warning that names it, never a failed replay.

import { createHash } from 'node:crypto';
import { constants as fsConstants, existsSync, promises as fsp, statSync } from 'node:fs';
import path from 'node:path';
import { toDisposable, type Disposable } from '../../core/disposable';
import type { HazingEvent } from '../../core/hazing-log';
import { createLogger } from '../../core/log';
import type { LogEntry, ServerMessage, VideoStatus } from '../../core/protocol';
import type {
  ReplayBreak,
  ReplayFile,
  ReplayMarker,
  ReplayMarkerKind,
  ReplayStatus,
  ReplayView,
} from '../../core/replay';
import type { TimelineAxis, TimelineBreakUs } from '../../core/timeline';
import type { GeoDetection, LatLon } from '../../core/types';
import { readHazingLogFile } from '../hazing/hazing-log-store';
import { sidecarPaths } from '../journal';
import { userCacheDir } from '../paths';
import type { TileProvider } from '../server';
import { writeIncidentReport, type ReportInput } from '../report/report';
import { JOURNAL_READ_LIMITS, JournalTimeline, personIdsAsTracks } from './journal-timeline';
import { RecordedVideo } from './recorded-video';
import { TlogIndex } from './tlog-index';

const log = createLogger('replay');

/** The vehicle's trail in a view, thinned to at most this many points. */
const VIEW_TRAIL_POINTS = 600;
/** The vehicle's path in a report. */
const REPORT_PATH_POINTS = 5000;
/** Detection markers this close together on the axis are one marker. */
const DETECTION_MERGE_US = 1_000_000;
export const MAX_KEY_FRAMES = 12;
/** Where a track's first sighting looks for its best frame: a little before, a while after. */
const SIGHTING_WINDOW_BEFORE_MS = 500;
const SIGHTING_WINDOW_AFTER_MS = 3000;
/** Of the tlog's share of indexing progress when there is a video to decode too. */
const TLOG_PROGRESS_SHARE = 0.5;
const HASH_CHUNK_BYTES = 1024 * 1024;
/** The status carries at most this many breaks (the longest) and markers: it stays small. */
export const STATUS_MAX_BREAKS = 500;
export const STATUS_MAX_MARKERS = 5000;
/** The report lists at most this many of the log's breaks in its span (the longest). */
export const REPORT_MAX_BREAKS = 500;
/** The longest folder name the /reports route serves. */
export const REPORT_FOLDER_MAX_CHARS = 200;
/** Room for the "-2", "-3" ... a taken name gets beside it. */
const REPORT_FOLDER_TRY_CHARS = 8;
/** A hazing end this near the ABORT that ended it is in the ABORT's key frame. */
const ABORT_END_SAME_FRAME_MS = 1000;
/** Markers there can be very many of; the status keeps the others first when it must cut. */
const PLENTIFUL_MARKERS: ReadonlySet<ReplayMarkerKind> = new Set(['detection', 'command']);

export interface ReplaySessionOptions {
  /** The video frame cache goes into a new folder under this one (default userCacheDir()). */
  cacheDir?: string;
  /** Map tiles for the report's map image, when the station has them. */
  reportTiles?: { provider: TileProvider; attribution: string } | null;
}

type FrameMessage = Extract<ServerMessage, { type: 'frame' }>;
type StatusPart = Omit<ReplayStatus, 'positionAxisMs' | 'playing' | 'speed'>;
type FrameDetections = { frameId: number; frameTimeMs: number; detections: GeoDetection[] };

export class ReplaySession implements Disposable {
  /** Resolves when indexing ends, whether or not it worked (see status().error). */
  readonly whenReady: Promise<void>;
  /** Resolves when every file's checksum is known. */
  readonly whenHashed: Promise<void>;
  private index: TlogIndex | null = null;
  private journal: JournalTimeline = JournalTimeline.load(null);
  private video: RecordedVideo | null = null;
  private hazingLogEvents: HazingEvent[] = [];
  private markerList: ReplayMarker[] = [];
  /** What the status sends: bounded, made once when indexing ends. */
  private statusBreaks: ReplayBreak[] = [];
  private statusMarkers: ReplayMarker[] = [];
  /** Axis positions of the video frames by frame index; made on first use. */
  private frameAxesCache: number[] | null = null;
  private readonly files: ReplayFile[] = [];
  /** Each file's identity when opened: an edit in place can keep the size. */
  private readonly fileStamps = new Map<ReplayFile, FileStamp>();
  private readonly warnings: string[] = [];
  private error: string | null = null;
  private progress = { tlog: 0, video: 0, what: 'Opening the flight record' };
  private hasVideo = false;
  private isReady = false;
  private readonly listeners = new Set<() => void>();
  private reportTiles: ReportInput['tiles'];
  private firstPositionCache: LatLon | null | undefined;
  private disposed = false;
  /** Stops a checksum being read, or the video being decoded, when the replay closes. */
  private readonly closing = new AbortController();

  private constructor(
    readonly tlogPath: string,
    private readonly options: ReplaySessionOptions,
  ) {
    this.reportTiles = options.reportTiles ?? null;
    this.whenReady = this.open()
      .catch((error: unknown) => {
        this.error = `cannot replay ${tlogPath}: ${errorText(error)}`;
        log.error(this.error);
      })
      .then(() => {
        this.isReady = this.error === null && !this.disposed;
        if (this.isReady) this.boundStatusLists();
        this.progress.what = this.error === null ? 'Indexed' : 'Indexing failed';
        this.emit();
      });
    this.whenHashed = this.whenReady.then(() => this.hashFiles());
  }

  /**
   * Opens a flight record and starts indexing it and its sidecars; throws only when the file
   * itself is not there (or not a file), since nothing could be replayed then.
   */
  static open(tlogPath: string, options: ReplaySessionOptions = {}): ReplaySession {
    const file = path.resolve(tlogPath);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat) throw new Error(`flight record ${file} does not exist`);
    if (!stat.isFile()) throw new Error(`flight record ${file} is not a file`);
    return new ReplaySession(file, options);
  }

  /** Map tiles for reports, once the station has opened them. */
  setReportTiles(tiles: { provider: TileProvider; attribution: string } | null): void {
    this.reportTiles = tiles;
  }

  get ready(): boolean {
    return this.isReady && !this.disposed;
  }

  get axisEndUs(): number {
    return this.index?.timeline.axisEndUs ?? 0;
  }

  breaksUs(): readonly TimelineBreakUs[] {
    return this.index?.timeline.breaks ?? [];
  }

  onChange(listener: () => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  status(): StatusPart {
    const timeline = this.index?.timeline ?? null;
    const share = this.hasVideo ? TLOG_PROGRESS_SHARE : 1;
    const fraction = this.progress.tlog * share + this.progress.video * (1 - share);
    return {
      file: this.tlogPath,
      files: this.files.map((file) => ({ ...file })),
      indexing: {
        done: this.isReady || this.error !== null,
        progressPct: this.isReady ? 100 : Math.min(99.9, fraction * 100),
        what: this.progress.what,
      },
      error: this.error,
      warnings: [...this.warnings],
      axisEndMs: this.isReady && timeline ? timeline.axisEndUs / 1000 : 0,
      startMs: this.isReady && timeline ? timeline.minUs / 1000 : null,
      endMs: this.isReady && timeline ? timeline.maxUs / 1000 : null,
      breaks: this.isReady ? this.statusBreaks : [],
      markers: this.isReady ? this.statusMarkers : [],
      videoFrames: this.video?.frames ?? 0,
    };
  }

  videoStatus(): VideoStatus | null {
    if (!this.video) return null;
    return {
      label: 'recorded video',
      state: 'running',
      framesPerSecond: this.video.framesPerSecond,
      width: this.video.widthPx,
      height: this.video.heightPx,
      error: null,
      live: false,
    };
  }

  /** The first position in the log, for where the map starts. */
  firstPosition(): LatLon | null {
    if (!this.ready) return null;
    if (this.firstPositionCache === undefined) {
      const first = this.requireIndex().trail(0, this.axisEndUs, 2)[0];
      this.firstPositionCache = first ? { latDeg: first.latDeg, lonDeg: first.lonDeg } : null;
    }
    return this.firstPositionCache;
  }

  /** Everything on screen with the playhead at axisUs. */
  viewAt(axisUs: number): ReplayView {
    const index = this.requireIndex();
    const { timeUs, inBreakUs } = this.timeAt(axisUs);
    const timeMs = timeUs / 1000;
    // In a break the picture (position, frame) is the last one before it; in a gap the link is
    // judged at the time inside it, so it reads lost where the link-lost marker is.
    const pictureAxisUs = inBreakUs ? inBreakUs.axisStartUs : axisUs;
    const { vehicle, lastKnown } = index.vehicleAt(pictureAxisUs, timeUs);
    const journalView = this.journal.viewAt(timeMs);
    const frameIndex = this.frameIndexAtTime((inBreakUs ? inBreakUs.fromUs : timeUs) / 1000);
    return {
      positionAxisMs: axisUs / 1000,
      timeMs,
      inBreak: inBreakUs ? breakToMs(inBreakUs) : null,
      vehicle,
      vehicleLastKnown: lastKnown,
      trail: index.trail(0, pictureAxisUs, VIEW_TRAIL_POINTS),
      tracksLastKnown: journalView.tracksLastKnown,
      targets: journalView.targets,
      detections: frameIndex === null ? null : this.detectionsOfFrame(frameIndex),
      action: journalView.action,
      zones: journalView.zones,
      alerts: journalView.alerts,
      people: journalView.people,
      hazingOperator: journalView.hazingOperator,
      hazingEvents: journalView.hazingEvents,
      log: journalView.log,
      frameIndex,
    };
  }

  /** The recorded video frame at the playhead, null without video or before its first frame. */
  frameIndexAt(axisUs: number): number | null {
    const { timeUs, inBreakUs } = this.timeAt(axisUs);
    return this.frameIndexAtTime((inBreakUs ? inBreakUs.fromUs : timeUs) / 1000);
  }

  frameMessage(index: number): FrameMessage {
    const video = this.requireVideo();
    const info = video.frameInfo(index);
    return {
      type: 'frame',
      frameId: info.frameId,
      frameTimeMs: info.frameTimeMs,
      width: video.widthPx,
      height: video.heightPx,
      jpeg: video.jpeg(index).toString('base64'),
    };
  }

  /**
   * Where a step of whole video frames (or, without video, log records) lands. It never moves
   * against the asked direction: each step goes to the frame next in time after (or before)
   * the one shown, unless that frame sits the other way on the axis (its time is held by an
   * earlier run, after a jump back) or there is none (past either end of the video): then
   * that step is one log record.
   */
  stepAxisUs(axisUs: number, frames: number): number {
    const index = this.requireIndex();
    const video = this.video;
    const direction = frames > 0 ? 1 : -1;
    const byRecord = (fromUs: number): number => {
      const landed = index.stepAxisUs(fromUs, direction);
      return direction > 0 ? Math.max(fromUs, landed) : Math.min(fromUs, landed);
    };
    if (!video || video.frames === 0) {
      const landed = index.stepAxisUs(axisUs, frames);
      return direction > 0 ? Math.max(axisUs, landed) : Math.min(axisUs, landed);
    }
    const axes = this.frameAxes();
    let positionUs = axisUs;
    for (let step = 0; step < Math.abs(frames); step++) {
      const shown = this.frameIndexAt(positionUs);
      const next =
        shown === null
          ? direction > 0
            ? video.firstFrame
            : null
          : video.neighbourFrame(shown, direction);
      const nextUs = next === null ? null : axes[next];
      const ahead = nextUs !== null && (direction > 0 ? nextUs > positionUs : nextUs < positionUs);
      const landedUs = ahead ? nextUs : byRecord(positionUs);
      if (landedUs === positionUs) break;
      positionUs = landedUs;
    }
    return positionUs;
  }

  /** The axis position of a wall-clock time: the first run of the log that holds it. */
  axisForTime(timeMs: number): number {
    const timeline = this.requireIndex().timeline;
    const firstUs = timeline.minUs;
    const lastUs = timeline.maxUs;
    const timeUs = timeMs * 1000;
    if (!Number.isFinite(new Date(timeMs).getTime())) {
      // Past the range a date can hold: there is no date to write it as.
      throw new Error(
        `${timeMs} ms is not a time in the log (it spans ${isoTime(firstUs)} ` +
          `to ${isoTime(lastUs)})`,
      );
    }
    if (timeUs < firstUs || timeUs > lastUs) {
      throw new Error(
        `${isoTime(timeUs)} is outside the log, which runs from ${isoTime(firstUs)} ` +
          `to ${isoTime(lastUs)}`,
      );
    }
    return timeline.timeToAxisUs(timeUs);
  }

  /** Every marker on the timeline, in axis order. */
  get markers(): readonly ReplayMarker[] {
    return this.markerList;
  }

  /** Writes an incident report for a span of the axis into a new folder under outDir. */
  async report(
    fromAxisUs: number,
    toAxisUs: number,
    outDir: string,
  ): Promise<{ dir: string; files: string[] }> {
    const index = this.requireIndex();
    if (!(toAxisUs > fromAxisUs)) throw new Error('the report span must end after it starts');
    const timeline = index.timeline;
    if (toAxisUs - fromAxisUs < 1) {
      throw new Error(
        'the span is shorter than a microsecond, the finest step of the log: ' +
          'choose a longer span',
      );
    }
    for (const b of timeline.breaks) {
      if (b.kind === 'gap' && fromAxisUs > b.axisStartUs && toAxisUs < b.axisEndUs) {
        throw new Error(
          `the span lies inside a gap in the log (no records between ${clockTime(b.fromUs)} ` +
            `and ${clockTime(b.toUs)} UTC)`,
        );
      }
    }
    await this.whenHashed;
    const changes = await this.recheckFiles();
    const inSpan = (marker: ReplayMarker): boolean =>
      marker.axisMs * 1000 >= fromAxisUs && marker.axisMs * 1000 <= toAxisUs;
    const markers = this.markerList.filter(inSpan);
    const vehiclePath = index.trail(fromAxisUs, toAxisUs, REPORT_PATH_POINTS);
    // The span's wall times hold everything in it: after a jump back the ends' times do not.
    const recordsUs = timeline.timeRangeUs(fromAxisUs, toAxisUs);
    let spanFromMs = recordsUs ? recordsUs.minUs / 1000 : this.timeAt(fromAxisUs).timeUs / 1000;
    let spanToMs = recordsUs ? recordsUs.maxUs / 1000 : this.timeAt(toAxisUs).timeUs / 1000;
    for (const timeMs of [...markers.map((m) => m.timeMs), ...vehiclePath.map((p) => p.timeMs)]) {
      if (timeMs < spanFromMs) spanFromMs = timeMs;
      if (timeMs > spanToMs) spanToMs = timeMs;
    }
    if (!(spanToMs > spanFromMs)) throw new Error(emptySpanText(timeline, fromAxisUs, toAxisUs));
    const endView = this.journal.viewAt(spanToMs);
    const events = this.reportEvents(fromAxisUs, toAxisUs, spanFromMs, spanToMs, {
      changes,
      markers,
      log: endView.log,
    });
    let hazingEvents = this.journal.hazingEvents(spanFromMs, spanToMs);
    if (hazingEvents.length === 0) {
      // Records made before the journal existed still have the hazing log beside them.
      hazingEvents = this.hazingLogEvents.filter(
        (event) => event.startedMs <= spanToMs && (event.endedMs ?? event.startedMs) >= spanFromMs,
      );
    }
    const input: ReportInput = {
      title: `Incident report: ${path.basename(this.tlogPath)}`,
      sourceFile: this.tlogPath,
      fromMs: spanFromMs,
      toMs: spanToMs,
      generatedMs: Date.now(),
      // Axis (file) order: the report breaks the path where the clock jumps back.
      vehiclePath,
      tracks: this.journal.tracks(spanFromMs, spanToMs),
      zones: endView.zones,
      events,
      keyFrames: this.keyFrames(markers),
      hazingEvents,
      files: this.files.map((file) => ({ ...file })),
      tiles: this.reportTiles,
    };
    return writeIncidentReport(
      input,
      path.join(outDir, reportFolderName(this.tlogPath, spanFromMs)),
    );
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.listeners.clear();
    this.closing.abort();
    this.index?.dispose();
    this.video?.dispose();
  }

  private async open(): Promise<void> {
    const sidecars = sidecarPaths(this.tlogPath);
    this.addFile('tlog', this.tlogPath);
    for (const [role, file] of [
      ['video', sidecars.video],
      ['frame-table', sidecars.frameTable],
      ['journal', sidecars.journal],
      ['hazing-log', sidecars.hazingLog],
    ] as const) {
      if (existsSync(file)) this.addFile(role, file);
    }
    this.loadJournal(sidecars.journal);
    this.loadHazingLog(sidecars.hazingLog);
    const hasVideo = existsSync(sidecars.video);
    const hasTable = existsSync(sidecars.frameTable);
    if (hasVideo !== hasTable) {
      const missing = hasVideo ? sidecars.frameTable : sidecars.video;
      this.warn(`the video cannot be shown: ${missing} is missing`);
    }
    this.hasVideo = hasVideo && hasTable;
    this.emit();
    // The log is read here, the video decoded by ffmpeg: both at once use both cores.
    const [index] = await Promise.all([
      TlogIndex.build(this.tlogPath, {
        onProgress: (doneBytes, totalBytes) => {
          this.progress.tlog = totalBytes > 0 ? doneBytes / totalBytes : 1;
          const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
          this.progress.what =
            `Indexing ${path.basename(this.tlogPath)} ` +
            `(${mb(doneBytes)} of ${mb(totalBytes)} MB)`;
          this.emit();
        },
      }),
      this.hasVideo ? this.openVideo(sidecars.video, sidecars.frameTable) : Promise.resolve(),
    ]);
    if (this.disposed) {
      index.dispose();
      return;
    }
    this.index = index;
    for (const warning of index.warnings) this.warn(warning);
    this.markerList = this.buildMarkers(index);
  }

  private async openVideo(videoPath: string, tablePath: string): Promise<void> {
    try {
      // The video makes its own folder in here, and removes it when disposed.
      const video = await RecordedVideo.open(videoPath, tablePath, {
        cacheDir: this.options.cacheDir ?? path.join(userCacheDir(), 'replay'),
        signal: this.closing.signal,
        onProgress: (doneFrames, totalFrames) => {
          this.progress.video = totalFrames > 0 ? doneFrames / totalFrames : 1;
          // The log indexes faster than ffmpeg decodes: then the video is what is left.
          if (this.progress.tlog >= 1) {
            this.progress.what = `Decoding the recorded video (${doneFrames} of ${totalFrames})`;
          }
          this.emit();
        },
      });
      if (this.disposed) {
        video.dispose();
        return;
      }
      this.video = video;
      for (const warning of video.warnings) this.warn(warning);
    } catch (error) {
      if (this.disposed) return;
      this.warn(`the video ${videoPath} cannot be shown: ${errorText(error)}`);
    }
    this.progress.video = 1;
  }

  private loadJournal(journalPath: string): void {
    try {
      this.journal = JournalTimeline.load(
        existsSync(journalPath) ? journalPath : null,
        JOURNAL_READ_LIMITS,
        this.tlogPath,
      );
      for (const warning of this.journal.warnings) this.warn(warning);
    } catch (error) {
      this.warn(`the journal ${journalPath} cannot be read: ${errorText(error)}`);
    }
  }

  private loadHazingLog(hazingPath: string): void {
    if (!existsSync(hazingPath)) return;
    if (!statSync(hazingPath).isFile()) {
      this.warn(`the hazing log ${hazingPath} cannot be read: it is not a regular file`);
      return;
    }
    try {
      const read = readHazingLogFile(hazingPath);
      this.hazingLogEvents = read.events;
      if (read.skippedLines > 0) {
        this.warn(`the hazing log ${hazingPath}: skipped ${read.skippedLines} broken line(s)`);
      }
    } catch (error) {
      this.warn(`the hazing log ${hazingPath} cannot be read: ${errorText(error)}`);
    }
  }

  /** The log's markers and the journal's, on one axis; detections close together merged. */
  private buildMarkers(index: TlogIndex): ReplayMarker[] {
    const timeline = index.timeline;
    const journalMarkers = this.journal.markers().map((marker) => ({
      ...marker,
      axisMs: timeline.timeToAxisUs(marker.timeMs * 1000) / 1000,
    }));
    const all = [...index.markers, ...journalMarkers].sort((a, b) => a.axisMs - b.axisMs);
    const merged: ReplayMarker[] = [];
    let lastDetection: ReplayMarker | null = null;
    for (const marker of all) {
      if (
        marker.kind === 'detection' &&
        lastDetection &&
        (marker.axisMs - lastDetection.axisMs) * 1000 < DETECTION_MERGE_US
      ) {
        if (!lastDetection.label.includes(marker.label)) {
          lastDetection.label = `${lastDetection.label}; ${marker.label}`;
        }
        continue;
      }
      const kept = { ...marker };
      if (kept.kind === 'detection') lastDetection = kept;
      merged.push(kept);
    }
    return merged;
  }

  /**
   * The report's events in record (axis) order, so that two sessions after a jump back do not
   * interleave: files changed first, then markers, log entries and the log's breaks at their
   * place (a break after what sits at its start). More breaks than REPORT_MAX_BREAKS: the
   * longest are listed and the rest counted.
   */
  private reportEvents(
    fromAxisUs: number,
    toAxisUs: number,
    spanFromMs: number,
    spanToMs: number,
    parts: { changes: string[]; markers: readonly ReplayMarker[]; log: readonly LogEntry[] },
  ): ReportInput['events'] {
    const timeline = this.requireIndex().timeline;
    type Placed = { axisUs: number; rank: number; event: ReportInput['events'][number] };
    const placed: Placed[] = [];
    for (const text of parts.changes) {
      placed.push({
        axisUs: -Infinity,
        rank: 0,
        event: { timeMs: spanFromMs, kind: 'log', label: text },
      });
    }
    for (const m of parts.markers) {
      placed.push({
        axisUs: m.axisMs * 1000,
        rank: 1,
        event: { timeMs: m.timeMs, kind: m.kind, label: m.label },
      });
    }
    for (const entry of parts.log) {
      if (entry.timeMs < spanFromMs || entry.timeMs > spanToMs) continue;
      placed.push({
        axisUs: timeline.timeToAxisUs(entry.timeMs * 1000),
        rank: 1,
        event: { timeMs: entry.timeMs, kind: 'log', label: personIdsAsTracks(entry.text) },
      });
    }
    const breaks = timeline.breaks.filter(
      (b) => b.axisEndUs > fromAxisUs && b.axisStartUs < toAxisUs,
    );
    let listed = breaks;
    if (breaks.length > REPORT_MAX_BREAKS) {
      listed = [...breaks]
        .sort((a, b) => Math.abs(b.toUs - b.fromUs) - Math.abs(a.toUs - a.fromUs))
        .slice(0, REPORT_MAX_BREAKS);
      placed.push({
        axisUs: -Infinity,
        rank: 0,
        event: {
          timeMs: spanFromMs,
          kind: 'log',
          label:
            `the log has ${breaks.length} breaks in this span: the longest ` +
            `${REPORT_MAX_BREAKS} are listed, ${breaks.length - REPORT_MAX_BREAKS} more are not`,
        },
      });
    }
    for (const b of listed) {
      // A break that starts before the span is listed at the span's start.
      const timeMs = Math.min(spanToMs, Math.max(spanFromMs, b.fromUs / 1000));
      placed.push({
        axisUs: b.axisStartUs,
        rank: 2,
        event: { timeMs, kind: b.kind, label: reportBreakText(b) },
      });
    }
    // Stable: equal places keep the order above.
    return placed.sort((a, b) => a.axisUs - b.axisUs || a.rank - b.rank).map((p) => p.event);
  }

  /**
   * Key frames of a span: at each track's first sighting the frame with its best-scoring bear
   * (or best detection), and the frame at each hazing start and end, ABORT and alert. At most
   * MAX_KEY_FRAMES, the rarer kinds first, then in time order.
   */
  private keyFrames(markers: readonly ReplayMarker[]): ReportInput['keyFrames'] {
    const video = this.video;
    if (!video || video.frames === 0) return [];
    const priority: Partial<Record<ReplayMarkerKind, number>> = {
      abort: 0,
      'hazing-start': 1,
      'hazing-end': 1,
      alert: 2,
      detection: 3,
    };
    const candidates = markers
      .filter((marker) => priority[marker.kind] !== undefined)
      .sort((a, b) => priority[a.kind]! - priority[b.kind]! || a.timeMs - b.timeMs);
    const chosen = new Map<number, ReportInput['keyFrames'][number]>();
    const take = (frame: number | null, label: string): void => {
      if (frame === null || chosen.has(frame)) return;
      const info = video.frameInfo(frame);
      chosen.set(frame, {
        timeMs: info.frameTimeMs,
        frameId: info.frameId,
        jpeg: video.jpeg(frame),
        widthPx: video.widthPx,
        heightPx: video.heightPx,
        detections: this.detectionsOfFrame(frame)?.detections ?? [],
        caption: `${new Date(info.frameTimeMs).toISOString()}: ${label}`,
      });
    };
    const frameTimeMs = (timeMs: number): number | null => {
      const frame = video.frameAt(timeMs);
      return frame === null ? null : video.frameInfo(frame).frameTimeMs;
    };
    const abortFramesMs = markers
      .filter((m) => m.kind === 'abort')
      .map((m) => frameTimeMs(m.timeMs) ?? m.timeMs);
    for (const marker of candidates) {
      if (chosen.size >= MAX_KEY_FRAMES) break;
      // The ABORT's frame shows the end it caused; a later end (the drone held, then landed)
      // gets a frame of its own.
      const endOfAbort =
        marker.kind === 'hazing-end' &&
        abortFramesMs.some(
          (abortMs) =>
            Math.abs((frameTimeMs(marker.timeMs) ?? marker.timeMs) - abortMs) <=
            ABORT_END_SAME_FRAME_MS,
        );
      if (endOfAbort) continue;
      // A merged detection marker names every track first seen in it: one frame each.
      const parts = marker.kind === 'detection' ? marker.label.split('; ') : [];
      let sightings = 0;
      for (const part of parts) {
        const sighting = FIRST_SIGHTING.exec(part);
        if (!sighting || chosen.size >= MAX_KEY_FRAMES) continue;
        sightings++;
        const trackId = Number(sighting[2]);
        take(this.bestSightingFrame(marker.timeMs, trackId, sighting[1]), part);
      }
      if (sightings === 0) take(video.frameAt(marker.timeMs), marker.label);
    }
    return [...chosen.values()].sort((a, b) => a.timeMs - b.timeMs);
  }

  /**
   * The frame near a track's first sighting that shows that track: its best score within the
   * window; else the frame nearest the sighting with a detection of the same class; else the
   * frame at the sighting.
   */
  private bestSightingFrame(timeMs: number, trackId: number, className: string): number | null {
    const video = this.requireVideo();
    const last = video.frameAt(timeMs + SIGHTING_WINDOW_AFTER_MS);
    if (last === null) return null;
    let best: { frame: number; score: number } | null = null;
    let sameClass: { frame: number; offMs: number } | null = null;
    for (let frame = last; frame >= 0; frame--) {
      const frameTimeMs = video.frameInfo(frame).frameTimeMs;
      if (frameTimeMs < timeMs - SIGHTING_WINDOW_BEFORE_MS) break;
      for (const detection of this.detectionsOfFrame(frame)?.detections ?? []) {
        if (detection.trackId === trackId && detection.className === className) {
          if (!best || detection.score > best.score) best = { frame, score: detection.score };
        } else if (detection.className === className) {
          const offMs = Math.abs(frameTimeMs - timeMs);
          if (!sameClass || offMs < sameClass.offMs) sameClass = { frame, offMs };
        }
      }
    }
    return best?.frame ?? sameClass?.frame ?? video.frameAt(timeMs);
  }

  private detectionsOfFrame(frame: number): FrameDetections | null {
    if (!this.video) return null;
    return this.journal.detectionsFor(this.video.frameInfo(frame).frameId);
  }

  private frameIndexAtTime(timeMs: number): number | null {
    return this.video ? this.video.frameAt(timeMs) : null;
  }

  private timeAt(axisUs: number): { timeUs: number; inBreakUs: TimelineBreakUs | null } {
    const { timeUs, inBreak } = this.requireIndex().timeline.axisToTimeUs(axisUs);
    // Inside a gap time goes on linearly; in a jump back the clock shows when it started.
    const jumpBack = inBreak?.kind === 'jump-back';
    return { timeUs: jumpBack ? inBreak.fromUs : timeUs, inBreakUs: inBreak };
  }

  /** Each frame's axis position, by frame index, worked out once. */
  private frameAxes(): number[] {
    if (this.frameAxesCache) return this.frameAxesCache;
    const video = this.video;
    const timeline = this.requireIndex().timeline;
    const axes: number[] = [];
    for (let frame = 0; video && frame < video.frames; frame++) {
      axes.push(timeline.timeToAxisUs(video.frameInfo(frame).frameTimeMs * 1000));
    }
    this.frameAxesCache = axes;
    return axes;
  }

  /** The breaks and markers the status sends, cut down to a size a client can take. */
  private boundStatusLists(): void {
    const timeline = this.requireIndex().timeline;
    let breaks = timeline.breaks;
    if (breaks.length > STATUS_MAX_BREAKS) {
      const longest = [...breaks]
        .sort((a, b) => Math.abs(b.toUs - b.fromUs) - Math.abs(a.toUs - a.fromUs))
        .slice(0, STATUS_MAX_BREAKS)
        .sort((a, b) => a.axisStartUs - b.axisStartUs);
      this.warn(
        `the log has ${breaks.length} breaks: the timeline shows the longest ` +
          `${STATUS_MAX_BREAKS}, ${breaks.length - STATUS_MAX_BREAKS} more are not drawn`,
      );
      breaks = longest;
    }
    this.statusBreaks = breaks.map(breakToMs);
    const markers = this.markerList;
    if (markers.length <= STATUS_MAX_MARKERS) {
      this.statusMarkers = markers;
      return;
    }
    const rare = markers.filter((m) => !PLENTIFUL_MARKERS.has(m.kind));
    const plentiful = markers.filter((m) => PLENTIFUL_MARKERS.has(m.kind));
    const byTime = (a: ReplayMarker, b: ReplayMarker): number => a.timeMs - b.timeMs;
    const kept = [...rare.sort(byTime), ...plentiful.sort(byTime)].slice(0, STATUS_MAX_MARKERS);
    this.statusMarkers = kept.sort((a, b) => a.axisMs - b.axisMs);
    this.warn(
      `the log has ${markers.length} events: the timeline shows ${STATUS_MAX_MARKERS}, ` +
        `${markers.length - STATUS_MAX_MARKERS} left out`,
    );
  }

  /**
   * At export: a file whose size, modification time or inode is not what it was when opened
   * gets its checksum and size taken again; returns a line for each, which the status warnings
   * get too.
   */
  private async recheckFiles(): Promise<string[]> {
    const changes: string[] = [];
    for (const file of this.files) {
      const stamp = fileStamp(file.path);
      const before = this.fileStamps.get(file);
      const sameFile =
        before !== undefined && stamp.mtimeMs === before.mtimeMs && stamp.ino === before.ino;
      if (stamp.bytes === file.bytes && sameFile) continue;
      const text =
        stamp.bytes === file.bytes
          ? `${file.path} changed since the replay opened it: rewritten at the same size ` +
            `(${file.bytes} bytes)`
          : `${file.path} changed since the replay opened it: ${file.bytes} bytes then, ` +
            `${stamp.bytes} now`;
      file.bytes = stamp.bytes;
      this.fileStamps.set(file, stamp);
      try {
        file.sha256 = await sha256File(file.path, this.closing.signal);
      } catch (error) {
        file.sha256 = null;
        this.warn(`cannot checksum ${file.path}: ${errorText(error)}`);
      }
      changes.push(text);
      this.warn(text);
    }
    return changes;
  }

  private addFile(role: ReplayFile['role'], file: string): void {
    const stamp = fileStamp(file);
    const entry: ReplayFile = { role, path: file, bytes: stamp.bytes, sha256: null };
    this.files.push(entry);
    this.fileStamps.set(entry, stamp);
  }

  private async hashFiles(): Promise<void> {
    for (const file of this.files) {
      if (this.disposed) return;
      try {
        file.sha256 = await sha256File(file.path, this.closing.signal);
        this.emit();
      } catch (error) {
        if (this.disposed) return;
        this.warn(`cannot checksum ${file.path}: ${errorText(error)}`);
      }
    }
  }

  /**
   * Before a move of the playhead: a log now shorter than indexed is an error in the status,
   * not a stale picture. Throws that error.
   */
  checkUnchanged(): void {
    const index = this.requireIndex();
    const changed = index.changedSinceIndexed();
    if (changed === null) return;
    this.error = changed;
    this.isReady = false;
    log.error(changed);
    this.emit();
    throw new Error(changed);
  }

  private requireIndex(): TlogIndex {
    if (this.error !== null) throw new Error(this.error);
    if (!this.index || !this.isReady) throw new Error('the flight record is not indexed yet');
    return this.index;
  }

  private requireVideo(): RecordedVideo {
    if (!this.video) throw new Error(`${this.tlogPath} has no recorded video`);
    return this.video;
  }

  private warn(text: string): void {
    this.warnings.push(text);
    log.warn(text);
    this.emit();
  }

  private emit(): void {
    if (this.disposed) return;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (error) {
        log.error(`replay session listener: ${errorText(error)}`);
      }
    }
  }
}

/**
 * The folder a report goes in: served as one path segment (/reports/<folder>/...) of plain
 * characters and at most REPORT_FOLDER_MAX_CHARS long, so the record's name is cut to fit.
 */
export function reportFolderName(tlogPath: string, spanFromMs: number): string {
  const stamp = new Date(spanFromMs).toISOString().replace(/[^A-Za-z0-9]/g, '-');
  const suffix = `-report-${stamp}`;
  const roomChars = REPORT_FOLDER_MAX_CHARS - REPORT_FOLDER_TRY_CHARS - suffix.length;
  const base =
    path
      .basename(tlogPath, '.tlog')
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^[^A-Za-z0-9]+/, '')
      .slice(0, roomChars) || 'flight';
  return `${base}${suffix}`;
}

/** Why a span yields no report: it holds no stretch of recorded time. */
function emptySpanText(timeline: TimelineAxis, fromAxisUs: number, toAxisUs: number): string {
  for (const b of timeline.breaks) {
    if (b.kind === 'jump-back' && fromAxisUs >= b.axisStartUs && toAxisUs <= b.axisEndUs) {
      return (
        `the span lies inside a jump back in the log (the clock goes back from ` +
        `${clockTime(b.fromUs)} to ${clockTime(b.toUs)} UTC; no records there)`
      );
    }
  }
  const fromS = (fromAxisUs / 1e6).toFixed(3);
  const toS = (toAxisUs / 1e6).toFixed(3);
  return (
    `the span ${fromS} s to ${toS} s holds no records of the log, or only one moment: ` +
    'choose a longer span'
  );
}

interface FileStamp {
  bytes: number;
  mtimeMs: number;
  ino: number;
}

/** What tells a file changed without reading it; a missing file reads as empty. */
function fileStamp(filePath: string): FileStamp {
  const stat = statSync(filePath, { throwIfNoEntry: false });
  return { bytes: stat?.size ?? 0, mtimeMs: stat?.mtimeMs ?? 0, ino: stat?.ino ?? 0 };
}

/**
 * The SHA-256 of a file, read in chunks: a flight record may be far larger than memory. Only a
 * regular file is read (opened without blocking): a FIFO or a device under a sidecar's name
 * would otherwise hang the replay or read forever.
 */
export async function sha256File(filePath: string, signal?: AbortSignal): Promise<string> {
  const handle = await fsp.open(filePath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw new Error(`${filePath} is not a regular file`);
    const hash = createHash('sha256');
    const buffer = Buffer.alloc(HASH_CHUNK_BYTES);
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return hash.digest('hex');
      hash.update(buffer.subarray(0, bytesRead));
    }
  } finally {
    await handle.close();
  }
}

function breakToMs(b: TimelineBreakUs): ReplayBreak {
  return {
    kind: b.kind,
    axisStartMs: b.axisStartUs / 1000,
    axisEndMs: b.axisEndUs / 1000,
    fromMs: b.fromUs / 1000,
    toMs: b.toUs / 1000,
  };
}

/**
 * A break as the report's events say it: "gap 56 min: nothing recorded 18:18:14-19:14:20 UTC",
 * "log jumps back 8 min: another session starts (clock back to 18:17:18 UTC)".
 */
export function reportBreakText(b: TimelineBreakUs): string {
  if (b.kind === 'gap') {
    return (
      `gap ${spanText(b.toUs - b.fromUs)}: nothing recorded ` +
      `${clockTime(b.fromUs)}-${clockTime(b.toUs)} UTC`
    );
  }
  return (
    `log jumps back ${spanText(b.fromUs - b.toUs)}: another session starts ` +
    `(clock back to ${clockTime(b.toUs)} UTC)`
  );
}

/** "40 s", "56 min", "2 h 5 min", "3 days", as the replay bar says a break's length. */
function spanText(spanUs: number): string {
  const totalS = Math.round(Math.abs(spanUs) / 1e6);
  if (totalS < 60) return `${totalS} s`;
  const totalMin = Math.round(totalS / 60);
  if (totalMin < 60) return `${totalMin} min`;
  const hours = Math.floor(totalMin / 60);
  if (hours < 48) return totalMin % 60 === 0 ? `${hours} h` : `${hours} h ${totalMin % 60} min`;
  return `${Math.round(hours / 24)} days`;
}

/** "Bear #3 first seen", as the journal names a first sighting. */
const FIRST_SIGHTING = /^(.+) #(\d+) first seen$/;

/** HH:MM:SS of a record time, UTC. */
function clockTime(timeUs: number): string {
  return new Date(timeUs / 1000).toISOString().slice(11, 19);
}

function isoTime(timeUs: number): string {
  return new Date(timeUs / 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, ' UTC');
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
