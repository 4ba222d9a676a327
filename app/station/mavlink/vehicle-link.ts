// One vehicle over one link: the station's heartbeat, telemetry into a VehicleState, link-loss
// detection, and the commands the station flies with (ArduCopter flavour of MAVLink).

import { common, minimal, type MavLinkData } from 'node-mavlink';

import { arduCopterModeNumber } from '../../core/ardupilot-modes';
import type { Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type {
  CommandOutcome,
  LatLon,
  LinkStatus,
  StatusText,
  VehicleState,
} from '../../core/types';
import { build, MavlinkDecoder, MavlinkEncoder, type ReceivedMessage } from './codec';
import { CommandSender, type CommandRequest } from './commands';
import { Listeners } from './listeners';
import { commandOutcome, NOT_SENT } from './outcome';
import { openTransport, type Transport } from './transport';
import { formatLinkUri, parseLinkUri, type LinkSpec } from './uri';
import { MODEL_MESSAGE_IDS, VehicleModel } from './vehicle-model';

const log = createLogger('vehicle-link');

export const GCS_SYSTEM_ID = 255;
export const GCS_COMPONENT_ID = 190;

const DEFAULT_HEARTBEAT_TIMEOUT_MS = 3000;
const DEFAULT_ACK_TIMEOUT_MS = 1000;
const DEFAULT_COMMAND_ATTEMPTS = 4;
const GCS_HEARTBEAT_INTERVAL_MS = 1000;
const LINK_CHECK_INTERVAL_MS = 200;
/** onState fires at most this often (10 Hz). */
const STATE_INTERVAL_MS = 100;
/** Ask for streams again when position has not come for this long. */
const STREAM_RETRY_MS = 5000;
/** A PreArm/Arm STATUSTEXT this recent explains a refused arm. */
const ARM_REASON_WINDOW_MS = 3000;
const MAX_TAKEOFF_ALTITUDE_M = 500;

/** ArduPilot's telemetry groups and the rates (Hz) the station wants them at. */
const STREAM_RATES_HZ: ReadonlyArray<[common.MavDataStream, number]> = [
  [common.MavDataStream.EXTENDED_STATUS, 2], // SYS_STATUS, GPS_RAW_INT
  [common.MavDataStream.POSITION, 10], // GLOBAL_POSITION_INT
  [common.MavDataStream.EXTRA1, 10], // ATTITUDE
  [common.MavDataStream.EXTRA3, 2], // BATTERY_STATUS, gimbal attitude
];

const ACK_AND_MODEL_IDS: ReadonlySet<number> = new Set([
  ...MODEL_MESSAGE_IDS,
  common.CommandAck.MSG_ID,
]);

export interface VehicleLinkOptions {
  /** The link counts as lost after this long without a vehicle HEARTBEAT. */
  heartbeatTimeoutMs?: number;
  /** How long to wait for a COMMAND_ACK before sending again. */
  commandAckTimeoutMs?: number;
  /** How many times a command is sent, the first included, before it is a TIMEOUT. */
  commandAttempts?: number;
}

export class VehicleLink implements Disposable {
  readonly description: string;
  private readonly model = new VehicleModel();
  private readonly encoder = new MavlinkEncoder(GCS_SYSTEM_ID, GCS_COMPONENT_ID);
  private readonly decoder: MavlinkDecoder;
  private readonly commands: CommandSender;
  private readonly stateListeners = new Listeners<VehicleState>('vehicle state', log);
  private readonly statusTextListeners = new Listeners<StatusText>('status text', log);
  private readonly linkListeners = new Listeners<LinkStatus>('link status', log);
  private readonly heartbeatTimeoutMs: number;
  private readonly timers: NodeJS.Timeout[] = [];
  private transport: Transport | null = null;
  private stateTimer: NodeJS.Timeout | null = null;
  private lastStateEmitMs = 0;
  private lastHeartbeatMonoMs = 0;
  private lastPositionMonoMs: number | null = null;
  private lastStreamRequestMonoMs = 0;
  private reportedBadFrames = 0;
  private disposed = false;

  private constructor(
    private readonly spec: LinkSpec,
    options: VehicleLinkOptions,
  ) {
    this.description = formatLinkUri(spec);
    this.heartbeatTimeoutMs = positive(
      'heartbeatTimeoutMs',
      options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    );
    this.decoder = new MavlinkDecoder((received) => this.receive(received), ACK_AND_MODEL_IDS);
    this.commands = new CommandSender({
      send: (message) => this.sendMessage(message),
      ownSystemId: GCS_SYSTEM_ID,
      ownComponentId: GCS_COMPONENT_ID,
      ackTimeoutMs: positive(
        'commandAckTimeoutMs',
        options.commandAckTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
      ),
      attempts: Math.max(
        1,
        Math.round(
          positive('commandAttempts', options.commandAttempts ?? DEFAULT_COMMAND_ATTEMPTS),
        ),
      ),
    });
  }

  static async open(uri: string, options: VehicleLinkOptions = {}): Promise<VehicleLink> {
    const link = new VehicleLink(parseLinkUri(uri), options);
    try {
      await link.start();
    } catch (error) {
      await link.dispose();
      throw error;
    }
    return link;
  }

  /** The bound UDP port (udpin:HOST:0 picks one), or the TCP client's port while connected. */
  get localPort(): number | null {
    return this.transport?.localPort ?? null;
  }

  get state(): VehicleState {
    return this.model.state;
  }

  onState(listener: (state: VehicleState) => void): Disposable {
    return this.stateListeners.add(listener);
  }

  onStatusText(listener: (text: StatusText) => void): Disposable {
    return this.statusTextListeners.add(listener);
  }

  onLinkChange(listener: (status: LinkStatus) => void): Disposable {
    return this.linkListeners.add(listener);
  }

  /** Switches to GUIDED if needed, arms if needed, then takes off to `altitudeM` above home. */
  async armAndTakeoff(altitudeM: number): Promise<CommandOutcome> {
    checkTakeoffAltitude(altitudeM);
    const action = `Take off to ${formatNumber(altitudeM)} m`;
    const notSent = this.notSentReason();
    if (notSent) return commandOutcome(action, NOT_SENT, notSent);

    if (this.model.state.modeName !== 'GUIDED') {
      const mode = await this.setMode('GUIDED');
      if (!mode.ok) return { ...mode, text: `${action}: ${mode.text}` };
    }
    let justArmed = false;
    if (!this.model.state.armed) {
      const arm = await this.arm();
      if (!arm.ok) return { ...arm, text: `${action}: ${arm.text}` };
      justArmed = true;
    }
    return this.sendTakeoff(action, altitudeM, justArmed);
  }

  /** NAV_TAKEOFF alone, as the vehicle is: ArduCopter wants GUIDED and armed. */
  async takeoff(altitudeM: number): Promise<CommandOutcome> {
    checkTakeoffAltitude(altitudeM);
    return this.sendTakeoff(`Take off to ${formatNumber(altitudeM)} m`, altitudeM, false);
  }

  async arm(): Promise<CommandOutcome> {
    const startedMs = Date.now();
    return this.command('Arm', long(common.MavCmd.COMPONENT_ARM_DISARM, [1]), (result) => {
      if (result === 'ACCEPTED') return null;
      // ArduPilot explains a refused arm in a STATUSTEXT such as "PreArm: GPS not healthy".
      const said = this.model
        .recentStatusTexts(Date.now(), Date.now() - startedMs + ARM_REASON_WINDOW_MS)
        .find((t) => /^(PreArm|Arm)\b/i.test(t.text));
      return said ? `the vehicle says "${said.text}"` : null;
    });
  }

  /** Disarms; ArduCopter refuses in flight unless `force`, which stops the motors at once. */
  async disarm(force = false): Promise<CommandOutcome> {
    const params = force ? [0, 21196] : [0];
    return this.command(
      force ? 'Force disarm' : 'Disarm',
      long(common.MavCmd.COMPONENT_ARM_DISARM, params),
      (result) =>
        result === 'FAILED' && (this.model.state.position?.altitudeRelM ?? 0) > 1
          ? 'the vehicle is flying'
          : null,
    );
  }

  async setMode(modeName: string): Promise<CommandOutcome> {
    const modeNumber = arduCopterModeNumber(modeName);
    if (modeNumber === null) throw new Error(`unknown ArduCopter flight mode "${modeName}"`);
    const name = modeName.trim().toUpperCase();
    const request = long(common.MavCmd.DO_SET_MODE, [
      minimal.MavModeFlag.CUSTOM_MODE_ENABLED,
      modeNumber,
    ]);
    return this.command(`Switch to ${name}`, request, (result) =>
      result === 'FAILED'
        ? `the vehicle cannot enter ${name} now (it stays in ${this.modeName})`
        : null,
    );
  }

  /** Flies to a point in GUIDED. Outside GUIDED, ArduCopter answers DENIED and nothing moves. */
  async gotoGuided(target: LatLon & { altitudeRelM: number }): Promise<CommandOutcome> {
    checkLatLon('guided target', target);
    checkFinite('guided target altitudeRelM', target.altitudeRelM);
    const action =
      `Go to ${target.latDeg.toFixed(6)}, ${target.lonDeg.toFixed(6)} ` +
      `at ${formatNumber(target.altitudeRelM)} m`;
    const request: CommandRequest = {
      kind: 'int',
      command: common.MavCmd.DO_REPOSITION,
      frame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
      // Speed -1 keeps the vehicle's default; flags 0 so it never changes mode by itself;
      // yaw NaN keeps the vehicle's yaw behaviour (facing the ROI when one is set).
      params: [-1, 0, 0, Number.NaN],
      xDeg: target.latDeg,
      yDeg: target.lonDeg,
      z: target.altitudeRelM,
    };
    const outcome = await this.command(action, request, (result) =>
      result === 'DENIED' && this.modeName !== 'GUIDED'
        ? `the vehicle is not in GUIDED mode (it is in ${this.modeName})`
        : null,
    );
    // Also as a position target, which every ArduCopter since 3.x follows in GUIDED.
    if (outcome.ok) this.sendPositionTarget(target);
    return outcome;
  }

  /** Points the nose and the camera at a place (ArduCopter yaws to it in GUIDED and AUTO). */
  async setRegionOfInterest(point: LatLon & { altitudeMslM: number }): Promise<CommandOutcome> {
    checkLatLon('region of interest', point);
    checkFinite('region of interest altitudeMslM', point.altitudeMslM);
    const action = `Point camera at ${point.latDeg.toFixed(6)}, ${point.lonDeg.toFixed(6)}`;
    return this.command(action, {
      kind: 'int',
      command: common.MavCmd.DO_SET_ROI_LOCATION,
      frame: common.MavFrame.GLOBAL_INT,
      params: [0, 0, 0, 0],
      xDeg: point.latDeg,
      yDeg: point.lonDeg,
      z: point.altitudeMslM,
    });
  }

  /** Gimbal angles: pitch negative down, yaw relative to the nose, degrees. */
  async setGimbal(pitchDeg: number, yawDeg: number): Promise<CommandOutcome> {
    checkRange('gimbal pitchDeg', pitchDeg, -90, 90);
    checkRange('gimbal yawDeg', yawDeg, -360, 360);
    const action = `Gimbal to pitch ${formatNumber(pitchDeg)} deg, yaw ${formatNumber(yawDeg)} deg`;
    return this.command(
      action,
      long(common.MavCmd.DO_MOUNT_CONTROL, [
        pitchDeg,
        0,
        yawDeg,
        0,
        0,
        0,
        common.MavMountMode.MAVLINK_TARGETING,
      ]),
    );
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.commands.dispose();
    this.decoder.dispose();
    this.stateListeners.clear();
    this.statusTextListeners.clear();
    this.linkListeners.clear();
    await this.transport?.dispose();
    log.info(`${this.description} closed`);
  }

  private async start(): Promise<void> {
    this.transport = await openTransport(this.spec, (chunk) => this.decoder.push(chunk));
    this.timers.push(
      setInterval(() => this.everySecond(), GCS_HEARTBEAT_INTERVAL_MS),
      setInterval(() => this.checkLink(), LINK_CHECK_INTERVAL_MS),
    );
    this.sendHeartbeat();
  }

  private get modeName(): string {
    return this.model.state.modeName;
  }

  private receive(received: ReceivedMessage): void {
    if (this.disposed) return;
    const message = received.message;
    if (message instanceof common.CommandAck) {
      this.commands.handleAck(message, received.systemId);
      return;
    }
    const update = this.model.apply(received, Date.now());
    if (message instanceof common.GlobalPositionInt && update.changed) {
      this.lastPositionMonoMs = performance.now();
    }
    if (update.vehicleHeartbeat) {
      this.lastHeartbeatMonoMs = performance.now();
      if (this.model.link !== 'connected') this.changeLink('connected');
    }
    for (const text of update.statusTexts) {
      log.info(`vehicle says: ${text.text}`);
      this.statusTextListeners.emit(text);
    }
    if (update.changed) this.scheduleStateEmit();
  }

  private changeLink(status: LinkStatus): void {
    if (!this.model.setLink(status)) return;
    const vehicle = this.model.vehicle;
    const who = vehicle ? `system ${vehicle.systemId}` : 'vehicle';
    if (status === 'lost') {
      log.warn(
        `${this.description}: ${who} link LOST (no heartbeat for ${this.heartbeatTimeoutMs} ms)`,
      );
    } else {
      log.info(`${this.description}: ${who} ${status}`);
    }
    if (status === 'connected') this.requestStreams();
    this.linkListeners.emit(status);
    this.scheduleStateEmit();
  }

  private checkLink(): void {
    if (this.model.link !== 'connected') return;
    if (performance.now() - this.lastHeartbeatMonoMs > this.heartbeatTimeoutMs) {
      this.changeLink('lost');
    }
  }

  private everySecond(): void {
    this.sendHeartbeat();
    const now = performance.now();
    const positionStale =
      this.lastPositionMonoMs === null || now - this.lastPositionMonoMs > STREAM_RETRY_MS;
    if (
      this.model.link === 'connected' &&
      positionStale &&
      now - this.lastStreamRequestMonoMs > STREAM_RETRY_MS
    ) {
      this.requestStreams();
    }
    const bad = this.decoder.stats.badFrames;
    if (bad > this.reportedBadFrames) {
      log.warn(`${this.description}: skipped ${bad - this.reportedBadFrames} corrupt frame(s)`);
      this.reportedBadFrames = bad;
    }
  }

  private sendHeartbeat(): void {
    this.sendMessage(
      build(minimal.Heartbeat, {
        type: minimal.MavType.GCS,
        autopilot: minimal.MavAutopilot.INVALID,
        baseMode: 0 as minimal.MavModeFlag,
        customMode: 0,
        systemStatus: minimal.MavState.ACTIVE,
        mavlinkVersion: 3,
      }),
    );
  }

  private requestStreams(): void {
    const vehicle = this.model.vehicle;
    if (!vehicle) return;
    this.lastStreamRequestMonoMs = performance.now();
    for (const [stream, rateHz] of STREAM_RATES_HZ) {
      this.sendMessage(
        build(common.RequestDataStream, {
          targetSystem: vehicle.systemId,
          targetComponent: vehicle.componentId,
          reqStreamId: stream,
          reqMessageRate: rateHz,
          startStop: 1,
        }),
      );
    }
    const home = long(common.MavCmd.REQUEST_MESSAGE, [common.HomePosition.MSG_ID]);
    void this.commands.run(home, vehicle).then((answer) => {
      if (answer.result !== 'ACCEPTED') log.debug(`HOME_POSITION request: ${answer.result}`);
    });
  }

  private sendPositionTarget(target: LatLon & { altitudeRelM: number }): void {
    const vehicle = this.model.vehicle;
    if (!vehicle) return;
    const mask = common.PositionTargetTypemask;
    this.sendMessage(
      build(common.SetPositionTargetGlobalInt, {
        timeBootMs: Math.round(performance.now()) >>> 0,
        targetSystem: vehicle.systemId,
        targetComponent: vehicle.componentId,
        coordinateFrame: common.MavFrame.GLOBAL_RELATIVE_ALT_INT,
        // Position only: velocity, acceleration and yaw are left to the vehicle.
        typeMask: (mask.VX_IGNORE |
          mask.VY_IGNORE |
          mask.VZ_IGNORE |
          mask.AX_IGNORE |
          mask.AY_IGNORE |
          mask.AZ_IGNORE |
          mask.YAW_IGNORE |
          mask.YAW_RATE_IGNORE) as common.PositionTargetTypemask,
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
      }),
    );
  }

  private async sendTakeoff(
    action: string,
    altitudeM: number,
    justArmed: boolean,
  ): Promise<CommandOutcome> {
    // param3 0: ArduCopter flies it as a navigated takeoff; yaw and place are not supported.
    const request = long(common.MavCmd.NAV_TAKEOFF, [0, 0, 0, 0, 0, 0, altitudeM]);
    return this.command(action, request, (result) => {
      if (result !== 'FAILED' && result !== 'DENIED') return null;
      const state = this.model.state;
      if (!state.armed && !justArmed) return 'the vehicle is not armed';
      if (state.modeName !== 'GUIDED')
        return `the vehicle is not in GUIDED mode (it is in ${state.modeName})`;
      if ((state.position?.altitudeRelM ?? 0) > 1) return 'the vehicle is already flying';
      return null;
    });
  }

  /**
   * Sends a command and words the answer.
   * @param explain gives a reason from what the station knows, or null to use the result's
   */
  private async command(
    action: string,
    request: CommandRequest,
    explain: (result: string) => string | null = () => null,
  ): Promise<CommandOutcome> {
    const notSent = this.notSentReason();
    const vehicle = this.model.vehicle;
    if (notSent || !vehicle) return commandOutcome(action, NOT_SENT, notSent);
    const answer = await this.commands.run(request, vehicle);
    const outcome = commandOutcome(action, answer.result, answer.reason ?? explain(answer.result));
    if (outcome.ok) log.info(outcome.text);
    else log.warn(outcome.text);
    return outcome;
  }

  private notSentReason(): string | null {
    if (this.disposed) return 'the link is closed';
    switch (this.model.link) {
      case 'connecting':
        return 'no vehicle has been heard on this link yet';
      case 'lost':
        return 'the link to the vehicle is lost';
      case 'connected':
        return null;
    }
  }

  private scheduleStateEmit(): void {
    if (this.stateTimer || this.disposed) return;
    const waitMs = Math.max(0, this.lastStateEmitMs + STATE_INTERVAL_MS - performance.now());
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      this.lastStateEmitMs = performance.now();
      this.stateListeners.emit(this.model.state);
    }, waitMs);
  }

  private sendMessage(message: MavLinkData): void {
    if (this.disposed || !this.transport) return;
    try {
      this.transport.send(this.encoder.encode(message));
    } catch (error) {
      log.error(`could not send ${messageLabel(message)}: ${String(error)}`);
    }
  }
}

function long(command: common.MavCmd, params: number[]): CommandRequest {
  const p = (i: number): number => params[i] ?? 0;
  return { kind: 'long', command, params: [p(0), p(1), p(2), p(3), p(4), p(5), p(6)] };
}

function messageLabel(message: MavLinkData): string {
  return (message.constructor as { MSG_NAME?: string }).MSG_NAME ?? 'a message';
}

function formatNumber(value: number): string {
  return String(Math.round(value * 10) / 10);
}

function positive(what: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${what} must be a positive number, got ${value}`);
  }
  return value;
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

function checkTakeoffAltitude(altitudeM: number): void {
  checkFinite('takeoff altitude (m)', altitudeM);
  if (altitudeM <= 0 || altitudeM > MAX_TAKEOFF_ALTITUDE_M) {
    throw new Error(
      `takeoff altitude must be above 0 and at most ${MAX_TAKEOFF_ALTITUDE_M} m, got ${altitudeM}`,
    );
  }
}
