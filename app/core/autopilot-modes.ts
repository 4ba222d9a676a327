// Flight mode names for every autopilot the station reads, from HEARTBEAT's autopilot, type and
// custom_mode, and the DO_SET_MODE parameters that ask for a mode by name. ArduPilot numbers its
// modes per firmware (Copter, Plane, Rover, Sub), so the vehicle type picks the table; PX4 packs
// a main and a sub mode into custom_mode. Pure: the station, log tools and the UI share it.

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

/** The ArduPilot mode's number for a name in any letter case, or null when it has none. */
export function arduPilotModeNumber(mavType: number, name: string): number | null {
  const firmware = arduPilotFirmware(mavType);
  if (!firmware) return null;
  const key = normalizeName(name);
  for (const [modeNumber, modeName] of TABLES[firmware]) {
    if (modeName === key) return modeNumber;
  }
  return null;
}

/** PX4's main modes (px4_custom_mode.h, PX4_CUSTOM_MAIN_MODE). */
export const PX4_MAIN_MODES: Readonly<Record<string, number>> = Object.freeze({
  MANUAL: 1,
  ALTCTL: 2,
  POSCTL: 3,
  AUTO: 4,
  ACRO: 5,
  OFFBOARD: 6,
  STABILIZED: 7,
  RATTITUDE: 8,
  TERMINATION: 10,
});

/** PX4's sub modes of AUTO (PX4_CUSTOM_SUB_MODE_AUTO). */
export const PX4_AUTO_SUB_MODES: Readonly<Record<string, number>> = Object.freeze({
  READY: 1,
  TAKEOFF: 2,
  LOITER: 3,
  MISSION: 4,
  RTL: 5,
  LAND: 6,
  FOLLOW_TARGET: 8,
  PRECLAND: 9,
  VTOL_TAKEOFF: 10,
});

/** PX4's sub modes of POSCTL (PX4_CUSTOM_SUB_MODE_POSCTL); 0 is plain POSCTL. */
export const PX4_POSCTL_SUB_MODES: Readonly<Record<string, number>> = Object.freeze({
  ORBIT: 1,
  SLOW: 2,
});

export interface Px4Mode {
  mainMode: number;
  subMode: number;
}

/** PX4's custom_mode holds the main mode in bits 16-23 and the sub mode in bits 24-31. */
export function px4CustomMode(mode: Px4Mode): number {
  return (((mode.subMode & 0xff) << 24) | ((mode.mainMode & 0xff) << 16)) >>> 0;
}

export function px4ModeParts(customMode: number): Px4Mode {
  return { mainMode: (customMode >>> 16) & 0xff, subMode: (customMode >>> 24) & 0xff };
}

/** Every PX4 mode by PX4's own name ("AUTO.MISSION"). */
const PX4_MODES_BY_NAME: ReadonlyMap<string, Px4Mode> = new Map([
  ...Object.entries(PX4_MAIN_MODES)
    .filter(([name]) => name !== 'AUTO')
    .map(([name, mainMode]): [string, Px4Mode] => [name, { mainMode, subMode: 0 }]),
  ...Object.entries(PX4_AUTO_SUB_MODES).map(([name, subMode]): [string, Px4Mode] => [
    `AUTO.${name}`,
    { mainMode: PX4_MAIN_MODES.AUTO, subMode },
  ]),
  ...Object.entries(PX4_POSCTL_SUB_MODES).map(([name, subMode]): [string, Px4Mode] => [
    `POSCTL.${name}`,
    { mainMode: PX4_MAIN_MODES.POSCTL, subMode },
  ]),
]);

/**
 * Words operators and QGroundControl use for PX4 modes, and the ArduPilot names the station
 * itself switches to (GUIDED, BRAKE, LOITER), mapped to the PX4 mode that does that job: PX4
 * flies DO_REPOSITION targets in Hold (AUTO.LOITER), and Hold is also how it stops.
 */
const PX4_ALIASES: ReadonlyMap<string, string> = new Map([
  ['HOLD', 'AUTO.LOITER'],
  ['LOITER', 'AUTO.LOITER'],
  ['GUIDED', 'AUTO.LOITER'],
  ['BRAKE', 'AUTO.LOITER'],
  ['MISSION', 'AUTO.MISSION'],
  ['AUTO', 'AUTO.MISSION'],
  ['RETURN', 'AUTO.RTL'],
  ['RTL', 'AUTO.RTL'],
  ['LAND', 'AUTO.LAND'],
  ['TAKEOFF', 'AUTO.TAKEOFF'],
  ['PRECLAND', 'AUTO.PRECLAND'],
  ['PRECISION_LAND', 'AUTO.PRECLAND'],
  ['POSITION', 'POSCTL'],
  ['ALTITUDE', 'ALTCTL'],
  ['STABILIZE', 'STABILIZED'],
  ['ORBIT', 'POSCTL.ORBIT'],
  ['FOLLOW_ME', 'AUTO.FOLLOW_TARGET'],
]);

/** PX4's name for a custom_mode ("AUTO.MISSION"), or "MODE(0x...)" for one PX4 does not have. */
export function px4ModeName(customMode: number): string {
  const { mainMode, subMode } = px4ModeParts(customMode);
  let mainOnly: string | null = null;
  for (const [name, mode] of PX4_MODES_BY_NAME) {
    if (mode.mainMode !== mainMode) continue;
    if (mode.subMode === subMode) return name;
    if (mode.subMode === 0) mainOnly = name;
  }
  // Main modes without sub modes may carry a stale sub mode byte; AUTO and POSCTL may not.
  const hasSubModes = mainMode === PX4_MAIN_MODES.AUTO || mainMode === PX4_MAIN_MODES.POSCTL;
  if (mainOnly !== null && !hasSubModes) return mainOnly;
  return `MODE(0x${(customMode >>> 0).toString(16).padStart(8, '0')})`;
}

/** A PX4 mode from its PX4 name or a common alias, in any letter case; null when unknown. */
export function px4ModeFromName(name: string): (Px4Mode & { name: string }) | null {
  const key = normalizeName(name);
  const canonical = PX4_MODES_BY_NAME.has(key) ? key : (PX4_ALIASES.get(key) ?? null);
  const mode = canonical === null ? undefined : PX4_MODES_BY_NAME.get(canonical);
  return mode && canonical !== null ? { ...mode, name: canonical } : null;
}

/** What VehicleState.autopilot says: "ArduPilot", "PX4", or the MAV_AUTOPILOT number. */
export function autopilotName(autopilot: number): string {
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) return 'ArduPilot';
  if (autopilot === MAV_AUTOPILOT_PX4) return 'PX4';
  if (autopilot === MAV_AUTOPILOT_INVALID) return 'none';
  return `AUTOPILOT(${autopilot})`;
}

/**
 * The flight mode's name from a HEARTBEAT, for any autopilot. Autopilots without a table
 * here give "MODE(n)" with the raw custom_mode.
 */
export function flightModeName(autopilot: number, mavType: number, customMode: number): string {
  if (autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) return arduPilotModeName(mavType, customMode);
  if (autopilot === MAV_AUTOPILOT_PX4) return px4ModeName(customMode);
  return `MODE(${customMode})`;
}

/** MAV_MODE_FLAG_CUSTOM_MODE_ENABLED: DO_SET_MODE param1 saying params 2 and 3 are custom. */
export const MAV_MODE_FLAG_CUSTOM_MODE_ENABLED = 1;

export interface ModeRequest {
  /** The autopilot's own name for the mode ("GUIDED", "AUTO.LOITER"). */
  name: string;
  customMode: number;
  /** MAV_CMD_DO_SET_MODE params 1 to 3: base mode flags, then the custom mode's parts. */
  doSetModeParams: [number, number, number];
}

/** How to ask an autopilot for a mode by name; null when it has no such mode. */
export function flightModeRequest(
  autopilot: number,
  mavType: number,
  name: string,
): ModeRequest | null {
  const custom = MAV_MODE_FLAG_CUSTOM_MODE_ENABLED;
  if (autopilot === MAV_AUTOPILOT_PX4) {
    const mode = px4ModeFromName(name);
    if (!mode) return null;
    const customMode = px4CustomMode(mode);
    return { name: mode.name, customMode, doSetModeParams: [custom, mode.mainMode, mode.subMode] };
  }
  if (autopilot !== MAV_AUTOPILOT_ARDUPILOTMEGA) return null;
  const customMode = arduPilotModeNumber(mavType, name);
  if (customMode === null) return null;
  return { name: normalizeName(name), customMode, doSetModeParams: [custom, customMode, 0] };
}

/** Every mode name an autopilot takes, for menus; empty when the station cannot tell. */
export function flightModeNames(autopilot: number, mavType: number): string[] {
  if (autopilot === MAV_AUTOPILOT_PX4) return [...PX4_MODES_BY_NAME.keys()];
  const firmware = autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA ? arduPilotFirmware(mavType) : null;
  return firmware ? [...TABLES[firmware].values()] : [];
}

function normalizeName(name: string): string {
  return name
    .trim()
    .toUpperCase()
    .replace(/[\s-]+/g, '_');
}
