// A scripted replay station for the replay screen's end-to-end tests: a timeline of two runs of
// records with a 56-minute gap between them, markers of every kind, and a vehicle whose
// position and altitude follow the playhead, so that every seek shows on the instruments. It
// keeps every replay control the server lets through and answers as a replay station would.

import { toDisposable, type Disposable } from '../../app/core/disposable';
import { DEFAULT_ENVELOPE } from '../../app/core/envelope';
import { offsetNorthEast } from '../../app/core/geodesy';
import type { OperatorCommand, Role, ServerMessage } from '../../app/core/protocol';
import type {
  ReplayBreak,
  ReplayControl,
  ReplayMarker,
  ReplayStatus,
  ReplayView,
} from '../../app/core/replay';
import type {
  CommandOutcome,
  GeoDetection,
  LatLon,
  MapTarget,
  VehicleState,
} from '../../app/core/types';
import type { StationApi } from '../../app/station/server';
import { axisToTimeMs } from '../../app/ui/components/ReplayBar';
import { flyingVehicle, scriptedHello } from './vehicle-state';

const RUN_MS = 300_000;
const GAP_AXIS_MS = 60_000;
const GAP_MS = 56 * 60_000;
/** Five video frames a second: a step moves the playhead this far. */
export const FRAME_MS = 200;
const PLAY_TICK_MS = 100;

export class ReplayScriptedStation implements StationApi, Disposable {
  readonly controls: ReplayControl[] = [];
  /** Commands other than replay controls: a replay screen should send none. */
  readonly otherCommands: OperatorCommand[] = [];
  readonly startMs: number;
  readonly breaks: ReplayBreak[];
  readonly markers: ReplayMarker[];
  readonly axisEndMs = 2 * RUN_MS + GAP_AXIS_MS;
  positionAxisMs = 0;
  playing = false;
  /** Indexing under way, as the status says it; null once done. */
  indexing: ReplayStatus['indexing'] | null = null;
  error: string | null = null;
  /** A JPEG shown as every recorded frame, with a bear box on it; null: no frames are sent. */
  frameJpeg: { data: Buffer; widthPx: number; heightPx: number } | null = null;
  speed = 1;
  private readonly listeners = new Set<(message: ServerMessage) => void>();
  private playTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly home: LatLon & { altitudeMslM: number },
    startMs = Date.UTC(2021, 11, 8, 15, 17, 17),
  ) {
    this.startMs = startMs;
    this.breaks = [
      {
        kind: 'gap',
        axisStartMs: RUN_MS,
        axisEndMs: RUN_MS + GAP_AXIS_MS,
        fromMs: startMs + RUN_MS,
        toMs: startMs + RUN_MS + GAP_MS,
      },
    ];
    const marker = (kind: ReplayMarker['kind'], axisMs: number, label: string): ReplayMarker => ({
      kind,
      axisMs,
      timeMs: this.timeAt(axisMs).timeMs,
      label,
    });
    this.markers = [
      marker('mode', 20_000, 'Mode STABILIZE -> AUTO'),
      marker('detection', 95_000, 'bear #3 first seen'),
      marker('alert', 130_000, 'bear #3 within 50 m of Farm yard'),
      marker('hazing-start', 160_000, 'Push bear #3 by Jane Doe'),
      marker('link-lost', 250_000, 'No heartbeat for 5 s'),
      marker('link-back', 380_000, 'Heartbeat again'),
      marker('command', 420_000, 'Operator: return-home'),
      marker('abort', 470_000, 'ABORT'),
      marker('hazing-end', 480_000, 'Push ended: aborted'),
      marker('mode', 500_000, 'Mode AUTO -> RTL'),
    ];
  }

  timeAt(axisMs: number): { timeMs: number; inBreak: ReplayBreak | null } {
    return axisToTimeMs(axisMs, this.startMs, this.breaks);
  }

  hello(role: Role): Extract<ServerMessage, { type: 'hello' }> {
    return {
      ...scriptedHello(role, this.home, { envelope: DEFAULT_ENVELOPE, speakerAvailable: true }),
      replay: true,
    };
  }

  status(): ReplayStatus {
    return {
      file: '/records/olivieri_20211208-151717.tlog',
      files: [
        { role: 'tlog', path: '/records/olivieri_20211208-151717.tlog', bytes: 1, sha256: null },
      ],
      indexing: this.indexing ?? {
        done: true,
        progressPct: 100,
        what: 'olivieri_20211208-151717.tlog',
      },
      error: this.error,
      warnings: ['skipped 312 bytes that were not MAVLink'],
      axisEndMs: this.axisEndMs,
      startMs: this.startMs,
      endMs: this.startMs + 2 * RUN_MS + GAP_MS,
      breaks: this.breaks,
      markers: this.markers,
      positionAxisMs: this.positionAxisMs,
      playing: this.playing,
      speed: this.speed,
      videoFrames: (2 * RUN_MS) / FRAME_MS,
    };
  }

  /** The drone flies north 1 m and climbs 0.01 m for every second of axis. */
  vehicleAt(axisMs: number): VehicleState {
    const { timeMs } = this.timeAt(axisMs);
    const position = offsetNorthEast(this.home, axisMs / 1000, 0);
    const altitudeRelM = 10 + axisMs / 100_000;
    return flyingVehicle(
      { ...position, altitudeRelM, altitudeMslM: this.home.altitudeMslM + altitudeRelM },
      this.home,
      { lastHeartbeatMs: timeMs, modeName: axisMs < 500_000 ? 'AUTO' : 'RTL' },
    );
  }

  view(): ReplayView {
    const axisMs = this.positionAxisMs;
    const { timeMs, inBreak } = this.timeAt(axisMs);
    const vehicle = this.vehicleAt(axisMs);
    const trail = [0, 0.25, 0.5, 0.75, 1].map((share) => {
      const at = this.vehicleAt(axisMs * share);
      return { ...at.position!, timeMs: this.timeAt(axisMs * share).timeMs };
    });
    const bearSeenAxisMs = 120_000;
    const tracksLastKnown =
      axisMs >= bearSeenAxisMs
        ? [
            {
              trackId: 3,
              className: 'bear',
              position: offsetNorthEast(this.home, 60, 40),
              timeMs: this.timeAt(bearSeenAxisMs).timeMs,
            },
          ]
        : [];
    return {
      positionAxisMs: axisMs,
      timeMs,
      inBreak,
      vehicle,
      vehicleLastKnown: { position: vehicle.position!, timeMs },
      trail,
      tracksLastKnown,
      targets: this.targetsAt(axisMs, timeMs),
      detections: this.frameJpeg ? this.detectionsAt(axisMs, timeMs) : null,
      action: null,
      zones: [],
      alerts: [],
      people: [],
      hazingOperator: null,
      hazingEvents: [],
      log: [{ timeMs, level: 'info', text: `Replay at axis ${axisMs} ms` }],
      frameIndex: Math.floor(axisMs / FRAME_MS),
    };
  }

  snapshot(): ServerMessage[] {
    return [
      { type: 'replay-status', status: this.status() },
      ...this.frameMessages(),
      { type: 'replay-view', view: this.view() },
    ];
  }

  /** The recorded frame at the playhead, as a replay station sends it. */
  private frameMessages(): ServerMessage[] {
    if (!this.frameJpeg) return [];
    const axisMs = this.positionAxisMs;
    return [
      {
        type: 'frame',
        frameId: Math.floor(axisMs / FRAME_MS),
        frameTimeMs: this.timeAt(axisMs).timeMs,
        width: this.frameJpeg.widthPx,
        height: this.frameJpeg.heightPx,
        jpeg: this.frameJpeg.data.toString('base64'),
      },
    ];
  }

  /** The bear is in sight from 90 s to 120 s of axis, last seen 2 s before the playhead. */
  private targetsAt(axisMs: number, timeMs: number): MapTarget[] {
    if (axisMs < 90_000 || axisMs > 120_000) return [];
    return [
      {
        id: 3,
        className: 'bear',
        position: offsetNorthEast(this.home, 60, 40),
        score: 0.94,
        firstSeenMs: this.timeAt(90_000).timeMs,
        lastSeenMs: timeMs - 2_000,
        hits: 12,
        speedMps: 0,
        courseDeg: null,
      },
    ];
  }

  /** A bear box on every frame, its track id that of the bear in tracksLastKnown. */
  private detectionsAt(axisMs: number, timeMs: number): ReplayView['detections'] {
    const { widthPx, heightPx } = this.frameJpeg!;
    const frameId = Math.floor(axisMs / FRAME_MS);
    const bear: GeoDetection = {
      frameId,
      frameTimeMs: timeMs,
      classId: 21,
      className: 'bear',
      score: 0.94,
      box: [widthPx * 0.2, heightPx * 0.25, widthPx * 0.5, heightPx * 0.5],
      imageWidth: widthPx,
      imageHeight: heightPx,
      ground: offsetNorthEast(this.home, 60, 40),
      groundError: null,
      trackId: 3,
    };
    return { frameId, frameTimeMs: timeMs, detections: [bear] };
  }

  onMessage(listener: (message: ServerMessage) => void): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  async execute(command: OperatorCommand): Promise<CommandOutcome> {
    if (command.kind !== 'replay') {
      this.otherCommands.push(command);
      return { ok: false, result: 'DENIED', text: 'A replay commands no vehicle.' };
    }
    const control = command.control;
    this.controls.push(control);
    switch (control.action) {
      case 'play':
        this.setPlaying(true);
        break;
      case 'pause':
        this.setPlaying(false);
        break;
      case 'speed':
        this.speed = control.speed;
        break;
      case 'seek':
        this.moveTo(control.axisMs);
        break;
      case 'seek-time':
        this.moveTo(this.axisOfTime(control.timeMs));
        break;
      case 'step':
        this.moveTo(this.positionAxisMs + control.frames * FRAME_MS);
        break;
      case 'export-report':
        return {
          ok: true,
          result: 'ACCEPTED',
          text:
            'Report written to /tmp/ursa-reports/incident-1 (report.html, report.geojson); ' +
            'open /reports/incident-1/report.html',
        };
    }
    this.emitState();
    return { ok: true, result: 'ACCEPTED', text: `replay ${control.action}` };
  }

  dispose(): void {
    this.setPlaying(false);
    this.listeners.clear();
  }

  private axisOfTime(timeMs: number): number {
    const gap = this.breaks[0];
    if (timeMs <= gap.fromMs) return Math.max(0, timeMs - this.startMs);
    if (timeMs < gap.toMs) {
      return gap.axisStartMs + ((timeMs - gap.fromMs) / (gap.toMs - gap.fromMs)) * GAP_AXIS_MS;
    }
    return Math.min(this.axisEndMs, gap.axisEndMs + (timeMs - gap.toMs));
  }

  private moveTo(axisMs: number): void {
    this.positionAxisMs = Math.min(this.axisEndMs, Math.max(0, axisMs));
  }

  private setPlaying(playing: boolean): void {
    this.playing = playing;
    if (this.playTimer) clearInterval(this.playTimer);
    this.playTimer = null;
    if (!playing) return;
    this.playTimer = setInterval(() => {
      this.moveTo(this.positionAxisMs + PLAY_TICK_MS * this.speed);
      for (const message of this.frameMessages()) this.emit(message);
      this.emit({ type: 'replay-view', view: this.view() });
    }, PLAY_TICK_MS);
  }

  /** Sends the status and the view again, after a test changed them. */
  announce(): void {
    this.emitState();
  }

  private emitState(): void {
    for (const message of this.snapshot()) this.emit(message);
  }

  private emit(message: ServerMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}
