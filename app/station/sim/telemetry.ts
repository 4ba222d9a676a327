// The simulated vehicle's telemetry as ArduCopter words it: one builder per message, every
// field set, units converted to MAVLink's integers.

import { ardupilotmega, common, minimal } from 'node-mavlink';

import { ARDUCOPTER_MODES } from '../../core/ardupilot-modes';
import { build } from '../mavlink/codec';
import type { SimParamType } from './params';
import type { SimHome, SimVehicle } from './vehicle';

const GIMBAL_DEVICE_ID = 1;
const STATUS_TEXT_MAX_CHARS = 50;

const rad = (deg: number): number => (deg * Math.PI) / 180;
const centidegrees360 = (deg: number): number =>
  Math.round((((deg % 360) + 360) % 360) * 100) % 36000;

export function heartbeat(vehicle: SimVehicle): minimal.Heartbeat {
  const flags = minimal.MavModeFlag;
  // As ArduCopter's GCS_MAVLINK_Copter::base_mode() builds it.
  let baseMode = flags.CUSTOM_MODE_ENABLED | flags.STABILIZE_ENABLED | flags.MANUAL_INPUT_ENABLED;
  if (vehicle.usesPositionControl) baseMode |= flags.GUIDED_ENABLED;
  if (vehicle.armed) baseMode |= flags.SAFETY_ARMED;
  return build(minimal.Heartbeat, {
    type: minimal.MavType.QUADROTOR,
    autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
    baseMode: baseMode as minimal.MavModeFlag,
    customMode: vehicle.modeNumber,
    systemStatus: vehicle.armed ? minimal.MavState.ACTIVE : minimal.MavState.STANDBY,
    mavlinkVersion: 3,
  });
}

export function globalPosition(vehicle: SimVehicle, timeBootMs: number): common.GlobalPositionInt {
  const position = vehicle.position;
  return build(common.GlobalPositionInt, {
    timeBootMs,
    lat: Math.round(position.latDeg * 1e7),
    lon: Math.round(position.lonDeg * 1e7),
    alt: Math.round(position.altitudeMslM * 1000),
    relativeAlt: Math.round(position.altitudeRelM * 1000),
    vx: Math.round(vehicle.velocityNorthMps * 100),
    vy: Math.round(vehicle.velocityEastMps * 100),
    vz: Math.round(-vehicle.velocityUpMps * 100),
    hdg: centidegrees360(vehicle.yawDeg),
  });
}

export function attitude(vehicle: SimVehicle, timeBootMs: number): common.Attitude {
  return build(common.Attitude, {
    timeBootMs,
    roll: rad(vehicle.rollDeg),
    pitch: rad(vehicle.pitchDeg),
    yaw: rad(vehicle.yawDeg > 180 ? vehicle.yawDeg - 360 : vehicle.yawDeg),
    rollspeed: 0,
    pitchspeed: 0,
    yawspeed: rad(vehicle.yawRateDegS),
  });
}

export function sysStatus(vehicle: SimVehicle): common.SysStatus {
  const sensors = common.MavSysStatusSensor;
  const present =
    (sensors.SENSOR_3D_GYRO |
      sensors.SENSOR_3D_ACCEL |
      sensors.SENSOR_3D_MAG |
      sensors.SENSOR_ABSOLUTE_PRESSURE |
      sensors.SENSOR_GPS |
      sensors.SENSOR_ANGULAR_RATE_CONTROL |
      sensors.SENSOR_ATTITUDE_STABILIZATION |
      sensors.SENSOR_YAW_POSITION |
      sensors.SENSOR_Z_ALTITUDE_CONTROL |
      sensors.SENSOR_XY_POSITION_CONTROL |
      sensors.SENSOR_MOTOR_OUTPUTS |
      sensors.AHRS |
      sensors.SENSOR_BATTERY) >>>
    0;
  return build(common.SysStatus, {
    onboardControlSensorsPresent: present as common.MavSysStatusSensor,
    onboardControlSensorsEnabled: present as common.MavSysStatusSensor,
    onboardControlSensorsHealth: present as common.MavSysStatusSensor,
    load: 200,
    voltageBattery: Math.round(vehicle.batteryVoltageV * 1000),
    currentBattery: Math.round(vehicle.batteryCurrentA * 100),
    dropRateComm: 0,
    errorsComm: 0,
    errorsCount1: 0,
    errorsCount2: 0,
    errorsCount3: 0,
    errorsCount4: 0,
    batteryRemaining: Math.round(vehicle.batteryRemainingPct),
    onboardControlSensorsPresentExtended: 0 as common.MavSysStatusSensorExtended,
    onboardControlSensorsEnabledExtended: 0 as common.MavSysStatusSensorExtended,
    onboardControlSensorsHealthExtended: 0 as common.MavSysStatusSensorExtended,
  });
}

/** A healthy 3D fix with 14 satellites. */
export function gpsRaw(vehicle: SimVehicle, wallClockMs: number): common.GpsRawInt {
  const position = vehicle.position;
  const courseDeg = (Math.atan2(vehicle.velocityEastMps, vehicle.velocityNorthMps) * 180) / Math.PI;
  return build(common.GpsRawInt, {
    timeUsec: BigInt(Math.round(wallClockMs)) * 1000n,
    fixType: common.GpsFixType.GPS_FIX_TYPE_3D_FIX,
    lat: Math.round(position.latDeg * 1e7),
    lon: Math.round(position.lonDeg * 1e7),
    alt: Math.round(position.altitudeMslM * 1000),
    eph: 70,
    epv: 120,
    vel: Math.round(vehicle.groundSpeedMps * 100),
    cog: centidegrees360(courseDeg),
    satellitesVisible: 14,
    altEllipsoid: 0,
    hAcc: 800,
    vAcc: 1200,
    velAcc: 200,
    hdgAcc: 0,
    yaw: 0,
  });
}

export function batteryStatus(vehicle: SimVehicle): common.BatteryStatus {
  // Without cell monitoring ArduPilot reports the pack voltage as the first cell.
  const voltages = [Math.round(vehicle.batteryVoltageV * 1000), ...Array<number>(9).fill(0xffff)];
  return build(common.BatteryStatus, {
    id: 0,
    batteryFunction: common.MavBatteryFunction.ALL,
    type: common.MavBatteryType.LIPO,
    temperature: 0x7fff,
    voltages,
    currentBattery: Math.round(vehicle.batteryCurrentA * 100),
    currentConsumed: Math.round(vehicle.batteryConsumedMah),
    energyConsumed: -1,
    batteryRemaining: Math.round(vehicle.batteryRemainingPct),
    timeRemaining: 0,
    chargeState: common.MavBatteryChargeState.OK,
    voltagesExt: [0, 0, 0, 0],
    mode: common.MavBatteryMode.UNKNOWN,
    faultBitmask: 0 as common.MavBatteryFault,
  });
}

export function homePosition(home: SimHome, wallClockMs: number): common.HomePosition {
  return build(common.HomePosition, {
    latitude: Math.round(home.latDeg * 1e7),
    longitude: Math.round(home.lonDeg * 1e7),
    altitude: Math.round(home.altitudeMslM * 1000),
    x: 0,
    y: 0,
    z: 0,
    q: [1, 0, 0, 0],
    approachX: 0,
    approachY: 0,
    approachZ: 0,
    timeUsec: BigInt(Math.round(wallClockMs)) * 1000n,
  });
}

/** The older gimbal report: pitch, roll and body-frame yaw in centidegrees. */
export function mountStatus(vehicle: SimVehicle): ardupilotmega.MountStatus {
  return build(ardupilotmega.MountStatus, {
    targetSystem: 0,
    targetComponent: 0,
    pointingA: Math.round(vehicle.gimbalPitchDeg * 100),
    pointingB: 0,
    pointingC: Math.round(vehicle.gimbalYawDeg * 100),
    mountMode: vehicle.gimbalTracksRoi
      ? common.MavMountMode.GPS_POINT
      : common.MavMountMode.MAVLINK_TARGETING,
  });
}

export function gimbalDeviceAttitude(
  vehicle: SimVehicle,
  timeBootMs: number,
): common.GimbalDeviceAttitudeStatus {
  const flags = common.GimbalDeviceFlags;
  const lockedInVehicleFrame = flags.ROLL_LOCK | flags.PITCH_LOCK | flags.YAW_IN_VEHICLE_FRAME;
  return build(common.GimbalDeviceAttitudeStatus, {
    targetSystem: 0,
    targetComponent: 0,
    timeBootMs,
    q: quaternionFromEulerDeg(0, vehicle.gimbalPitchDeg, vehicle.gimbalYawDeg),
    angularVelocityX: 0,
    angularVelocityY: 0,
    angularVelocityZ: 0,
    failureFlags: 0 as common.GimbalDeviceErrorFlags,
    flags: lockedInVehicleFrame as common.GimbalDeviceFlags,
    deltaYaw: rad(vehicle.yawDeg),
    deltaYawVelocity: 0,
    gimbalDeviceId: GIMBAL_DEVICE_ID,
  });
}

/** STATUSTEXT carries at most 50 ASCII characters. */
export function statusText(severity: common.MavSeverity, text: string): common.StatusText {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?').slice(0, STATUS_TEXT_MAX_CHARS);
  return build(common.StatusText, { severity, text: ascii, id: 0, chunkSeq: 0 });
}

export function commandAck(
  command: common.MavCmd,
  result: common.MavResult,
  to: { systemId: number; componentId: number },
  progressPct = 0,
): common.CommandAck {
  return build(common.CommandAck, {
    command,
    result,
    progress: Math.max(0, Math.min(255, Math.round(progressPct))),
    resultParam2: 0,
    targetSystem: to.systemId,
    targetComponent: to.componentId,
  });
}

/** Aerospace order (yaw, then pitch, then roll), as MAVLink quaternions [w, x, y, z]. */
function quaternionFromEulerDeg(rollDeg: number, pitchDeg: number, yawDeg: number): number[] {
  const half = (deg: number): number => (deg * Math.PI) / 360;
  const [cr, sr] = [Math.cos(half(rollDeg)), Math.sin(half(rollDeg))];
  const [cp, sp] = [Math.cos(half(pitchDeg)), Math.sin(half(pitchDeg))];
  const [cy, sy] = [Math.cos(half(yawDeg)), Math.sin(half(yawDeg))];
  return [
    cr * cp * cy + sr * sp * sy,
    sr * cp * cy - cr * sp * sy,
    cr * sp * cy + sr * cp * sy,
    cr * cp * sy - sr * sp * cy,
  ];
}

/** Where the mission stands, as ArduPilot's MISSION_CURRENT reports it. */
export function missionCurrent(vehicle: SimVehicle): common.MissionCurrent {
  const total = vehicle.missionItems.length;
  const inAuto = vehicle.modeNumber === ARDUCOPTER_MODES.AUTO;
  const { MissionState } = common;
  let missionState = MissionState.NOT_STARTED;
  if (total <= 1) missionState = MissionState.NO_MISSION;
  else if (inAuto && vehicle.armed) missionState = MissionState.ACTIVE;
  else if (vehicle.missionSeq > 1) missionState = MissionState.PAUSED;
  return build(common.MissionCurrent, {
    seq: vehicle.missionSeq,
    total,
    missionState,
    missionMode: inAuto ? 1 : 0,
    missionId: 0,
    fenceId: 0,
    rallyPointsId: 0,
  });
}

export function missionItemReached(seq: number): common.MissionItemReached {
  return build(common.MissionItemReached, { seq });
}

const PARAM_TYPES: Record<SimParamType, common.MavParamType> = {
  INT8: common.MavParamType.INT8,
  INT16: common.MavParamType.INT16,
  INT32: common.MavParamType.INT32,
  REAL32: common.MavParamType.REAL32,
};

/** ArduPilot sends every parameter value as a float, integers cast (not byte-copied). */
export function paramValue(
  name: string,
  type: SimParamType,
  value: number,
  index: number,
  count: number,
): common.ParamValue {
  return build(common.ParamValue, {
    paramId: name,
    paramValue: value,
    paramType: PARAM_TYPES[type],
    paramCount: count,
    paramIndex: index,
  });
}
