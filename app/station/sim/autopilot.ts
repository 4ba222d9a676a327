// The simulator's MAVLink face: it speaks like ArduCopter (system 1, component 1) over UDP on
// 127.0.0.1, sends telemetry at ArduPilot-like rates, and answers commands with COMMAND_ACK.
// It sends to --out until someone talks to it, then replies to whoever spoke last.

import dgram from 'node:dgram';

import { ardupilotmega, common, minimal, type MavLinkData } from 'node-mavlink';

import { ARDUCOPTER_MODES } from '../../core/ardupilot-modes';
import { createLogger } from '../../core/log';
import { build, MavlinkDecoder, MavlinkEncoder, type ReceivedMessage } from '../mavlink/codec';
import { FORCE_DISARM_MAGIC, SimVehicle, type SimHome } from './vehicle';

const log = createLogger('sim');

export const SIM_SYSTEM_ID = 1;
export const SIM_COMPONENT_ID = 1;
const GIMBAL_DEVICE_ID = 1;

const PHYSICS_INTERVAL_MS = 20;
const HEARTBEAT_INTERVAL_MS = 1000;
const POSITION_INTERVAL_MS = 100;
const GIMBAL_INTERVAL_MS = 200;
const STATUS_INTERVAL_MS = 500;
const HOME_INTERVAL_MS = 5000;
const STATUS_TEXT_MAX_CHARS = 50;

const { MavCmd, MavResult, MavFrame } = common;
type MavResult = common.MavResult;

export interface SimOptions {
  target: { host: string; port: number };
  home: SimHome;
  /** Simulated seconds per real second. */
  speedFactor: number;
}

export type SimEvent =
  { event: 'ready'; localPort: number } | { event: 'gcs'; systemId: number; componentId: number };

/** A command from COMMAND_LONG or COMMAND_INT, with positions in degrees. */
interface SimCommand {
  command: number;
  params: [number, number, number, number];
  frame: common.MavFrame;
  latDeg: number;
  lonDeg: number;
  z: number;
}

export class SimAutopilot {
  readonly vehicle: SimVehicle;
  private readonly encoder = new MavlinkEncoder(SIM_SYSTEM_ID, SIM_COMPONENT_ID);
  private readonly decoder: MavlinkDecoder;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly gcsSeen = new Set<string>();
  private readonly bootMs = performance.now();
  private peer: { address: string; port: number };
  private lastStepMs = performance.now();
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: SimOptions,
    private readonly onEvent: (event: SimEvent) => void,
  ) {
    this.peer = { address: options.target.host, port: options.target.port };
    this.vehicle = new SimVehicle(options.home, (severity, text) => this.sendText(severity, text));
    this.decoder = new MavlinkDecoder((received) => this.receive(received));
  }

  static async start(
    options: SimOptions,
    onEvent: (event: SimEvent) => void,
  ): Promise<SimAutopilot> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const sim = new SimAutopilot(socket, options, onEvent);
    socket.on('error', (error) => log.warn(`socket: ${error.message}`));
    socket.on('message', (chunk, remote) => {
      sim.peer = { address: remote.address, port: remote.port };
      sim.decoder.push(chunk);
    });
    sim.startTimers();
    const { home } = options;
    log.info(
      `ArduCopter simulator on 127.0.0.1:${socket.address().port}, sending to ` +
        `${options.target.host}:${options.target.port}, home ${home.latDeg},${home.lonDeg},` +
        `${home.altitudeMslM} m, speed x${options.speedFactor}`,
    );
    onEvent({ event: 'ready', localPort: socket.address().port });
    sim.sendText(common.MavSeverity.INFO, 'ArduCopter V4.6.0 (Ursa simulator)');
    return sim;
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.decoder.dispose();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private startTimers(): void {
    const every = (intervalMs: number, action: () => void): void => {
      this.timers.push(
        setInterval(() => {
          try {
            action();
          } catch (error) {
            log.error(`simulator tick failed: ${error instanceof Error ? error.stack : error}`);
          }
        }, intervalMs),
      );
    };
    every(PHYSICS_INTERVAL_MS, () => this.stepPhysics());
    every(HEARTBEAT_INTERVAL_MS, () => this.sendHeartbeat());
    every(POSITION_INTERVAL_MS, () => {
      this.sendGlobalPosition();
      this.sendAttitude();
    });
    every(GIMBAL_INTERVAL_MS, () => this.sendGimbal());
    every(STATUS_INTERVAL_MS, () => {
      this.sendSysStatus();
      this.sendGpsRaw();
      this.sendBatteryStatus();
    });
    every(HOME_INTERVAL_MS, () => this.sendHome());
    this.sendHeartbeat();
    this.sendHome();
  }

  private stepPhysics(): void {
    const nowMs = performance.now();
    const dtS = ((nowMs - this.lastStepMs) / 1000) * this.options.speedFactor;
    this.lastStepMs = nowMs;
    // Small steps keep the kinematics stable after a stall or at high speed factors.
    const steps = Math.max(1, Math.ceil(dtS / 0.02));
    for (let i = 0; i < steps; i++) this.vehicle.step(dtS / steps);
  }

  private get timeBootMs(): number {
    return Math.round(performance.now() - this.bootMs) >>> 0;
  }

  private receive(received: ReceivedMessage): void {
    const { message, systemId, componentId } = received;
    if (message instanceof minimal.Heartbeat) {
      this.noteGcs(message, systemId, componentId);
    } else if (message instanceof common.CommandLong) {
      if (!this.addressedToUs(message.targetSystem, message.targetComponent)) return;
      const result = this.execute(fromCommandLong(message));
      this.ack(message.command, result, systemId, componentId);
    } else if (message instanceof common.CommandInt) {
      if (!this.addressedToUs(message.targetSystem, message.targetComponent)) return;
      const result = this.execute(fromCommandInt(message));
      this.ack(message.command, result, systemId, componentId);
    } else if (message instanceof common.SetPositionTargetGlobalInt) {
      if (!this.addressedToUs(message.targetSystem, message.targetComponent)) return;
      this.positionTarget(message);
    } else if (message instanceof common.RequestDataStream) {
      log.debug(`stream ${message.reqStreamId} requested at ${message.reqMessageRate} Hz`);
    }
  }

  private noteGcs(heartbeat: minimal.Heartbeat, systemId: number, componentId: number): void {
    if (heartbeat.type !== minimal.MavType.GCS) return;
    const key = `${systemId}/${componentId}`;
    if (this.gcsSeen.has(key)) return;
    this.gcsSeen.add(key);
    log.info(`ground station ${key} heard`);
    this.onEvent({ event: 'gcs', systemId, componentId });
  }

  private addressedToUs(targetSystem: number, targetComponent: number): boolean {
    return (
      (targetSystem === 0 || targetSystem === SIM_SYSTEM_ID) &&
      (targetComponent === 0 || targetComponent === SIM_COMPONENT_ID)
    );
  }

  private execute(command: SimCommand): MavResult {
    const vehicle = this.vehicle;
    const [p1, p2, p3] = command.params;
    const name = MavCmd[command.command] ?? `MAV_CMD ${command.command}`;
    let result: MavResult;
    switch (command.command) {
      case MavCmd.COMPONENT_ARM_DISARM:
        if (p1 === 1) result = vehicle.arm();
        else if (p1 === 0) result = vehicle.disarm(p2 === FORCE_DISARM_MAGIC);
        else result = MavResult.UNSUPPORTED;
        break;
      case MavCmd.NAV_TAKEOFF:
        // ArduCopter takes a takeoff altitude only relative to home.
        if (command.frame !== MavFrame.GLOBAL_RELATIVE_ALT) result = MavResult.DENIED;
        else result = vehicle.takeoff(command.z);
        break;
      case MavCmd.DO_SET_MODE:
        result =
          (p1 & minimal.MavModeFlag.CUSTOM_MODE_ENABLED) !== 0
            ? vehicle.setMode(p2)
            : MavResult.DENIED;
        break;
      case MavCmd.DO_REPOSITION: {
        const altitudeRelM = this.relativeAltitude(command.frame, command.z);
        const changeMode = (p2 & common.MavDoRepositionFlags.CHANGE_MODE) !== 0;
        result =
          altitudeRelM === null
            ? MavResult.DENIED
            : vehicle.reposition({ ...location(command), altitudeRelM }, changeMode);
        break;
      }
      case MavCmd.DO_SET_ROI_LOCATION: {
        const altitudeRelM = this.relativeAltitude(command.frame, command.z);
        result =
          altitudeRelM === null
            ? MavResult.DENIED
            : vehicle.setRegionOfInterest({
                ...location(command),
                altitudeMslM: altitudeRelM + this.options.home.altitudeMslM,
              });
        break;
      }
      case MavCmd.DO_SET_ROI_NONE:
        result = vehicle.setRegionOfInterest(null);
        break;
      case MavCmd.DO_MOUNT_CONTROL:
        // Roll (param2) is held level; param7 is the mount mode.
        result = vehicle.mountControl(p1, p3, command.z);
        break;
      case MavCmd.NAV_RETURN_TO_LAUNCH:
        result = vehicle.setMode(ARDUCOPTER_MODES.RTL);
        break;
      case MavCmd.NAV_LAND:
        result = vehicle.setMode(ARDUCOPTER_MODES.LAND);
        break;
      case MavCmd.NAV_LOITER_UNLIM:
        result = vehicle.setMode(ARDUCOPTER_MODES.LOITER);
        break;
      case MavCmd.SET_MESSAGE_INTERVAL:
        result = MavResult.ACCEPTED;
        break;
      case MavCmd.REQUEST_MESSAGE:
        if (p1 === common.HomePosition.MSG_ID) this.sendHome();
        if (p1 === minimal.Heartbeat.MSG_ID) this.sendHeartbeat();
        result = MavResult.ACCEPTED;
        break;
      default:
        result = MavResult.UNSUPPORTED;
    }
    log.info(`${name} -> ${MavResult[result]} (${vehicle.describe()})`);
    return result;
  }

  private positionTarget(message: common.SetPositionTargetGlobalInt): void {
    if ((message.typeMask & common.PositionTargetTypemask.X_IGNORE) !== 0) {
      log.debug('SET_POSITION_TARGET_GLOBAL_INT without a position is not simulated');
      return;
    }
    const altitudeRelM = this.relativeAltitude(message.coordinateFrame, message.alt);
    if (altitudeRelM === null) return;
    const target = { latDeg: message.latInt / 1e7, lonDeg: message.lonInt / 1e7, altitudeRelM };
    if (!this.vehicle.setPositionTarget(target))
      log.debug('position target ignored outside GUIDED');
  }

  /** Altitude above home for the global frames ArduCopter accepts; null for any other. */
  private relativeAltitude(frame: common.MavFrame, z: number): number | null {
    switch (frame) {
      case MavFrame.GLOBAL:
      case MavFrame.GLOBAL_INT:
        return z - this.options.home.altitudeMslM;
      case MavFrame.GLOBAL_RELATIVE_ALT:
      case MavFrame.GLOBAL_RELATIVE_ALT_INT:
      // Flat ground at home altitude: terrain-relative is home-relative.
      case MavFrame.GLOBAL_TERRAIN_ALT:
      case MavFrame.GLOBAL_TERRAIN_ALT_INT:
        return z;
      default:
        return null;
    }
  }

  private ack(
    command: common.MavCmd,
    result: MavResult,
    toSystem: number,
    toComponent: number,
  ): void {
    this.send(
      build(common.CommandAck, {
        command,
        result,
        progress: 0,
        resultParam2: 0,
        targetSystem: toSystem,
        targetComponent: toComponent,
      }),
    );
  }

  private sendHeartbeat(): void {
    const vehicle = this.vehicle;
    const flags = minimal.MavModeFlag;
    // ArduCopter's GCS_MAVLINK_Copter::base_mode().
    let baseMode = flags.CUSTOM_MODE_ENABLED | flags.STABILIZE_ENABLED | flags.MANUAL_INPUT_ENABLED;
    if (vehicle.usesPositionControl) baseMode |= flags.GUIDED_ENABLED;
    if (vehicle.armed) baseMode |= flags.SAFETY_ARMED;
    this.send(
      build(minimal.Heartbeat, {
        type: minimal.MavType.QUADROTOR,
        autopilot: minimal.MavAutopilot.ARDUPILOTMEGA,
        baseMode: baseMode as minimal.MavModeFlag,
        customMode: vehicle.modeNumber,
        systemStatus: vehicle.armed ? minimal.MavState.ACTIVE : minimal.MavState.STANDBY,
        mavlinkVersion: 3,
      }),
    );
  }

  private sendGlobalPosition(): void {
    const vehicle = this.vehicle;
    const position = vehicle.position;
    this.send(
      build(common.GlobalPositionInt, {
        timeBootMs: this.timeBootMs,
        lat: Math.round(position.latDeg * 1e7),
        lon: Math.round(position.lonDeg * 1e7),
        alt: Math.round(position.altitudeMslM * 1000),
        relativeAlt: Math.round(position.altitudeRelM * 1000),
        vx: Math.round(vehicle.velocityNorthMps * 100),
        vy: Math.round(vehicle.velocityEastMps * 100),
        vz: Math.round(-vehicle.velocityUpMps * 100),
        hdg: Math.round(vehicle.yawDeg * 100) % 36000,
      }),
    );
  }

  private sendAttitude(): void {
    const vehicle = this.vehicle;
    const rad = (deg: number): number => (deg * Math.PI) / 180;
    this.send(
      build(common.Attitude, {
        timeBootMs: this.timeBootMs,
        roll: rad(vehicle.rollDeg),
        pitch: rad(vehicle.pitchDeg),
        yaw: rad(vehicle.yawDeg > 180 ? vehicle.yawDeg - 360 : vehicle.yawDeg),
        rollspeed: 0,
        pitchspeed: 0,
        yawspeed: rad(vehicle.yawRateDegS),
      }),
    );
  }

  private sendSysStatus(): void {
    const vehicle = this.vehicle;
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
    this.send(
      build(common.SysStatus, {
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
      }),
    );
  }

  private sendGpsRaw(): void {
    const vehicle = this.vehicle;
    const position = vehicle.position;
    const courseDeg =
      (Math.atan2(vehicle.velocityEastMps, vehicle.velocityNorthMps) * 180) / Math.PI;
    this.send(
      build(common.GpsRawInt, {
        timeUsec: BigInt(Date.now()) * 1000n,
        fixType: common.GpsFixType.GPS_FIX_TYPE_3D_FIX,
        lat: Math.round(position.latDeg * 1e7),
        lon: Math.round(position.lonDeg * 1e7),
        alt: Math.round(position.altitudeMslM * 1000),
        eph: 70,
        epv: 120,
        vel: Math.round(vehicle.groundSpeedMps * 100),
        cog: Math.round((((courseDeg % 360) + 360) % 360) * 100) % 36000,
        satellitesVisible: 14,
        altEllipsoid: 0,
        hAcc: 800,
        vAcc: 1200,
        velAcc: 200,
        hdgAcc: 0,
        yaw: 0,
      }),
    );
  }

  private sendBatteryStatus(): void {
    const vehicle = this.vehicle;
    // Without cell monitoring ArduPilot reports the pack voltage as the first cell.
    const voltages = [Math.round(vehicle.batteryVoltageV * 1000), ...Array<number>(9).fill(0xffff)];
    this.send(
      build(common.BatteryStatus, {
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
      }),
    );
  }

  private sendHome(): void {
    const home = this.options.home;
    this.send(
      build(common.HomePosition, {
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
        timeUsec: BigInt(Date.now()) * 1000n,
      }),
    );
  }

  private sendGimbal(): void {
    const vehicle = this.vehicle;
    this.send(
      build(ardupilotmega.MountStatus, {
        targetSystem: 0,
        targetComponent: 0,
        pointingA: Math.round(vehicle.gimbalPitchDeg * 100),
        pointingB: 0,
        pointingC: Math.round(vehicle.gimbalYawDeg * 100),
        mountMode: vehicle.gimbalTracksRoi
          ? common.MavMountMode.GPS_POINT
          : common.MavMountMode.MAVLINK_TARGETING,
      }),
    );
    const flags = common.GimbalDeviceFlags;
    this.send(
      build(common.GimbalDeviceAttitudeStatus, {
        targetSystem: 0,
        targetComponent: 0,
        timeBootMs: this.timeBootMs,
        q: quaternionFromEulerDeg(0, vehicle.gimbalPitchDeg, vehicle.gimbalYawDeg),
        angularVelocityX: 0,
        angularVelocityY: 0,
        angularVelocityZ: 0,
        failureFlags: 0 as common.GimbalDeviceErrorFlags,
        flags: (flags.ROLL_LOCK |
          flags.PITCH_LOCK |
          flags.YAW_IN_VEHICLE_FRAME) as common.GimbalDeviceFlags,
        deltaYaw: (vehicle.yawDeg * Math.PI) / 180,
        deltaYawVelocity: 0,
        gimbalDeviceId: GIMBAL_DEVICE_ID,
      }),
    );
  }

  private sendText(severity: common.MavSeverity, text: string): void {
    // STATUSTEXT carries 50 ASCII characters.
    const ascii = text.replace(/[^\x20-\x7e]/g, '?').slice(0, STATUS_TEXT_MAX_CHARS);
    log.info(`STATUSTEXT: ${ascii}`);
    this.send(build(common.StatusText, { severity, text: ascii, id: 0, chunkSeq: 0 }));
  }

  private send(message: MavLinkData): void {
    if (this.closed) return;
    let frame: Buffer;
    try {
      frame = this.encoder.encode(message);
    } catch (error) {
      log.error(`could not encode ${message.constructor.name}: ${String(error)}`);
      return;
    }
    this.socket.send(frame, this.peer.port, this.peer.address, (error) => {
      if (error && !this.closed) log.warn(`send failed: ${error.message}`);
    });
  }
}

function fromCommandLong(message: common.CommandLong): SimCommand {
  return {
    command: message.command,
    params: [message._param1, message._param2, message._param3, message._param4],
    // ArduPilot reads positions in COMMAND_LONG as relative to home (mav_frame_for_command_long).
    frame: MavFrame.GLOBAL_RELATIVE_ALT,
    latDeg: message._param5,
    lonDeg: message._param6,
    z: message._param7,
  };
}

function fromCommandInt(message: common.CommandInt): SimCommand {
  return {
    command: message.command,
    params: [message._param1, message._param2, message._param3, message._param4],
    frame: message.frame,
    latDeg: message._param5 / 1e7,
    lonDeg: message._param6 / 1e7,
    z: message._param7,
  };
}

function location(command: SimCommand): { latDeg: number; lonDeg: number } {
  return { latDeg: command.latDeg, lonDeg: command.lonDeg };
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
