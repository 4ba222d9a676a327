// What the station sends to a vehicle (ArduCopter first, PX4 modes too), built and checked without
// sending anything: each command with the words the operator will read, and the few messages
// that need no ACK.

import { ardupilotmega, common, minimal } from 'node-mavlink';

import {
  arduPilotFirmware,
  flightModeRequest,
  MAV_AUTOPILOT_ARDUPILOTMEGA,
  MAV_AUTOPILOT_PX4,
} from '../../core/autopilot-modes';
import type { LatLon } from '../../core/types';
import { build } from './codec';
import type { CommandRequest } from './commands';
import type { VehicleAddress } from './vehicle-model';

const MAX_TAKEOFF_ALTITUDE_M = 500;
/** COMPONENT_ARM_DISARM param2 that makes ArduPilot disarm even in flight. */
const FORCE_DISARM_MAGIC = 21196;

/** ArduPilot's telemetry groups and the rates (Hz) the station wants them at. */
const STREAM_RATES_HZ: ReadonlyArray<[common.MavDataStream, number]> = [
  [common.MavDataStream.EXTENDED_STATUS, 2], // SYS_STATUS, GPS_RAW_INT
  [common.MavDataStream.POSITION, 10], // GLOBAL_POSITION_INT
  [common.MavDataStream.EXTRA1, 10], // ATTITUDE
  [common.MavDataStream.EXTRA3, 2], // BATTERY_STATUS, gimbal attitude
];

export interface PlannedCommand {
  /** What was asked, as the operator would say it: "Take off to 20 m". */
  action: string;
  request: CommandRequest;
}

export function takeoffCommand(altitudeM: number): PlannedCommand {
  checkFinite('takeoff altitude (m)', altitudeM);
  if (altitudeM <= 0 || altitudeM > MAX_TAKEOFF_ALTITUDE_M) {
    throw new Error(
      `takeoff altitude must be above 0 and at most ${MAX_TAKEOFF_ALTITUDE_M} m, got ${altitudeM}`,
    );
  }
  return {
    action: `Take off to ${formatNumber(altitudeM)} m`,
    // param3 0: a navigated takeoff. ArduCopter ignores yaw and place (params 4 to 6).
    request: long(common.MavCmd.NAV_TAKEOFF, [0, 0, 0, 0, 0, 0, altitudeM]),
  };
}

export function armCommand(): PlannedCommand {
  return { action: 'Arm', request: long(common.MavCmd.COMPONENT_ARM_DISARM, [1]) };
}

export function disarmCommand(force: boolean): PlannedCommand {
  return {
    action: force ? 'Force disarm' : 'Disarm',
    request: long(common.MavCmd.COMPONENT_ARM_DISARM, force ? [0, FORCE_DISARM_MAGIC] : [0]),
  };
}

/** HEARTBEAT.autopilot and HEARTBEAT.type: they decide how modes are named and numbered. */
export interface AutopilotIdentity {
  autopilot: number;
  mavType: number;
}

/** Until the vehicle has spoken, mode names are checked as ArduCopter's. */
export const ARDUCOPTER_IDENTITY: AutopilotIdentity = {
  autopilot: MAV_AUTOPILOT_ARDUPILOTMEGA,
  mavType: minimal.MavType.QUADROTOR,
};

const FIRMWARE_WORDS = {
  copter: 'ArduCopter',
  plane: 'ArduPlane',
  rover: 'ArduRover',
  sub: 'ArduSub',
};

/** The autopilot's name for mode errors: "ArduCopter", "PX4". */
export function autopilotWords(identity: AutopilotIdentity): string {
  if (identity.autopilot === MAV_AUTOPILOT_PX4) return 'PX4';
  if (identity.autopilot !== MAV_AUTOPILOT_ARDUPILOTMEGA) return 'this autopilot';
  const firmware = arduPilotFirmware(identity.mavType);
  return firmware ? FIRMWARE_WORDS[firmware] : 'ArduPilot';
}

/**
 * MAV_CMD_DO_SET_MODE by mode name. ArduPilot takes the mode number in param2; PX4 takes its main
 * mode in param2 and its sub mode in param3. Throws for a name the autopilot does not have.
 */
export function setModeCommand(
  modeName: string,
  identity: AutopilotIdentity = ARDUCOPTER_IDENTITY,
): PlannedCommand & { modeName: string; customMode: number } {
  const mode = flightModeRequest(identity.autopilot, identity.mavType, String(modeName));
  if (mode === null) {
    throw new Error(`unknown ${autopilotWords(identity)} flight mode "${modeName}"`);
  }
  return {
    modeName: mode.name,
    customMode: mode.customMode,
    action: `Switch to ${mode.name}`,
    request: long(common.MavCmd.DO_SET_MODE, mode.doSetModeParams),
  };
}

/** Barometer calibration: a preflight command some autopilots answer with IN_PROGRESS first. */
export function barometerCalibrationCommand(): PlannedCommand {
  return {
    action: 'Calibrate the barometer',
    request: long(common.MavCmd.PREFLIGHT_CALIBRATION, [0, 0, 1, 0, 0, 0, 0]),
  };
}

/** What the station shows, and how often it wants it (Hz). */
const WANTED_MESSAGE_RATES_HZ: ReadonlyArray<[number, number]> = [
  [common.GlobalPositionInt.MSG_ID, 10],
  [common.Attitude.MSG_ID, 10],
  [common.SysStatus.MSG_ID, 2],
  [common.GpsRawInt.MSG_ID, 2],
  [common.BatteryStatus.MSG_ID, 1],
  [common.GimbalDeviceAttitudeStatus.MSG_ID, 5],
  [common.MissionCurrent.MSG_ID, 1],
  [common.HomePosition.MSG_ID, 0.2],
];
/** ArduPilot's older gimbal report; PX4 does not have it. */
const ARDUPILOT_MESSAGE_RATES_HZ: ReadonlyArray<[number, number]> = [
  [ardupilotmega.MountStatus.MSG_ID, 5],
];

export function wantedMessageRates(identity: AutopilotIdentity): Array<[number, number]> {
  return identity.autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA
    ? [...WANTED_MESSAGE_RATES_HZ, ...ARDUPILOT_MESSAGE_RATES_HZ]
    : [...WANTED_MESSAGE_RATES_HZ];
}

/** MAV_CMD_SET_MESSAGE_INTERVAL: param1 the message id, param2 the interval in microseconds. */
export function messageIntervalCommand(messageId: number, rateHz: number): PlannedCommand {
  checkRange('message rate (Hz)', rateHz, 0.001, 1000);
  return {
    action: `Ask for message ${messageId} at ${formatNumber(rateHz)} Hz`,
    request: long(common.MavCmd.SET_MESSAGE_INTERVAL, [messageId, Math.round(1e6 / rateHz)]),
  };
}

export function repositionCommand(target: LatLon & { altitudeRelM: number }): PlannedCommand {
  checkLatLon('guided target', target);
  checkFinite('guided target altitudeRelM', target.altitudeRelM);
  return {
    action:
      `Go to ${target.latDeg.toFixed(6)}, ${target.lonDeg.toFixed(6)} ` +
      `at ${formatNumber(target.altitudeRelM)} m`,
    request: {
      kind: 'int',
      command: common.MavCmd.DO_REPOSITION,
      frame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
      // Speed -1 keeps the vehicle's default; flags 0 so it never changes mode by itself;
      // yaw NaN keeps the vehicle's yaw behaviour (facing the ROI when one is set).
      params: [-1, 0, 0, Number.NaN],
      xDeg: target.latDeg,
      yDeg: target.lonDeg,
      z: target.altitudeRelM,
    },
  };
}

export function regionOfInterestCommand(point: LatLon & { altitudeMslM: number }): PlannedCommand {
  checkLatLon('region of interest', point);
  checkFinite('region of interest altitudeMslM', point.altitudeMslM);
  return {
    action: `Point camera at ${point.latDeg.toFixed(6)}, ${point.lonDeg.toFixed(6)}`,
    request: {
      kind: 'int',
      command: common.MavCmd.DO_SET_ROI_LOCATION,
      frame: common.MavFrame.GLOBAL_INT,
      // Gimbal id 0 means all gimbals; the other params are unused and must be 0, not NaN.
      params: [0, 0, 0, 0],
      xDeg: point.latDeg,
      yDeg: point.lonDeg,
      z: point.altitudeMslM,
    },
  };
}

/** Pitch negative down and yaw relative to the nose, degrees; roll stays level. */
export function gimbalCommand(pitchDeg: number, yawDeg: number): PlannedCommand {
  checkRange('gimbal pitchDeg', pitchDeg, -90, 90);
  checkRange('gimbal yawDeg', yawDeg, -360, 360);
  const { MAVLINK_TARGETING } = common.MavMountMode;
  return {
    action: `Gimbal to pitch ${formatNumber(pitchDeg)} deg, yaw ${formatNumber(yawDeg)} deg`,
    request: long(common.MavCmd.DO_MOUNT_CONTROL, [
      pitchDeg,
      0,
      yawDeg,
      0,
      0,
      0,
      MAVLINK_TARGETING,
    ]),
  };
}

export function requestMessageCommand(messageId: number): CommandRequest {
  return long(common.MavCmd.REQUEST_MESSAGE, [messageId]);
}

export function gcsHeartbeat(): minimal.Heartbeat {
  return build(minimal.Heartbeat, {
    type: minimal.MavType.GCS,
    autopilot: minimal.MavAutopilot.INVALID,
    baseMode: 0 as minimal.MavModeFlag,
    customMode: 0,
    systemStatus: minimal.MavState.ACTIVE,
    mavlinkVersion: 3,
  });
}

export function streamRequests(vehicle: VehicleAddress): common.RequestDataStream[] {
  return STREAM_RATES_HZ.map(([stream, rateHz]) =>
    build(common.RequestDataStream, {
      targetSystem: vehicle.systemId,
      targetComponent: vehicle.componentId,
      reqStreamId: stream,
      reqMessageRate: rateHz,
      startStop: 1,
    }),
  );
}

/** A GUIDED position target; velocity, acceleration and yaw are left to the vehicle. */
export function positionTarget(
  vehicle: VehicleAddress,
  target: LatLon & { altitudeRelM: number },
  timeBootMs: number,
): common.SetPositionTargetGlobalInt {
  const mask = common.PositionTargetTypemask;
  const ignored =
    mask.VX_IGNORE |
    mask.VY_IGNORE |
    mask.VZ_IGNORE |
    mask.AX_IGNORE |
    mask.AY_IGNORE |
    mask.AZ_IGNORE |
    mask.YAW_IGNORE |
    mask.YAW_RATE_IGNORE;
  return build(common.SetPositionTargetGlobalInt, {
    timeBootMs: Math.round(timeBootMs) >>> 0,
    targetSystem: vehicle.systemId,
    targetComponent: vehicle.componentId,
    coordinateFrame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
    typeMask: ignored as common.PositionTargetTypemask,
    latInt: Math.round(target.latDeg * 1e7),
    lonInt: Math.round(target.lonDeg * 1e7),
    alt: target.altitudeRelM,
    vx: 0,
    vy: 0,
    vz: 0,
    afx: 0,
    afy: 0,
    afz: 0,
    yaw: 0,
    yawRate: 0,
  });
}

function long(command: common.MavCmd, params: number[]): CommandRequest {
  const p = (i: number): number => params[i] ?? 0;
  return { kind: 'long', command, params: [p(0), p(1), p(2), p(3), p(4), p(5), p(6)] };
}

function formatNumber(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function checkFinite(what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${what} must be a finite number, got ${value}`);
  }
}

function checkRange(what: string, value: number, min: number, max: number): void {
  checkFinite(what, value);
  if (value < min || value > max) {
    throw new Error(`${what} must be between ${min} and ${max}, got ${value}`);
  }
}

function checkLatLon(what: string, point: LatLon): void {
  checkRange(`${what} latDeg`, point.latDeg, -90, 90);
  checkRange(`${what} lonDeg`, point.lonDeg, -180, 180);
}
