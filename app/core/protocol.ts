// The one contract between the station and any UI (browser or Electron renderer): JSON messages
// over a WebSocket at /ws. Operators connect with the station's token; everyone else observes
// and can never command the vehicle.

import type { CommandOutcome, GeoDetection, LatLon, MapTarget, VehicleState } from './types';
import type { PushPlan } from './hazing';

export type Role = 'operator' | 'observer';

export type TileSource =
  | { kind: 'online'; urlTemplate: string; attribution: string; maxZoom: number }
  | { kind: 'offline'; urlTemplate: string; attribution: string; maxZoom: number };

export interface StationDefaults {
  takeoffAltitudeM: number;
  standoffM: number;
  pushAltitudeM: number;
}

export interface VideoStatus {
  /** What the operator is looking at, for example "demo: still photos". */
  label: string;
  state: 'starting' | 'running' | 'stopped' | 'error';
  framesPerSecond: number;
  width: number;
  height: number;
  error: string | null;
}

export interface ActionStatus {
  kind: 'push';
  phase: 'starting' | 'flying' | 'holding' | 'aborted' | 'failed';
  targetId: number;
  plan: PushPlan;
  text: string;
}

export interface LogEntry {
  timeMs: number;
  level: 'info' | 'warn' | 'error';
  text: string;
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
    }
  | { type: 'vehicle'; vehicle: VehicleState }
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
  | { type: 'command-result'; requestId: string; outcome: CommandOutcome }
  /** Proof of life when nothing else is said: a silent socket may be a dead network. */
  | { type: 'heartbeat'; timeMs: number };

export type OperatorCommand =
  | { kind: 'arm-takeoff'; altitudeM: number }
  | { kind: 'push'; targetId: number; safeBearingDeg: number; standoffM: number; altitudeM: number }
  | { kind: 'abort' }
  | { kind: 'return-home' };

export type ClientMessage = { type: 'command'; requestId: string; command: OperatorCommand };
