// The replay station: serves a flight record through the same StationApi as a live station,
// so the same UI and server show it. A playback clock moves the playhead; every picture comes
// from the ReplaySession at the playhead. Nothing here opens a link to any vehicle.

import { mkdirSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { toDisposable, type Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type {
  OperatorCommand,
  Role,
  ServerMessage,
  StationDefaults,
  TileSource,
} from '../../core/protocol';
import { REPLAY_SPEED_RANGE, type ReplayControl, type ReplayStatus } from '../../core/replay';
import type { CommandOutcome, LatLon } from '../../core/types';
import type { StationApi } from '../server';
import type { ReplaySession } from './replay-session';

const log = createLogger('replay');

/** A stretch of axis the playhead does not play through (a gap or a jump back). */
export interface ClockBreak {
  axisStartUs: number;
  axisEndUs: number;
}

export interface PlaybackClockOptions {
  axisEndUs: number;
  breaks: readonly ClockBreak[];
  /** Wall-clock milliseconds; injectable so tests can drive time. */
  nowMs?: () => number;
  /** How long playing into a break shows it before jumping to its end. */
  breakHoldMs?: number;
}

/** Long enough to see that the log breaks, short enough not to bore at any speed. */
export const BREAK_HOLD_MS = 1000;

/**
 * The playhead: advances by elapsed wall time x speed while playing, holds at a break for a
 * moment then jumps to its end, and pauses at the end. It moves only when asked (advance), so
 * every control first settles where the playhead got to at the old speed.
 */
export class PlaybackClock {
  private position = 0;
  private isPlaying = false;
  private playbackSpeed = 1;
  private lastMs: number;
  /** While playing into a break: which one, and when the hold ends. */
  private hold: { breakEndUs: number; untilMs: number } | null = null;
  private readonly nowMs: () => number;
  private readonly breakHoldMs: number;
  private axisEnd: number;
  private breaks: readonly ClockBreak[];

  constructor(options: PlaybackClockOptions) {
    this.nowMs = options.nowMs ?? Date.now;
    this.breakHoldMs = options.breakHoldMs ?? BREAK_HOLD_MS;
    this.axisEnd = Math.max(0, options.axisEndUs);
    this.breaks = sortedBreaks(options.breaks);
    this.lastMs = this.nowMs();
  }

  get positionUs(): number {
    return this.position;
  }

  get playing(): boolean {
    return this.isPlaying;
  }

  get speed(): number {
    return this.playbackSpeed;
  }

  get axisEndUs(): number {
    return this.axisEnd;
  }

  /** The timeline grew or was first known (indexing finished). */
  setTimeline(axisEndUs: number, breaks: readonly ClockBreak[]): void {
    this.axisEnd = Math.max(0, axisEndUs);
    this.breaks = sortedBreaks(breaks);
    this.seek(this.position);
  }

  /** Moves the playhead by the time since the last call; returns true when it reached the end. */
  advance(): boolean {
    const now = this.nowMs();
    let elapsedMs = Math.max(0, now - this.lastMs);
    this.lastMs = now;
    if (!this.isPlaying) return false;
    if (this.hold) {
      if (now < this.hold.untilMs) return false;
      // The rest of the hold's time plays on from the break's end.
      elapsedMs = now - this.hold.untilMs;
      this.position = Math.min(this.hold.breakEndUs, this.axisEnd);
      this.hold = null;
    }
    const from = this.position;
    const to = from + elapsedMs * 1000 * this.playbackSpeed;
    const entered = this.breaks.find((b) => b.axisEndUs > from && b.axisStartUs <= to);
    if (entered) {
      this.position = Math.max(from, entered.axisStartUs);
      this.hold = { breakEndUs: entered.axisEndUs, untilMs: now + this.breakHoldMs };
      return false;
    }
    if (to >= this.axisEnd) {
      this.position = this.axisEnd;
      this.isPlaying = false;
      return true;
    }
    this.position = to;
    return false;
  }

  /** Plays from where it is; from the end it starts again at the beginning. */
  play(): void {
    this.advance();
    if (this.isPlaying) return;
    if (this.position >= this.axisEnd) this.position = 0;
    this.isPlaying = true;
    this.lastMs = this.nowMs();
  }

  pause(): void {
    this.advance();
    this.isPlaying = false;
    this.hold = null;
  }

  setSpeed(speed: number): void {
    const { min, max } = REPLAY_SPEED_RANGE;
    if (!Number.isFinite(speed) || speed < min || speed > max) {
      throw new Error(`replay speed ${speed} is outside ${min}..${max}`);
    }
    this.advance();
    this.playbackSpeed = speed;
  }

  /** Moves the playhead, clamped to the axis; returns where it went. */
  seek(axisUs: number): number {
    if (!Number.isFinite(axisUs)) throw new Error(`seek position ${axisUs} is not a number`);
    this.advance();
    this.position = Math.min(Math.max(0, axisUs), this.axisEnd);
    this.hold = null;
    return this.position;
  }
}

function signedCount(count: number): string {
  return count > 0 ? `+${count}` : String(count);
}

function sortedBreaks(breaks: readonly ClockBreak[]): ClockBreak[] {
  return [...breaks].sort((a, b) => a.axisStartUs - b.axisStartUs);
}

export interface ReplayStationOptions {
  /** Owned by the caller, who disposes it after the station. */
  session: ReplaySession;
  tiles: TileSource;
  defaults: StationDefaults;
  /** Where the map starts until the log gives a position. */
  mapCenter: LatLon;
  /** Exported reports go into folders under this one. */
  reportDir: string;
  /** Wall-clock milliseconds, for the playback clock. */
  nowMs?: () => number;
}

/** replay-view goes out at most this often while playing (10 a second). */
const VIEW_INTERVAL_MS = 100;
/** Indexing progress goes out at most this often (4 a second). */
const PROGRESS_INTERVAL_MS = 250;
const REPLAY_ONLY = 'Replay never commands a vehicle.';
/** What a report's folder and file names may be: no separators, no leading dot. */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;
const REPORT_CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.geojson': 'application/geo+json',
  '.json': 'application/json; charset=utf-8',
  '.kml': 'application/vnd.google-earth.kml+xml',
  '.csv': 'text/csv; charset=utf-8; header=present',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
  '.txt': 'text/plain; charset=utf-8',
  '.sha256': 'text/plain; charset=utf-8',
  /** SHA256SUMS */
  '': 'text/plain; charset=utf-8',
};

type Listener = (message: ServerMessage) => void;

export class ReplayStation implements StationApi, Disposable {
  private readonly listeners = new Set<Listener>();
  private readonly clock: PlaybackClock;
  private readonly session: ReplaySession;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private progressTimer: ReturnType<typeof setTimeout> | null = null;
  private lastProgressMs = 0;
  private frameIndex: number | null = null;
  private readonly subscription: Disposable;
  private timelineKnown = false;
  private disposed = false;

  constructor(private readonly options: ReplayStationOptions) {
    this.session = options.session;
    this.clock = new PlaybackClock({ axisEndUs: 0, breaks: [], nowMs: options.nowMs });
    this.subscription = this.session.onChange(() => this.sessionChanged());
    this.sessionChanged();
  }

  get positionUs(): number {
    return this.clock.positionUs;
  }

  hello(role: Role): Extract<ServerMessage, { type: 'hello' }> {
    return {
      type: 'hello',
      role,
      tiles: this.options.tiles,
      defaults: this.options.defaults,
      mapCenter: this.session.firstPosition() ?? this.options.mapCenter,
      replay: true,
    };
  }

  snapshot(): ServerMessage[] {
    // The ticker moves the playhead while playing; a client joining sees the latest tick.
    const messages: ServerMessage[] = [this.statusMessage()];
    const video = this.session.videoStatus();
    if (video) messages.push({ type: 'video-status', video });
    if (this.session.ready) {
      messages.push({ type: 'replay-view', view: this.session.viewAt(this.clock.positionUs) });
      const index = this.session.frameIndexAt(this.clock.positionUs);
      if (index !== null) messages.push(this.session.frameMessage(index));
    }
    return messages;
  }

  onMessage(listener: Listener): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  async execute(command: OperatorCommand): Promise<CommandOutcome> {
    if (command.kind !== 'replay') {
      log.warn(`refused ${command.kind}: this station replays a flight record`);
      return { ok: false, result: 'DENIED', text: REPLAY_ONLY };
    }
    if (!this.session.ready) {
      const status = this.session.status();
      const why =
        status.error ??
        `the flight record is still being indexed (${status.indexing.progressPct.toFixed(0)}%)`;
      return { ok: false, result: 'NOT_SENT', text: `Replay ${command.control.action}: ${why}.` };
    }
    try {
      const text = await this.control(command.control);
      return { ok: true, result: 'ACCEPTED', text };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, result: 'DENIED', text: `Replay ${command.control.action}: ${reason}` };
    }
  }

  /** A file of an exported report, for GET /reports/<folder>/<file>; null when none. */
  async reportFile(
    folder: string,
    file: string,
  ): Promise<{ data: Buffer; contentType: string } | null> {
    if (!SAFE_NAME.test(folder) || !SAFE_NAME.test(file)) return null;
    const contentType = REPORT_CONTENT_TYPES[path.extname(file).toLowerCase()];
    if (!contentType) return null;
    const root = await fs.realpath(this.options.reportDir).catch(() => null);
    if (!root) return null;
    const real = await fs.realpath(path.join(root, folder, file)).catch(() => null);
    // A link inside the reports folder must not lead out of it.
    if (!real || !real.startsWith(root + path.sep)) return null;
    const stat = await fs.stat(real).catch(() => null);
    if (!stat?.isFile()) return null;
    return { data: await fs.readFile(real), contentType };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopTicker();
    if (this.progressTimer) clearTimeout(this.progressTimer);
    this.progressTimer = null;
    void this.subscription.dispose();
    this.listeners.clear();
  }

  private async control(control: ReplayControl): Promise<string> {
    // A log cut shorter since indexing is an error in the status, not a stale picture.
    if (control.action !== 'pause' && control.action !== 'speed') this.session.checkUnchanged();
    switch (control.action) {
      case 'play':
        this.clock.play();
        this.startTicker();
        this.changed(true);
        return `Playing at ${this.clock.speed}x`;
      case 'pause':
        this.clock.pause();
        this.stopTicker();
        this.changed(true);
        return `Paused at ${this.describePosition()}`;
      case 'speed':
        this.clock.setSpeed(control.speed);
        this.changed(true);
        return `Speed ${control.speed}x`;
      case 'seek':
        this.clock.seek(control.axisMs * 1000);
        this.changed(false);
        return `At ${this.describePosition()}`;
      case 'seek-time':
        this.clock.seek(this.session.axisForTime(control.timeMs));
        this.changed(false);
        return `At ${this.describePosition()}`;
      case 'step': {
        const fromUs = this.clock.positionUs;
        const landedUs = this.session.stepAxisUs(fromUs, control.frames);
        if (landedUs === fromUs) {
          const end = control.frames > 0 ? 'end' : 'start';
          return `Already at the ${end}: ${this.describePosition()}`;
        }
        this.clock.seek(landedUs);
        this.changed(false);
        return `Stepped ${signedCount(control.frames)}: ${this.describePosition()}`;
      }
      case 'export-report':
        return this.exportReport(control.fromAxisMs * 1000, control.toAxisMs * 1000);
    }
  }

  private async exportReport(fromAxisUs: number, toAxisUs: number): Promise<string> {
    const endUs = this.clock.axisEndUs;
    const from = Math.min(Math.max(0, fromAxisUs), endUs);
    const to = Math.min(Math.max(0, toAxisUs), endUs);
    if (to <= from) throw new Error(`the span lies outside the timeline (0..${endUs / 1000} ms)`);
    mkdirSync(this.options.reportDir, { recursive: true });
    const written = await this.session.report(from, to, this.options.reportDir);
    const folder = path.basename(written.dir);
    const urlPath = `/reports/${encodeURIComponent(folder)}/report.html`;
    log.info(`report written to ${written.dir}`);
    return `Report written to ${written.dir} (${written.files.length} files); open ${urlPath}`;
  }

  private describePosition(): string {
    const view = this.session.viewAt(this.clock.positionUs);
    const axisS = (view.positionAxisMs / 1000).toFixed(1);
    return `${axisS} s (${new Date(view.timeMs).toISOString()})`;
  }

  private sessionChanged(): void {
    if (this.disposed) return;
    if (this.timelineKnown && !this.session.ready && this.clock.playing) {
      // The record can no longer be replayed (see the status's error): stop where it is.
      this.clock.pause();
      this.stopTicker();
    }
    if (this.session.ready && !this.timelineKnown) {
      this.timelineKnown = true;
      this.clock.setTimeline(this.session.axisEndUs, this.session.breaksUs());
      this.changed(true);
      return;
    }
    // Indexing progress comes as fast as the indexer reads: pass on at most 4 a second.
    const now = Date.now();
    const waitMs = this.lastProgressMs + PROGRESS_INTERVAL_MS - now;
    if (waitMs <= 0) {
      this.lastProgressMs = now;
      this.broadcast(this.statusMessage());
    } else {
      this.progressTimer ??= setTimeout(() => {
        this.progressTimer = null;
        this.lastProgressMs = Date.now();
        if (!this.disposed) this.broadcast(this.statusMessage());
      }, waitMs);
    }
  }

  /** After a control: the view at once, the frame if it moved, the status when asked. */
  private changed(statusToo: boolean): void {
    // A control may have settled the playhead at the end: playing stopped there.
    const stopped = this.ticker !== null && !this.clock.playing;
    if (stopped) this.stopTicker();
    if (statusToo || stopped) this.broadcast(this.statusMessage());
    if (!this.session.ready) return;
    this.broadcast({ type: 'replay-view', view: this.session.viewAt(this.clock.positionUs) });
    this.sendFrameIfMoved();
  }

  private sendFrameIfMoved(): void {
    const index = this.session.frameIndexAt(this.clock.positionUs);
    if (index === this.frameIndex) return;
    this.frameIndex = index;
    if (index !== null) this.broadcast(this.session.frameMessage(index));
  }

  private tick(): void {
    this.clock.advance();
    this.broadcast({ type: 'replay-view', view: this.session.viewAt(this.clock.positionUs) });
    this.sendFrameIfMoved();
    if (!this.clock.playing) {
      this.stopTicker();
      this.broadcast(this.statusMessage());
    }
  }

  private startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => {
      try {
        this.tick();
      } catch (error) {
        log.error(`replay tick: ${error instanceof Error ? error.message : String(error)}`);
      }
    }, VIEW_INTERVAL_MS);
  }

  private stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
  }

  private statusMessage(): ServerMessage {
    const status: ReplayStatus = {
      ...this.session.status(),
      positionAxisMs: this.clock.positionUs / 1000,
      playing: this.clock.playing,
      speed: this.clock.speed,
    };
    return { type: 'replay-status', status };
  }

  private broadcast(message: ServerMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        log.error(`replay listener: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}
