// The simulator's MAVLink face: it speaks like ArduCopter (system 1, component 1) over UDP on
// 127.0.0.1, sends telemetry at ArduPilot-like rates, and answers commands with COMMAND_ACK.
// It sends to --out until someone talks to it, then replies to whoever spoke last.

import dgram from 'node:dgram';

import { common, minimal, type MavLinkData } from 'node-mavlink';

import { ARDUCOPTER_MODES } from '../../core/ardupilot-modes';
import { createLogger } from '../../core/log';
import { MavlinkDecoder, MavlinkEncoder, type ReceivedMessage } from '../mavlink/codec';
import * as telemetry from './telemetry';
import { FORCE_DISARM_MAGIC, SimVehicle, type SimHome } from './vehicle';

const log = createLogger('sim');

export const SIM_SYSTEM_ID = 1;
export const SIM_COMPONENT_ID = 1;

const PHYSICS_INTERVAL_MS = 20;
const HEARTBEAT_INTERVAL_MS = 1000;
const POSITION_INTERVAL_MS = 100;
const GIMBAL_INTERVAL_MS = 200;
const STATUS_INTERVAL_MS = 500;
const HOME_INTERVAL_MS = 5000;

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
      this.send(telemetry.globalPosition(this.vehicle, this.timeBootMs));
      this.send(telemetry.attitude(this.vehicle, this.timeBootMs));
    });
    every(GIMBAL_INTERVAL_MS, () => {
      this.send(telemetry.mountStatus(this.vehicle));
      this.send(telemetry.gimbalDeviceAttitude(this.vehicle, this.timeBootMs));
    });
    every(STATUS_INTERVAL_MS, () => {
      this.send(telemetry.sysStatus(this.vehicle));
      this.send(telemetry.gpsRaw(this.vehicle, Date.now()));
      this.send(telemetry.batteryStatus(this.vehicle));
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
    systemId: number,
    componentId: number,
  ): void {
    this.send(telemetry.commandAck(command, result, { systemId, componentId }));
  }

  private sendHeartbeat(): void {
    this.send(telemetry.heartbeat(this.vehicle));
  }

  private sendHome(): void {
    this.send(telemetry.homePosition(this.options.home, Date.now()));
  }

  private sendText(severity: common.MavSeverity, text: string): void {
    const message = telemetry.statusText(severity, text);
    log.info(`STATUSTEXT: ${message.text}`);
    this.send(message);
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
