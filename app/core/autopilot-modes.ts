// Flight mode names for every autopilot the station reads, from HEARTBEAT's autopilot, type and
// custom_mode. ArduPilot numbers its modes per firmware (Copter, Plane, Rover, Sub), so the
// vehicle type picks the table. Pure: the station, log tools and the UI share it.

import { ARDUCOPTER_MODES } from './ardupilot-modes';

/** MAV_AUTOPILOT values used here (minimal.xml). */
export const MAV_AUTOPILOT_ARDUPILOTMEGA = 3;
export const MAV_AUTOPILOT_INVALID = 8;
export const MAV_AUTOPILOT_PX4 = 12;
/** MAV_TYPE_GCS: a ground station's own heartbeat. */
export const MAV_TYPE_GCS = 6;

export type ArduPilotFirmware = 'copter' | 'plane' | 'rover' | 'sub';

/** ArduPlane's Mode::Number (ArduPlane/mode.h). */
export const ARDUPLANE_MODES: Readonly<Record<string, number>> = Object.freeze({
  MANUAL: 0,
  CIRCLE: 1,
  STABILIZE: 2,
  TRAINING: 3,
  ACRO: 4,
  FLY_BY_WIRE_A: 5,
  FLY_BY_WIRE_B: 6,
  CRUISE: 7,
  AUTOTUNE: 8,
  AUTO: 10,
  RTL: 11,
  LOITER: 12,
  TAKEOFF: 13,
  AVOID_ADSB: 14,
  GUIDED: 15,
  INITIALISING: 16,
  QSTABILIZE: 17,
  QHOVER: 18,
  QLOITER: 19,
  QLAND: 20,
  QRTL: 21,
  QAUTOTUNE: 22,
  QACRO: 23,
  THERMAL: 24,
  LOITER_ALT_QLAND: 25,
  AUTOLAND: 26,
});

/** ArduSub's Mode::Number (ArduSub/mode.h). */
export const ARDUSUB_MODES: Readonly<Record<string, number>> = Object.freeze({
  STABILIZE: 0,
  ACRO: 1,
  ALT_HOLD: 2,
  AUTO: 3,
  GUIDED: 4,
  CIRCLE: 7,
  SURFACE: 9,
  POSHOLD: 16,
  MANUAL: 19,
  MOTOR_DETECT: 20,
  SURFTRAK: 21,
});

/** ArduRover's Mode::Number (Rover/mode.h), boats included. */
export const ARDUROVER_MODES: Readonly<Record<string, number>> = Object.freeze({
  MANUAL: 0,
  ACRO: 1,
  STEERING: 3,
  HOLD: 4,
  LOITER: 5,
  FOLLOW: 6,
  SIMPLE: 7,
  DOCK: 8,
  CIRCLE: 9,
  AUTO: 10,
  RTL: 11,
  SMART_RTL: 12,
  GUIDED: 15,
  INITIALISING: 16,
});

const TABLES: Record<ArduPilotFirmware, ReadonlyMap<number, string>> = {
  copter: invert(ARDUCOPTER_MODES),
  plane: invert(ARDUPLANE_MODES),
  rover: invert(ARDUROVER_MODES),
  sub: invert(ARDUSUB_MODES),
};

// MAV_TYPE numbers by the ArduPilot firmware that reports them.
const FIRMWARE_BY_MAV_TYPE = new Map<number, ArduPilotFirmware>([
  [1, 'plane'], // FIXED_WING
  [2, 'copter'], // QUADROTOR
  [3, 'copter'], // COAXIAL
  [4, 'copter'], // HELICOPTER
  [10, 'rover'], // GROUND_ROVER
  [11, 'rover'], // SURFACE_BOAT
  [12, 'sub'], // SUBMARINE
  [13, 'copter'], // HEXAROTOR
  [14, 'copter'], // OCTOROTOR
  [15, 'copter'], // TRICOPTER
  [19, 'plane'], // VTOL_TAILSITTER_DUOROTOR
  [20, 'plane'], // VTOL_TAILSITTER_QUADROTOR
  [21, 'plane'], // VTOL_TILTROTOR
  [22, 'plane'], // VTOL_FIXEDROTOR
  [23, 'plane'], // VTOL_TAILSITTER
  [24, 'plane'], // VTOL_TILTWING
  [25, 'plane'], // VTOL_RESERVED5
  [29, 'copter'], // DODECAROTOR
  [35, 'copter'], // DECAROTOR
  [43, 'copter'], // GENERIC_MULTIROTOR
]);

function invert(table: Readonly<Record<string, number>>): ReadonlyMap<number, string> {
  return new Map(Object.entries(table).map(([name, modeNumber]) => [modeNumber, name]));
}

/** Which ArduPilot firmware flies a vehicle of this MAV_TYPE, or null when none does. */
export function arduPilotFirmware(mavType: number): ArduPilotFirmware | null {
  return FIRMWARE_BY_MAV_TYPE.get(mavType) ?? null;
}

/** The ArduPilot mode's name for this vehicle type, or "MODE(n)" when it has none. */
export function arduPilotModeName(mavType: number, customMode: number): string {
  const firmware = arduPilotFirmware(mavType);
  return (firmware && TABLES[firmware].get(customMode)) ?? `MODE(${customMode})`;
}

/**
 * The flight mode's name from a HEARTBEAT, for any autopilot. Autopilots without a table
 * here give "MODE(n)" with the raw custom_mode.
 */
export function flightModeName(autopilot: number, mavType: number, customMode: number): string {
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) return arduPilotModeName(mavType, customMode);
  return `MODE(${customMode})`;
}
