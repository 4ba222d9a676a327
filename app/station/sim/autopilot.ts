// The simulator's MAVLink face: it speaks like ArduCopter (system 1, component 1) over UDP on
// 127.0.0.1: telemetry at the rates asked for, commands answered with COMMAND_ACK, missions,
// fence and rally lists, parameters, MAVLink 2 signing, and the GCS failsafe. It sends to --out
// until someone talks to it, then replies to whoever spoke last, through a lossy radio if asked.

import dgram from 'node:dgram';

import { ardupilotmega, common, minimal, type MavLinkData } from 'node-mavlink';

import { ARDUCOPTER_MODES, arduCopterModeName } from '../../core/ardupilot-modes';
import { createLogger } from '../../core/log';
import type { SimBearTruth } from '../../core/protocol';
import { MavlinkDecoder, MavlinkEncoder, type ReceivedMessage } from '../mavlink/codec';
import type { MissionItem, MissionType } from '../mavlink/mission';
import {
  frameSigner,
  isDisablingKey,
  MemorySigningClock,
  SignatureVerifier,
  type SigningCounts,
} from '../mavlink/signing';
import type { VehicleAddress } from '../mavlink/vehicle-model';
import { LossyChannel, NO_LOSS, type LossCounts, type LossOptions } from './lossy';
import { SimMissionServer } from './mission-server';
import { SimParams, type SetResult } from './params';
import * as telemetry from './telemetry';
import { FORCE_DISARM_MAGIC, SimVehicle, type SimHome } from './vehicle';

const log = createLogger('sim');

export const SIM_SYSTEM_ID = 1;
export const SIM_COMPONENT_ID = 1;

const TICK_INTERVAL_MS = 20;
const PHYSICS_STEP_S = 0.02;
/** PARAM_VALUEs sent per tick while streaming the table (ArduPilot paces by bandwidth). */
const PARAMS_PER_TICK = 10;
/** A repeat of a command within this long, with the same parameters, is the same command. */
const DUPLICATE_WINDOW_MS = 10_000;
const CALIBRATION_MS = 2000;
const CALIBRATION_REPORT_MS = 500;

const { MavCmd, MavResult, MavFrame } = common;
type MavResult = common.MavResult;

export interface SimOptions {
  target: { host: string; port: number };
  home: SimHome;
  /** Simulated seconds per real second. */
  speedFactor: number;
  /** The radio between the simulator and the station; perfect when absent. */
  loss?: LossOptions;
  /** A signing key to start with, as if set up before. */
  signingKey?: Buffer | null;
  /** False answers SET_MESSAGE_INTERVAL with UNSUPPORTED, as old firmware does. */
  messageIntervals?: boolean;
}

export type SimEvent =
  | { event: 'ready'; localPort: number }
  | { event: 'gcs'; systemId: number; componentId: number }
  | {
      event: 'command';
      command: string;
      params: number[];
      confirmation: number;
      result: string;
      /** False for a repeat of a command already carried out: it was answered again only. */
      executed: boolean;
    }
  | { event: 'mission-stored'; missionType: MissionType; items: MissionItem[] }
  | { event: 'param-set'; name: string; value: number | null; result: SetResult }
  | { event: 'signing'; enabled: boolean }
  | {
      event: 'refused';
      reason: 'unsigned' | 'badSignature' | 'replayed';
      messageId: number;
      counts: SigningCounts;
    }
  | { event: 'failsafe'; kind: 'gcs'; action: string }
  | { event: 'failsafe-cleared'; kind: 'gcs' }
  | { event: 'mode'; mode: string }
  | { event: 'rate'; messageId: number; intervalMs: number | null; via: string }
  /** The bear's true position, once a second. */
  | ({ event: 'bear' } & SimBearTruth);

/** A command from COMMAND_LONG or COMMAND_INT, with positions in degrees. */
interface SimCommand {
  command: number;
  params: [number, number, number, number];
  frame: common.MavFrame;
  latDeg: number;
  lonDeg: number;
  z: number;
}

interface Stream {
  defaultMs: number;
  intervalMs: number | null;
  nextDueMs: number;
  send: () => void;
}

/** What a command came to, kept to answer its retransmissions the same way. */
interface Answered {
  fingerprint: string;
  atMs: number;
  answer: () => { result: MavResult; progressPct: number };
}

interface Calibration {
  to: VehicleAddress;
  startedMs: number;
  lastReportMs: number;
  done: boolean;
}

export class SimAutopilot {
  readonly vehicle: SimVehicle;
  readonly params: SimParams;
  private readonly missions: SimMissionServer;
  private readonly encoder = new MavlinkEncoder(SIM_SYSTEM_ID, SIM_COMPONENT_ID);
  private readonly decoder: MavlinkDecoder;
  private readonly channel: LossyChannel;
  private readonly signingClock = new MemorySigningClock();
  private readonly verifier: SignatureVerifier;
  private signingKey: Buffer | null = null;
  private readonly streams = new Map<number, Stream>();
  private readonly answered = new Map<string, Answered>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly gcsSeen = new Set<string>();
  private readonly bootMs = performance.now();
  private peer: { address: string; port: number };
  private lastStepMs = performance.now();
  private lastGcsHeartbeatMs: number | null = null;
  private gcsFailsafe = false;
  private lastModeNumber: number;
  private paramStream: { next: number; to: VehicleAddress } | null = null;
  private calibration: Calibration | null = null;
  private closed = false;

  private constructor(
    private readonly socket: dgram.Socket,
    private readonly options: SimOptions,
    private readonly onEvent: (event: SimEvent) => void,
  ) {
    this.peer = { address: options.target.host, port: options.target.port };
    this.params = new SimParams();
    this.vehicle = new SimVehicle(
      options.home,
      (severity, text) => this.sendText(severity, text),
      this.params,
      (event) => {
        if (event.kind === 'current') this.sendMissionCurrent();
        else this.send(telemetry.missionItemReached(event.seq));
      },
    );
    this.lastModeNumber = this.vehicle.modeNumber;
    this.missions = new SimMissionServer({
      send: (message) => this.send(message),
      stored: (type, items) => this.missionStored(type, items),
      nowMs: () => performance.now(),
    });
    this.channel = new LossyChannel(options.loss ?? NO_LOSS);
    this.verifier = new SignatureVerifier(
      () => (this.signingKey ? [this.signingKey] : null),
      this.signingClock,
      (verdict, frame) => {
        if (verdict === 'accepted') return;
        this.onEvent({
          event: 'refused',
          reason: verdict,
          messageId: frame.messageId,
          counts: this.verifier.counts,
        });
      },
    );
    this.decoder = new MavlinkDecoder((received) => this.receive(received));
    this.decoder.setGate((frame) => this.verifier.check(frame).verdict === 'accepted');
    if (options.signingKey) this.setSigningKey(options.signingKey, 'from the command line');
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
      sim.channel.pass(() => {
        sim.peer = { address: remote.address, port: remote.port };
        sim.decoder.push(chunk);
      });
    });
    sim.startTimers();
    const { home, loss } = options;
    const radio = loss && !sim.channel.perfect ? describeLoss(loss) : 'a perfect link';
    log.info(
      `ArduCopter simulator on 127.0.0.1:${socket.address().port}, sending to ` +
        `${options.target.host}:${options.target.port}, home ${home.latDeg},${home.lonDeg},` +
        `${home.altitudeMslM} m, speed x${options.speedFactor}, ${radio}, ` +
        `${sim.params.count} parameters`,
    );
    onEvent({ event: 'ready', localPort: socket.address().port });
    sim.sendText(common.MavSeverity.INFO, 'ArduCopter V4.6.0 (Ursa simulator)');
    return sim;
  }

  get lossCounts(): LossCounts {
    return this.channel.counts;
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    this.channel.dispose();
    this.decoder.dispose();
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  private startTimers(): void {
    const v = this.vehicle;
    const stream = (messageId: number, defaultMs: number, send: () => void): void => {
      this.streams.set(messageId, { defaultMs, intervalMs: defaultMs, nextDueMs: 0, send });
    };
    stream(minimal.Heartbeat.MSG_ID, 1000, () => this.sendHeartbeat());
    stream(common.GlobalPositionInt.MSG_ID, 100, () =>
      this.send(telemetry.globalPosition(v, this.timeBootMs)),
    );
    stream(common.Attitude.MSG_ID, 100, () => this.send(telemetry.attitude(v, this.timeBootMs)));
    stream(ardupilotmega.MountStatus.MSG_ID, 200, () => this.send(telemetry.mountStatus(v)));
    stream(common.GimbalDeviceAttitudeStatus.MSG_ID, 200, () =>
      this.send(telemetry.gimbalDeviceAttitude(v, this.timeBootMs)),
    );
    stream(common.SysStatus.MSG_ID, 500, () => this.send(telemetry.sysStatus(v)));
    stream(common.GpsRawInt.MSG_ID, 500, () => this.send(telemetry.gpsRaw(v, Date.now())));
    stream(common.BatteryStatus.MSG_ID, 500, () => this.send(telemetry.batteryStatus(v)));
    stream(common.HomePosition.MSG_ID, 5000, () => this.sendHome());
    stream(common.MissionCurrent.MSG_ID, 1000, () => this.sendMissionCurrent());
    this.timers.push(
      setInterval(() => {
        try {
          this.tick();
        } catch (error) {
          log.error(`simulator tick failed: ${error instanceof Error ? error.stack : error}`);
        }
      }, TICK_INTERVAL_MS),
    );
    this.tick();
  }

  private tick(): void {
    const nowMs = performance.now();
    this.stepPhysics(nowMs);
    for (const entry of this.streams.values()) {
      if (entry.intervalMs === null || nowMs < entry.nextDueMs) continue;
      entry.nextDueMs = nowMs + entry.intervalMs;
      entry.send();
    }
    this.missions.tick();
    this.streamParams();
    this.advanceCalibration(nowMs);
    this.checkGcsFailsafe(nowMs);
    if (this.vehicle.modeNumber !== this.lastModeNumber) {
      this.lastModeNumber = this.vehicle.modeNumber;
      this.onEvent({ event: 'mode', mode: arduCopterModeName(this.lastModeNumber) });
      this.sendHeartbeat();
    }
  }

  private stepPhysics(nowMs: number): void {
    const dtS = ((nowMs - this.lastStepMs) / 1000) * this.options.speedFactor;
    this.lastStepMs = nowMs;
    // Small steps keep the kinematics stable after a stall or at high speed factors.
    const steps = Math.max(1, Math.ceil(dtS / PHYSICS_STEP_S));
    for (let i = 0; i < steps; i++) this.vehicle.step(dtS / steps);
  }

  private get timeBootMs(): number {
    return Math.round(performance.now() - this.bootMs) >>> 0;
  }

  private receive(received: ReceivedMessage): void {
    const { message, systemId, componentId } = received;
    const from = { systemId, componentId };
    if (message instanceof minimal.Heartbeat) {
      this.noteGcs(message, from);
      return;
    }
    const addressed = message as unknown as { targetSystem?: number; targetComponent?: number };
    if (
      addressed.targetSystem !== undefined &&
      !this.addressedToUs(addressed.targetSystem, addressed.targetComponent ?? 0)
    ) {
      return;
    }
    if (message instanceof common.CommandLong) {
      this.handleCommand(fromCommandLong(message), message.confirmation, from, true);
    } else if (message instanceof common.CommandInt) {
      this.handleCommand(fromCommandInt(message), 0, from, false);
    } else if (message instanceof common.SetPositionTargetGlobalInt) {
      this.positionTarget(message);
    } else if (message instanceof common.RequestDataStream) {
      this.requestDataStream(message);
    } else if (message instanceof common.ParamRequestList) {
      this.paramStream = { next: 0, to: from };
    } else if (message instanceof common.ParamRequestRead) {
      this.paramRead(message);
    } else if (message instanceof common.ParamSet) {
      this.paramSet(message);
    } else if (message instanceof common.SetupSigning) {
      this.setupSigning(message);
    } else {
      this.missions.handle(message, from);
    }
  }

  private noteGcs(heartbeat: minimal.Heartbeat, from: VehicleAddress): void {
    if (heartbeat.type !== minimal.MavType.GCS) return;
    if (from.systemId === this.params.get('SYSID_MYGCS')) {
      this.lastGcsHeartbeatMs = performance.now();
      if (this.gcsFailsafe) {
        this.gcsFailsafe = false;
        this.sendText(common.MavSeverity.INFO, 'GCS Failsafe Cleared');
        this.onEvent({ event: 'failsafe-cleared', kind: 'gcs' });
      }
    }
    const key = `${from.systemId}/${from.componentId}`;
    if (this.gcsSeen.has(key)) return;
    this.gcsSeen.add(key);
    log.info(`ground station ${key} heard`);
    this.onEvent({ event: 'gcs', systemId: from.systemId, componentId: from.componentId });
  }

  private addressedToUs(targetSystem: number, targetComponent: number): boolean {
    return (
      (targetSystem === 0 || targetSystem === SIM_SYSTEM_ID) &&
      (targetComponent === 0 || targetComponent === SIM_COMPONENT_ID)
    );
  }

  /**
   * Carries out a command once. A COMMAND_LONG sent again with confirmation above 0 and the same
   * parameters is the same command (the ACK was lost): it is answered again, not run again.
   * COMMAND_INT has no confirmation field: like ArduPilot, every copy is carried out (the
   * commands it carries, positions and regions of interest, do the same thing twice).
   */
  private handleCommand(
    command: SimCommand,
    confirmation: number,
    from: VehicleAddress,
    long: boolean,
  ): void {
    const key = `${from.systemId}/${from.componentId}/${command.command}`;
    const fingerprint = JSON.stringify([
      command.params,
      command.frame,
      command.latDeg,
      command.lonDeg,
      command.z,
    ]);
    const nowMs = performance.now();
    const previous = this.answered.get(key);
    const repeat =
      long &&
      confirmation > 0 &&
      previous !== undefined &&
      previous.fingerprint === fingerprint &&
      nowMs - previous.atMs < DUPLICATE_WINDOW_MS;
    let answer: () => { result: MavResult; progressPct: number };
    if (repeat) {
      answer = previous.answer;
      previous.atMs = nowMs;
    } else {
      answer = this.execute(command, from);
      this.answered.set(key, { fingerprint, atMs: nowMs, answer });
    }
    const { result, progressPct } = answer();
    this.onEvent({
      event: 'command',
      command: MavCmd[command.command] ?? String(command.command),
      params: [...command.params, command.latDeg, command.lonDeg, command.z],
      confirmation,
      result: MavResult[result],
      executed: !repeat,
    });
    this.send(telemetry.commandAck(command.command, result, from, progressPct));
  }

  private execute(
    command: SimCommand,
    from: VehicleAddress,
  ): () => { result: MavResult; progressPct: number } {
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
      case MavCmd.DO_CHANGE_SPEED:
        result = vehicle.changeSpeed(p2);
        break;
      case MavCmd.DO_SET_RELAY:
        // The simulated airframe carries a speaker on its relays: switching one is all it does.
        result = p1 >= 0 && (p2 === 0 || p2 === 1) ? MavResult.ACCEPTED : MavResult.DENIED;
        break;
      case MavCmd.MISSION_START:
        result = vehicle.setMode(ARDUCOPTER_MODES.AUTO);
        break;
      case MavCmd.SET_MESSAGE_INTERVAL:
        result = this.setMessageInterval(p1, p2);
        break;
      case MavCmd.REQUEST_MESSAGE:
        result = this.requestMessage(p1);
        break;
      case MavCmd.PREFLIGHT_CALIBRATION:
        return this.startCalibration(command, from);
      default:
        result = MavResult.UNSUPPORTED;
    }
    log.info(`${name} -> ${MavResult[result]} (${vehicle.describe()})`);
    const fixed = { result, progressPct: 0 };
    return () => fixed;
  }

  /** Barometer calibration runs a while: IN_PROGRESS with progress, then ACCEPTED. */
  private startCalibration(
    command: SimCommand,
    from: VehicleAddress,
  ): () => { result: MavResult; progressPct: number } {
    const [gyro, magnetometer, pressure] = command.params;
    if (gyro !== 0 || magnetometer !== 0 || pressure !== 1) {
      return () => ({ result: MavResult.UNSUPPORTED, progressPct: 0 });
    }
    if (this.vehicle.armed) return () => ({ result: MavResult.FAILED, progressPct: 0 });
    if (this.calibration && !this.calibration.done) {
      return () => ({ result: MavResult.TEMPORARILY_REJECTED, progressPct: 0 });
    }
    const nowMs = performance.now();
    const calibration: Calibration = {
      to: from,
      startedMs: nowMs,
      lastReportMs: nowMs,
      done: false,
    };
    this.calibration = calibration;
    this.sendText(common.MavSeverity.INFO, 'Calibrating barometer');
    return () =>
      calibration.done
        ? { result: MavResult.ACCEPTED, progressPct: 100 }
        : { result: MavResult.IN_PROGRESS, progressPct: calibrationProgress(calibration) };
  }

  private advanceCalibration(nowMs: number): void {
    const calibration = this.calibration;
    if (!calibration || calibration.done) return;
    const command = MavCmd.PREFLIGHT_CALIBRATION;
    if (nowMs - calibration.startedMs >= CALIBRATION_MS) {
      calibration.done = true;
      this.sendText(common.MavSeverity.INFO, 'Barometer calibration complete');
      this.send(telemetry.commandAck(command, MavResult.ACCEPTED, calibration.to, 100));
    } else if (nowMs - calibration.lastReportMs >= CALIBRATION_REPORT_MS) {
      calibration.lastReportMs = nowMs;
      const progressPct = calibrationProgress(calibration);
      this.send(telemetry.commandAck(command, MavResult.IN_PROGRESS, calibration.to, progressPct));
    }
  }

  private setMessageInterval(messageId: number, intervalUs: number): MavResult {
    if (this.options.messageIntervals === false) return MavResult.UNSUPPORTED;
    const entry = this.streams.get(messageId);
    if (!entry) return MavResult.FAILED;
    if (intervalUs === -1) entry.intervalMs = null;
    else if (intervalUs === 0) entry.intervalMs = entry.defaultMs;
    else if (intervalUs > 0) entry.intervalMs = Math.max(TICK_INTERVAL_MS, intervalUs / 1000);
    else return MavResult.DENIED;
    entry.nextDueMs = 0;
    const via = 'SET_MESSAGE_INTERVAL';
    this.onEvent({ event: 'rate', messageId, intervalMs: entry.intervalMs, via });
    return MavResult.ACCEPTED;
  }

  /** ArduPilot's telemetry groups, as REQUEST_DATA_STREAM names them. */
  private requestDataStream(message: common.RequestDataStream): void {
    const { MavDataStream } = common;
    const groups: Record<number, number[]> = {
      [MavDataStream.EXTENDED_STATUS]: [
        common.SysStatus.MSG_ID,
        common.GpsRawInt.MSG_ID,
        common.MissionCurrent.MSG_ID,
      ],
      [MavDataStream.POSITION]: [common.GlobalPositionInt.MSG_ID],
      [MavDataStream.EXTRA1]: [common.Attitude.MSG_ID],
      [MavDataStream.EXTRA3]: [
        common.BatteryStatus.MSG_ID,
        ardupilotmega.MountStatus.MSG_ID,
        common.GimbalDeviceAttitudeStatus.MSG_ID,
      ],
    };
    const ids =
      message.reqStreamId === MavDataStream.ALL
        ? Object.values(groups).flat()
        : (groups[message.reqStreamId] ?? []);
    const on = message.startStop !== 0 && message.reqMessageRate > 0;
    for (const messageId of ids) {
      const entry = this.streams.get(messageId);
      if (!entry) continue;
      entry.intervalMs = on ? Math.max(TICK_INTERVAL_MS, 1000 / message.reqMessageRate) : null;
      entry.nextDueMs = 0;
      this.onEvent({
        event: 'rate',
        messageId,
        intervalMs: entry.intervalMs,
        via: 'REQUEST_DATA_STREAM',
      });
    }
  }

  private requestMessage(messageId: number): MavResult {
    const entry = this.streams.get(messageId);
    if (!entry) return MavResult.FAILED;
    entry.send();
    return MavResult.ACCEPTED;
  }

  private streamParams(): void {
    const stream = this.paramStream;
    if (!stream) return;
    for (let sent = 0; sent < PARAMS_PER_TICK && stream.next < this.params.count; sent++) {
      this.sendParam(stream.next++);
    }
    if (stream.next >= this.params.count) this.paramStream = null;
  }

  private sendParam(index: number): void {
    const entry = this.params.at(index);
    if (!entry) return;
    const { spec, value } = entry;
    this.send(telemetry.paramValue(spec.name, spec.type, value, index, this.params.count));
  }

  private paramRead(message: common.ParamRequestRead): void {
    const index =
      message.paramIndex >= 0 ? message.paramIndex : this.params.indexOf(message.paramId);
    if (index === null || !this.params.at(index)) {
      log.debug(`PARAM_REQUEST_READ for unknown ${message.paramId || message.paramIndex}`);
      return;
    }
    this.sendParam(index);
  }

  private paramSet(message: common.ParamSet): void {
    const name = message.paramId;
    const { result, value } = this.params.set(name, message.paramValue);
    this.onEvent({ event: 'param-set', name, value, result });
    if (result === 'unknown') {
      this.sendText(common.MavSeverity.WARNING, `Unknown parameter ${name}`);
      return;
    }
    if (result === 'read-only')
      this.sendText(common.MavSeverity.WARNING, `Param write denied (${name})`);
    log.info(`${name} ${result} to ${value}`);
    const index = this.params.indexOf(name);
    if (index !== null) this.sendParam(index);
  }

  private setupSigning(message: common.SetupSigning): void {
    const key = Buffer.from(message.secretKey);
    if (isDisablingKey(key)) {
      this.setSigningKey(null, 'by SETUP_SIGNING');
      return;
    }
    this.signingClock.observe(Number(message.initialTimestamp));
    this.setSigningKey(key, 'by SETUP_SIGNING');
  }

  private setSigningKey(key: Buffer | null, how: string): void {
    this.signingKey = key;
    this.encoder.setSigner(key ? frameSigner(key, 0, this.signingClock) : null);
    log.info(key ? `signing on (${how})` : `signing off (${how})`);
    this.onEvent({ event: 'signing', enabled: key !== null });
  }

  /**
   * ArduCopter's GCS failsafe (FS_GCS_ENABLE): once a ground station has been heard, no
   * heartbeat from SYSID_MYGCS for FS_GCS_TIMEOUT seconds while flying in GUIDED or AUTO.
   */
  private checkGcsFailsafe(nowMs: number): void {
    const action = this.params.get('FS_GCS_ENABLE');
    const vehicle = this.vehicle;
    if (action === 0 || this.gcsFailsafe || this.lastGcsHeartbeatMs === null) return;
    if (!vehicle.armed || vehicle.landed) return;
    const { GUIDED, AUTO, RTL, LAND } = ARDUCOPTER_MODES;
    if (vehicle.modeNumber !== GUIDED && vehicle.modeNumber !== AUTO) return;
    const timeoutMs = this.params.get('FS_GCS_TIMEOUT') * 1000;
    if (nowMs - this.lastGcsHeartbeatMs < timeoutMs) return;
    this.gcsFailsafe = true;
    // 1, 3 and 6 end in RTL here (no SmartRTL path, no DO_LAND_START); 4 and 5 land; 2 keeps
    // flying an AUTO mission.
    let mode: number | null = RTL;
    if (action === 4 || action === 5) mode = LAND;
    if (action === 2 && vehicle.modeNumber === AUTO) mode = null;
    this.sendText(common.MavSeverity.CRITICAL, 'GCS Failsafe');
    if (mode !== null) vehicle.setMode(mode);
    const words = mode === null ? 'continue' : arduCopterModeName(mode);
    log.warn(
      `GCS failsafe: no heartbeat for ${(nowMs - this.lastGcsHeartbeatMs).toFixed(0)} ms, ${words}`,
    );
    this.onEvent({ event: 'failsafe', kind: 'gcs', action: words });
  }

  private missionStored(type: MissionType, items: MissionItem[]): void {
    if (type === 'mission') this.vehicle.setMission(items);
    this.onEvent({ event: 'mission-stored', missionType: type, items });
  }

  private positionTarget(message: common.SetPositionTargetGlobalInt): void {
    if ((message.typeMask & common.PositionTargetTypemask.X_IGNORE) !== 0) {
      log.debug('SET_POSITION_TARGET_GLOBAL_INT without a position is not simulated');
      return;
    }
    const altitudeRelM = this.relativeAltitude(message.coordinateFrame, message.alt);
    if (altitudeRelM === null) return;
    const target = { latDeg: message.latInt / 1e7, lonDeg: message.lonInt / 1e7, altitudeRelM };
    if (!this.vehicle.setPositionTarget(target)) {
      log.debug('position target ignored outside GUIDED');
    }
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

  private sendHeartbeat(): void {
    this.send(telemetry.heartbeat(this.vehicle));
  }

  private sendHome(): void {
    this.send(telemetry.homePosition(this.options.home, Date.now()));
  }

  private sendMissionCurrent(): void {
    this.send(telemetry.missionCurrent(this.vehicle));
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
    this.channel.pass(() => {
      if (this.closed) return;
      this.socket.send(frame, this.peer.port, this.peer.address, (error) => {
        if (error && !this.closed) log.warn(`send failed: ${error.message}`);
      });
    });
  }
}

function calibrationProgress(calibration: Calibration): number {
  return Math.min(
    99,
    Math.floor(((performance.now() - calibration.startedMs) / CALIBRATION_MS) * 100),
  );
}

function describeLoss(loss: LossOptions): string {
  const parts = [
    `${Math.round(loss.lossProbability * 100)}% loss`,
    `${loss.latencyMs}+-${loss.jitterMs} ms latency`,
  ];
  if (loss.dropEveryS > 0) parts.push(`${loss.dropForS} s outage every ${loss.dropEveryS} s`);
  return `a lossy link (${parts.join(', ')}, seed ${loss.seed})`;
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
