// What a replay of a flight record shows, as the station sends it to the UI. Pure data: the
// station indexes the log and its sidecars; the UI draws the timeline and the picture at the
// playhead from these messages alone.
//
// Positions on the timeline are "axis" milliseconds: 0 at the first record, increasing in file
// order. Within a run of records the axis follows the records' own clock one to one; a long gap
// or a jump back in the log's clock (another session written into the same file) is a break,
// drawn as such, that takes a bounded length of axis. So the slider never jumps or breaks, and
// wall-clock times (ms since the epoch) are shown beside it.

import type { HazingEvent, HazingOperator } from './hazing-log';
import type { ActionStatus, KnownPerson, LogEntry } from './protocol';
import type { GeoDetection, GlobalPosition, LatLon, MapTarget, VehicleState } from './types';
import type { ProtectedZone, ZoneAlert } from './zones';

/** The replay speeds the UI offers, and the range the station accepts. */
export const REPLAY_SPEED_RANGE = { min: 0.1, max: 20 } as const;
export const REPLAY_SPEEDS = [0.1, 0.25, 0.5, 1, 2, 4, 8, 20] as const;

/** A stretch of the timeline with no records, or where the log's clock jumps back. */
export interface ReplayBreak {
  kind: 'gap' | 'jump-back';
  axisStartMs: number;
  axisEndMs: number;
  /** Wall-clock times of the records either side. */
  fromMs: number;
  toMs: number;
}

export type ReplayMarkerKind =
  | 'detection'
  | 'alert'
  | 'mode'
  | 'link-lost'
  | 'link-back'
  | 'hazing-start'
  | 'hazing-end'
  | 'abort'
  | 'command';

export interface ReplayMarker {
  kind: ReplayMarkerKind;
  axisMs: number;
  timeMs: number;
  /** In words, for the event list and the marker's tooltip, e.g. "Mode LOITER -> RTL". */
  label: string;
}

/** A file the replay reads, with its checksum once computed (null until then). */
export interface ReplayFile {
  role: 'tlog' | 'video' | 'frame-table' | 'journal' | 'hazing-log';
  path: string;
  bytes: number;
  sha256: string | null;
}

export interface ReplayStatus {
  /** The flight record being replayed. */
  file: string;
  files: ReplayFile[];
  /** Indexing runs once, when the file is opened; the timeline is usable when done. */
  indexing: { done: boolean; progressPct: number; what: string };
  /** Why the replay cannot go on (an unreadable file), in words; null when it can. */
  error: string | null;
  /** Warnings about the records, e.g. "skipped 312 bytes that were not MAVLink". */
  warnings: string[];
  axisEndMs: number;
  /**
   * Wall-clock time of the earliest and the latest record (not the first and last in the file,
   * whose clock may jump back); null before indexing ends.
   */
  startMs: number | null;
  endMs: number | null;
  breaks: ReplayBreak[];
  markers: ReplayMarker[];
  positionAxisMs: number;
  playing: boolean;
  speed: number;
  /** Frames in the recorded video; 0 when there is none (or it could not be read). */
  videoFrames: number;
}

/** Where something was last seen, at or before the playhead. */
export interface LastKnown {
  position: LatLon;
  timeMs: number;
}

export interface TrackLastKnown extends LastKnown {
  trackId: number;
  className: string;
}

/** Everything on screen at the playhead. Sent whole after every seek, and while playing. */
export interface ReplayView {
  positionAxisMs: number;
  /**
   * Wall-clock time at the playhead: inside a gap it runs on linearly (the picture is the last
   * one before the gap); inside a jump back it is the time the break starts.
   */
  timeMs: number;
  /** The playhead is in a gap or a jump back: the picture is the last one before it. */
  inBreak: ReplayBreak | null;
  /** The vehicle as the log says it was at the playhead; null before its first heartbeat. */
  vehicle: VehicleState | null;
  /** Where the vehicle was last known to be, and when. */
  vehicleLastKnown: LastKnown | null;
  /** The vehicle's path up to the playhead (thinned), oldest first. */
  trail: Array<GlobalPosition & { timeMs: number }>;
  /** Every track of a bear seen up to the playhead, where and when it was last seen. */
  tracksLastKnown: TrackLastKnown[];
  targets: MapTarget[];
  /** The detections of the video frame at the playhead (matched by frame id). */
  detections: { frameId: number; frameTimeMs: number; detections: GeoDetection[] } | null;
  action: ActionStatus | null;
  zones: ProtectedZone[];
  alerts: ZoneAlert[];
  people: KnownPerson[];
  hazingOperator: HazingOperator | null;
  hazingEvents: HazingEvent[];
  /** Station log and operator actions up to the playhead, newest last, at most a few hundred. */
  log: LogEntry[];
  /** The recorded video frame at the playhead (0-based), null when there is none. */
  frameIndex: number | null;
}

export type ReplayControl =
  | { action: 'play' }
  | { action: 'pause' }
  | { action: 'speed'; speed: number }
  /** Moves the playhead to an axis position. */
  | { action: 'seek'; axisMs: number }
  /** Moves the playhead to a wall-clock time (a typed time), the first run that holds it. */
  | { action: 'seek-time'; timeMs: number }
  /** Steps whole video frames (or, without video, telemetry records), + forward, - back. */
  | { action: 'step'; frames: number }
  /** Writes an incident report for the span; the outcome names the folder and its files. */
  | { action: 'export-report'; fromAxisMs: number; toAxisMs: number };

/** Checks a replay control from a client; throws an Error naming what is wrong. */
export function checkReplayControl(value: unknown): ReplayControl {
  if (typeof value !== 'object' || value === null) throw new Error('control must be an object');
  const control = value as Record<string, unknown>;
  const finite = (name: string): number => {
    const field = control[name];
    if (typeof field !== 'number' || !Number.isFinite(field)) {
      throw new Error(`control.${name} must be a finite number`);
    }
    return field;
  };
  switch (control.action) {
    case 'play':
    case 'pause':
      return { action: control.action };
    case 'speed': {
      const speed = finite('speed');
      const { min, max } = REPLAY_SPEED_RANGE;
      if (speed < min || speed > max) {
        throw new Error(`replay speed ${speed} is outside ${min}..${max}`);
      }
      return { action: 'speed', speed };
    }
    case 'seek':
      return { action: 'seek', axisMs: finite('axisMs') };
    case 'seek-time':
      return { action: 'seek-time', timeMs: finite('timeMs') };
    case 'step': {
      const frames = finite('frames');
      if (!Number.isInteger(frames) || frames === 0 || Math.abs(frames) > 1000) {
        throw new Error('control.frames must be a whole number of frames, 1..1000 either way');
      }
      return { action: 'step', frames };
    }
    case 'export-report': {
      const fromAxisMs = finite('fromAxisMs');
      const toAxisMs = finite('toAxisMs');
      if (toAxisMs <= fromAxisMs) throw new Error('the report span must end after it starts');
      return { action: 'export-report', fromAxisMs, toAxisMs };
    }
    default:
      throw new Error(`unknown replay control ${JSON.stringify(control.action)}`);
  }
}
