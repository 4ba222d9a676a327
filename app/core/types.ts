// Shared data shapes. Pure: no Node or DOM. Units are in every field name.

export interface LatLon {
  latDeg: number;
  lonDeg: number;
}

export interface GlobalPosition extends LatLon {
  altitudeMslM: number;
  /** Altitude above home, as the autopilot reports it (relative_alt). */
  altitudeRelM: number;
}

export type LinkStatus = 'connecting' | 'connected' | 'lost';

export interface AttitudeDeg {
  rollDeg: number;
  pitchDeg: number;
  /** Heading of the vehicle's nose, 0 = north, clockwise, 0..360. */
  yawDeg: number;
}

export interface GimbalState {
  /** Negative is down. Stabilised gimbals report it against the horizon. */
  pitchDeg: number;
  rollDeg: number;
  /** Yaw of the camera; see yawFrame for what it is measured from. */
  yawDeg: number;
  yawFrame: 'vehicle' | 'earth';
}

export interface BatteryState {
  voltageV: number | null;
  currentA: number | null;
  remainingPct: number | null;
}

export interface GpsState {
  fixType: number;
  /** "No fix", "2D", "3D", "DGPS", "RTK float", "RTK fixed". */
  fixName: string;
  satellites: number | null;
  hdop: number | null;
}

export interface StatusText {
  timeMs: number;
  severity: number;
  text: string;
}

export interface VehicleState {
  systemId: number;
  link: LinkStatus;
  /** Wall-clock time (ms since epoch) of the last vehicle HEARTBEAT, null before the first. */
  lastHeartbeatMs: number | null;
  autopilot: string;
  vehicleType: string;
  customMode: number | null;
  modeName: string;
  armed: boolean;
  position: GlobalPosition | null;
  velocity: { northMps: number; eastMps: number; downMps: number } | null;
  attitude: AttitudeDeg | null;
  home: (LatLon & { altitudeMslM: number }) | null;
  gimbal: GimbalState | null;
  battery: BatteryState | null;
  gps: GpsState | null;
  /** Newest last, at most a few dozen. */
  statusTexts: StatusText[];
}

export interface CommandOutcome {
  ok: boolean;
  /** The MAV_RESULT name (ACCEPTED, DENIED, ...) or TIMEOUT / NOT_SENT / SUPERSEDED (by ABORT). */
  result: string;
  /** Words for the operator: what was asked and what the vehicle said. */
  text: string;
}

/** Box in pixels of the source frame: left, top, width, height. */
export type PixelBox = [number, number, number, number];

export interface Detection {
  frameId: number;
  /** Time the frame was captured (ms since epoch). */
  frameTimeMs: number;
  classId: number;
  className: string;
  score: number;
  box: PixelBox;
  imageWidth: number;
  imageHeight: number;
}

export interface GeoDetection extends Detection {
  /** Estimated ground position of the box's bottom-centre, null when it has none. */
  ground: LatLon | null;
  /** Why there is no ground position (for example a ray at or above the horizon). */
  groundError: string | null;
  /** How far off the ground position may be; absent where it was not worked out. */
  uncertainty?: GroundUncertainty | null;
  /** The tracker's id for the animal this box belongs to; absent or null before it has one. */
  trackId?: number | null;
}

/**
 * One standard deviation of a ground position as an ellipse: attitude error stretches it along
 * the line of sight far more than across it at shallow angles.
 */
export interface GroundUncertainty {
  /** Half-axis along the horizontal line of sight from the camera, metres. */
  alongRangeM: number;
  /** Half-axis across the line of sight, metres. */
  crossRangeM: number;
  /** Bearing of the along-range axis, degrees clockwise from north. */
  alongRangeBearingDeg: number;
}

/** An animal or person on the map, built from detections that agree in class and place. */
export interface MapTarget {
  id: number;
  className: string;
  position: LatLon;
  score: number;
  firstSeenMs: number;
  lastSeenMs: number;
  hits: number;
  /** Recent ground positions, oldest first; absent where the source keeps no path. */
  path?: Array<LatLon & { timeMs: number }>;
  /** Ground speed over the recent path; null until there is enough of it. */
  speedMps?: number | null;
  /** Direction of travel, degrees clockwise from north; null while standing or unknown. */
  courseDeg?: number | null;
  uncertainty?: GroundUncertainty | null;
}

export interface CameraModel {
  horizontalFovDeg: number;
  verticalFovDeg: number;
}
