// The one contract between the station and any UI (browser or Electron renderer): JSON messages
// over a WebSocket at /ws. Operators connect with the station's token; everyone else observes
// and can never command the vehicle.

import type {
  CameraModel,
  CommandOutcome,
  GeoDetection,
  LatLon,
  LinkStatus,
  MapTarget,
  VehicleState,
} from './types';
import type { EnvelopeLimits, Setpoint, Violation } from './envelope';
import type { HazingEvent, HazingOperator } from './hazing-log';
import type { PatternKind, PatternNudge, PatternSettings } from './patterns';
import type { ReplayControl, ReplayStatus, ReplayView } from './replay';
import type { ProtectedZone, ZoneAlert, ZoneInput } from './zones';

export type Role = 'operator' | 'observer';

export type TileSource =
  | { kind: 'online'; urlTemplate: string; attribution: string; maxZoom: number }
  | { kind: 'offline'; urlTemplate: string; attribution: string; maxZoom: number };

export interface StationDefaults {
  takeoffAltitudeM: number;
  standoffM: number;
  pushAltitudeM: number;
  /** The safety envelope every setpoint is checked against. */
  envelope: EnvelopeLimits;
  /** The airframe carries a speaker the station can switch. */
  speakerAvailable: boolean;
  /** The lens the station georeferences with; absent from stations that do not say. */
  camera?: CameraModel;
}

export interface VideoStatus {
  /** What the operator is looking at, for example "demo: still photos". */
  label: string;
  /** reconnecting: a live stream dropped (error says why) and is being opened again. */
  state: 'starting' | 'running' | 'reconnecting' | 'stopped' | 'error';
  framesPerSecond: number;
  width: number;
  height: number;
  /** Why the source failed, or while reconnecting why the stream dropped. */
  error: string | null;
  /** A network stream (RTSP, UDP, RTP) that reconnects; false for files and images. */
  live?: boolean;
  /** Arrival minus capture time of the newest frame; null when it cannot be measured. */
  delayMs?: number | null;
  /** What delayMs measures, or why it cannot be measured, in words for the operator. */
  delayMeasures?: string;
  /** capture: frame times are the camera's wall-clock stamps; arrival: when they came. */
  frameTimeSource?: 'capture' | 'arrival';
  /** Frames decoded but skipped because a newer one was ready first (never queued). */
  droppedFrames?: number;
  /** Times a live stream was opened again since the source started. */
  reconnects?: number;
}

/** The hazing pattern under way (or the last one, until the next starts). */
export interface ActionStatus {
  kind: PatternKind;
  /**
   * holding: the pattern flies but the last setpoint broke a rule (see violation), so the
   * drone holds; succeeded/finished/aborted/failed/returning end the pattern.
   */
  phase:
    | 'starting'
    | 'flying'
    | 'holding'
    | 'succeeded'
    | 'finished'
    | 'aborted'
    | 'failed'
    | 'returning';
  /** The hazing log entry this pattern writes to. */
  eventId: string;
  /** The bear being hazed; null for a search, which has none yet. */
  targetId: number | null;
  settings: PatternSettings;
  text: string;
  /** The rule that stopped the newest setpoint; null while the pattern flies freely. */
  violation: Violation | null;
  /** The newest setpoint sent; null before the first or while holding. */
  setpoint: Setpoint | null;
  /** The path the pattern will fly from now, re-planned from the live track. */
  preview: LatLon[];
  /** Push: where the bear was at the start, and how far it is from there now. */
  bearStart: LatLon | null;
  bearMovedM: number | null;
  /** Push toward a bearing: how far the bear has moved along it (what success is measured by). */
  bearTowardM?: number | null;
  startedMs: number;
  /** After an ABORT the vehicle holds until the operator chooses to return home or land. */
  awaitingChoice: boolean;
}

/** A person the envelope keeps clear of: seen by the detector, or marked by the operator. */
export interface KnownPerson {
  /** "track-12" for a detected person, "mark-3" for a marked one. */
  id: string;
  source: 'detected' | 'marked';
  position: LatLon;
  /** When the detector last saw them, or when they were marked. */
  lastSeenMs: number;
}

/** How one vehicle link carries, for the operator: is it alive, how fast, how lossy. */
export interface LinkHealth {
  /** The link's URI, e.g. udpin:0.0.0.0:14550 or serial:/dev/ttyUSB0:57600. */
  name: string;
  /** connected: a vehicle heartbeat within the timeout; lost: none for longer. */
  status: LinkStatus;
  /** The carrier: false while a TCP peer or a serial port is away and being sought. */
  carrierUp: boolean;
  packetsPerSecond: number;
  /** Frames lost (sequence gaps) over the last few seconds, 0..100; null before any. */
  lossPct: number | null;
  /** Time since the newest vehicle heartbeat on this link, as the station saw it when sent. */
  heartbeatAgeMs: number | null;
  /** Autopilots heard on this link. */
  systemIds: number[];
  /** Frames with bad checksums since the link opened. */
  corruptFrames: number;
  /** Telemetry values refused as impossible (a position off the globe) since it opened. */
  rejectedValues: number;
}

/** A vehicle the station hears, on any link: the active one and the others, for the map. */
export interface VehicleSummary {
  systemId: number;
  link: LinkStatus;
  autopilot: string;
  vehicleType: string;
  modeName: string;
  armed: boolean;
  position: LatLon | null;
  headingDeg: number | null;
  /** Time since its last heartbeat, as the station saw it when sent. */
  heartbeatAgeMs: number | null;
  /** The links that hear it, newest first; commands go out on the first one alive. */
  links: string[];
}

export interface LogEntry {
  timeMs: number;
  level: 'info' | 'warn' | 'error';
  text: string;
}

/**
 * Where the simulator's bear really is, for checking the station's estimate against. Only the
 * built-in simulator sends it; nothing real ever does.
 */
export interface SimBearTruth {
  /** Wall-clock time of this position, ms since epoch. */
  timeMs: number;
  latDeg: number;
  lonDeg: number;
  /** Direction of travel, degrees clockwise from north. */
  headingDeg: number;
  speedMps: number;
  /** Running away from the drone. */
  fleeing: boolean;
  /** This bear's flight distance from a flying drone (20-45 m). */
  flightDistanceM: number;
  /** Straight-line distance to the drone, through the air; null before there is one. */
  droneDistanceM: number | null;
}

export type ServerMessage =
  | {
      type: 'hello';
      role: Role;
      tiles: TileSource;
      defaults: StationDefaults;
      /** Where the station starts the map before the vehicle reports a position. */
      mapCenter: LatLon;
      /**
       * True when the client presented an operator token that the station did not accept:
       * it is an observer, and should say why. Set by the server, not by the station.
       */
      tokenRejected?: boolean;
      /**
       * The server sends a heartbeat at least this often; a client that hears nothing for a
       * few of these periods treats the connection as lost. Absent: no heartbeats.
       */
      heartbeatIntervalMs?: number;
      /**
       * Set when this station replays a flight record: nothing can command a vehicle, and the
       * UI shows the timeline instead of the flying controls.
       */
      replay?: boolean;
    }
  | { type: 'vehicle'; vehicle: VehicleState }
  /** Every vehicle heard; the active one is the one commands go to (the vehicle message). */
  | { type: 'vehicles'; activeSystemId: number | null; vehicles: VehicleSummary[] }
  | { type: 'links'; links: LinkHealth[] }
  | { type: 'video-status'; video: VideoStatus }
  | {
      type: 'frame';
      frameId: number;
      frameTimeMs: number;
      width: number;
      height: number;
      /** JPEG, base64. */
      jpeg: string;
    }
  | { type: 'detections'; frameId: number; frameTimeMs: number; detections: GeoDetection[] }
  | { type: 'targets'; targets: MapTarget[] }
  | { type: 'action'; action: ActionStatus | null }
  | { type: 'log'; entry: LogEntry }
  /** Every protected zone, sent whole after any change. */
  | { type: 'zones'; zones: ProtectedZone[] }
  /**
   * One alert, when raised and again when acknowledged (acknowledgedMs set). A new client gets
   * one of these for each alert not yet acknowledged.
   */
  | { type: 'alert'; alert: ZoneAlert }
  /** Every person the safety envelope keeps clear of, sent whole after any change. */
  | { type: 'people'; people: KnownPerson[] }
  /** The hazing session: who is hazing under which authority (null until given). */
  | { type: 'hazing-operator'; operator: HazingOperator | null }
  /** One hazing log entry, when it starts, on every operator action, and when it ends. */
  | { type: 'hazing-event'; event: HazingEvent }
  /** Simulator truth, labelled as such: the bear's true position (--sim only). */
  | { type: 'sim-truth'; bear: SimBearTruth }
  | { type: 'command-result'; requestId: string; outcome: CommandOutcome }
  /** A replay's file, index, timeline, markers and playback state (replay stations only). */
  | { type: 'replay-status'; status: ReplayStatus }
  /** Everything on screen at the replay's playhead, whole (replay stations only). */
  | { type: 'replay-view'; view: ReplayView }
  /** Proof of life when nothing else is said: a silent socket may be a dead network. */
  | { type: 'heartbeat'; timeMs: number };

export type OperatorCommand =
  | { kind: 'arm-takeoff'; altitudeM: number }
  /**
   * Starts a hazing pattern. Push, orbit and shadow follow the bear targetId; zigzag and
   * search may have none. Refused until the hazing operator is set.
   */
  | { kind: 'start-pattern'; targetId: number | null; settings: PatternSettings }
  /** Turns or stretches the pattern under way. */
  | { kind: 'nudge'; nudge: PatternNudge }
  /** Holds position at once, ending any pattern; the operator then returns home or lands. */
  | { kind: 'abort' }
  | { kind: 'return-home' }
  | { kind: 'land' }
  /** Switches the airframe's speaker (see StationDefaults.speakerAvailable). */
  | { kind: 'speaker'; on: boolean }
  /** Who hazes under which agency or permit: asked once per session, required to start. */
  | { kind: 'set-operator'; operator: HazingOperator }
  /** A person the detector may not see (a colleague, the truck): the envelope keeps clear. */
  | { kind: 'mark-person'; position: LatLon }
  | { kind: 'remove-person'; personId: string }
  /**
   * Points the camera's gimbal: pitch -90 (straight down) to 0 (the horizon), yaw from the
   * nose, clockwise (0 when absent).
   */
  | { kind: 'point-camera'; pitchDeg: number; yawDeg?: number }
  /**
   * Points the camera (and, on ArduCopter, the nose) at a tracked target where it is now, as a
   * region of interest on the ground; the gimbal follows that point until told angles again.
   */
  | { kind: 'look-at'; targetId: number }
  /** Makes another vehicle the active one: every command from then on goes to it. */
  | { kind: 'select-vehicle'; systemId: number }
  /** Adds a zone, or replaces the one with the same id. */
  | { kind: 'save-zone'; zone: ZoneInput }
  | { kind: 'delete-zone'; zoneId: number }
  | { kind: 'ack-alert'; alertId: number }
  /** Moves a replay's playhead, or exports its report. Refused by live stations. */
  | { kind: 'replay'; control: ReplayControl };

/** The pitch a point-camera command may ask for: from straight down to the horizon. */
export const CAMERA_PITCH_RANGE_DEG = { min: -90, max: 0 } as const;
/** Gimbal yaw from the nose, either way round. */
export const CAMERA_YAW_RANGE_DEG = { min: -180, max: 180 } as const;

/** Why a point-camera command cannot be sent, or null when it can. */
export function checkPointCamera(pitchDeg: number, yawDeg: number): string | null {
  const pitch = CAMERA_PITCH_RANGE_DEG;
  if (!Number.isFinite(pitchDeg) || pitchDeg < pitch.min || pitchDeg > pitch.max) {
    return (
      `camera pitch ${pitchDeg} deg is outside ${pitch.min}..${pitch.max} deg ` +
      '(-90 is straight down, 0 the horizon)'
    );
  }
  const yaw = CAMERA_YAW_RANGE_DEG;
  if (!Number.isFinite(yawDeg) || yawDeg < yaw.min || yawDeg > yaw.max) {
    return `camera yaw ${yawDeg} deg is outside ${yaw.min}..${yaw.max} deg from the nose`;
  }
  return null;
}

export type ClientMessage = { type: 'command'; requestId: string; command: OperatorCommand };
