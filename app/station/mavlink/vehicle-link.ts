// One vehicle over one link: the station's heartbeat, telemetry into a VehicleState, link-loss
// detection, and the commands the station flies with (ArduCopter flavour of MAVLink).

import { common, type MavLinkData } from 'node-mavlink';

import { toDisposable, type Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type {
  CommandOutcome,
  LatLon,
  LinkStatus,
  StatusText,
  VehicleState,
} from '../../core/types';
import { MavlinkDecoder, MavlinkEncoder, type ReceivedMessage } from './codec';
import { CommandSender } from './commands';
import { Listeners } from './listeners';
import { commandOutcome, NOT_SENT } from './outcome';
import {
  armCommand,
  disarmCommand,
  gcsHeartbeat,
  gimbalCommand,
  positionTarget,
  regionOfInterestCommand,
  repositionCommand,
  requestMessageCommand,
  setModeCommand,
  streamRequests,
  takeoffCommand,
  type PlannedCommand,
} from './requests';
import { MavlinkFrameScanner, type RawFrame } from '../tlog/frame';
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
  /** Hears every frame from the first one sent (onRawFrame hears them from when it is called). */
  onRawFrame?: (frame: RawFrame) => void;
}

export class VehicleLink implements Disposable {
  private name: string;
  private readonly model = new VehicleModel();
  private readonly encoder = new MavlinkEncoder(GCS_SYSTEM_ID, GCS_COMPONENT_ID);
  private readonly decoder: MavlinkDecoder;
  private readonly commands: CommandSender;
  private readonly stateListeners = new Listeners<VehicleState>('vehicle state', log);
  private readonly statusTextListeners = new Listeners<StatusText>('status text', log);
  private readonly linkListeners = new Listeners<LinkStatus>('link status', log);
  private readonly rawFrameListeners = new Listeners<RawFrame>('raw frame', log);
  private rawFrameCount = 0;
  private frameScanner: MavlinkFrameScanner | null = null;
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
    this.name = formatLinkUri(spec);
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
    if (options.onRawFrame) this.onRawFrame(options.onRawFrame);
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

  /** The link's URI, with the port the system picked for udpin:HOST:0. */
  get description(): string {
    return this.name;
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

  /** Every frame as it crossed the link, both ways, for the flight record. */
  onRawFrame(listener: (frame: RawFrame) => void): Disposable {
    this.rawFrameCount++;
    const added = this.rawFrameListeners.add(listener);
    let listening = true;
    return toDisposable(() => {
      if (!listening) return;
      listening = false;
      this.rawFrameCount = Math.max(0, this.rawFrameCount - 1);
      void added.dispose();
    });
  }

  onLinkChange(listener: (status: LinkStatus) => void): Disposable {
    return this.linkListeners.add(listener);
  }

  /** Switches to GUIDED if needed, arms if needed, then takes off to `altitudeM` above home. */
  async armAndTakeoff(altitudeM: number): Promise<CommandOutcome> {
    const takeoff = takeoffCommand(altitudeM);
    const notSent = this.notSentReason();
    if (notSent) return commandOutcome(takeoff.action, NOT_SENT, notSent);

    // The vehicle's heartbeat may lag the ACKs below; remember what it has accepted.
    const accepted = { guided: this.model.modeName === 'GUIDED', armed: this.model.armed };
    if (!accepted.guided) {
      const mode = await this.setMode('GUIDED');
      if (!mode.ok) return { ...mode, text: `${takeoff.action}: ${mode.text}` };
      accepted.guided = true;
    }
    if (!accepted.armed) {
      const arm = await this.arm();
      if (!arm.ok) return { ...arm, text: `${takeoff.action}: ${arm.text}` };
      accepted.armed = true;
    }
    return this.sendTakeoff(altitudeM, accepted);
  }

  /** NAV_TAKEOFF alone, as the vehicle is: ArduCopter wants GUIDED and armed. */
  async takeoff(altitudeM: number): Promise<CommandOutcome> {
    return this.sendTakeoff(altitudeM, { guided: false, armed: false });
  }

  async arm(): Promise<CommandOutcome> {
    const startedMs = Date.now();
    return this.command(armCommand(), (result) => {
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
    return this.command(disarmCommand(force), (result) =>
      result === 'FAILED' && (this.model.altitudeRelM ?? 0) > 1 ? 'the vehicle is flying' : null,
    );
  }

  /** Throws for a name that is not an ArduCopter mode. */
  async setMode(modeName: string): Promise<CommandOutcome> {
    const planned = setModeCommand(modeName);
    return this.command(planned, (result) =>
      result === 'FAILED'
        ? `the vehicle cannot enter ${planned.modeName} now (it stays in ${this.modeName})`
        : null,
    );
  }

  /** Flies to a point in GUIDED. Outside GUIDED, ArduCopter answers DENIED and nothing moves. */
  async gotoGuided(target: LatLon & { altitudeRelM: number }): Promise<CommandOutcome> {
    const outcome = await this.command(repositionCommand(target), (result) =>
      result === 'DENIED' && this.modeName !== 'GUIDED'
        ? `the vehicle is not in GUIDED mode (it is in ${this.modeName})`
        : null,
    );
    const vehicle = this.model.vehicle;
    // Also as a position target, which every ArduCopter since 3.x follows in GUIDED.
    if (outcome.ok && vehicle) {
      this.sendMessage(positionTarget(vehicle, target, performance.now()));
    }
    return outcome;
  }

  /** Points the nose and the camera at a place (ArduCopter yaws to it in GUIDED and AUTO). */
  async setRegionOfInterest(point: LatLon & { altitudeMslM: number }): Promise<CommandOutcome> {
    return this.command(regionOfInterestCommand(point));
  }

  /** Gimbal angles: pitch negative down, yaw relative to the nose, degrees. */
  async setGimbal(pitchDeg: number, yawDeg: number): Promise<CommandOutcome> {
    return this.command(gimbalCommand(pitchDeg, yawDeg));
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
    this.rawFrameListeners.clear();
    this.rawFrameCount = 0;
    await this.transport?.dispose();
    log.info(`${this.description} closed`);
  }

  private async start(): Promise<void> {
    this.transport = await openTransport(this.spec, (chunk) => {
      this.decoder.push(chunk);
      if (this.rawFrameCount > 0) this.scanRawFrames(chunk);
    });
    if (this.spec.kind === 'udpin' && this.spec.port === 0 && this.transport.localPort !== null) {
      this.name = formatLinkUri({ ...this.spec, port: this.transport.localPort });
    }
    this.timers.push(
      setInterval(() => this.everySecond(), GCS_HEARTBEAT_INTERVAL_MS),
      setInterval(() => this.checkLink(), LINK_CHECK_INTERVAL_MS),
    );
    this.sendHeartbeat();
  }

  private get modeName(): string {
    return this.model.modeName;
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
    if (status === 'connected') {
      // Answer at once: a udpin link could not send its heartbeat before the vehicle spoke.
      this.sendHeartbeat();
      this.requestStreams();
    }
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
    this.sendMessage(gcsHeartbeat());
  }

  private requestStreams(): void {
    const vehicle = this.model.vehicle;
    // A recording streams what it holds and answers nothing.
    if (!vehicle || this.spec.kind === 'tlog') return;
    this.lastStreamRequestMonoMs = performance.now();
    for (const request of streamRequests(vehicle)) this.sendMessage(request);
    const home = requestMessageCommand(common.HomePosition.MSG_ID);
    void this.commands.run(home, vehicle).then((answer) => {
      if (answer.result !== 'ACCEPTED') log.debug(`HOME_POSITION request: ${answer.result}`);
    });
  }

  /** @param accepted what the vehicle has just accepted, ahead of its heartbeat */
  private async sendTakeoff(
    altitudeM: number,
    accepted: { guided: boolean; armed: boolean },
  ): Promise<CommandOutcome> {
    return this.command(takeoffCommand(altitudeM), (result) => {
      if (result !== 'FAILED' && result !== 'DENIED') return null;
      const modeName = this.model.modeName;
      if (!this.model.armed && !accepted.armed) return 'the vehicle is not armed';
      if (modeName !== 'GUIDED' && !accepted.guided) {
        return `the vehicle is not in GUIDED mode (it is in ${modeName})`;
      }
      if ((this.model.altitudeRelM ?? 0) > 1) return 'the vehicle is already flying';
      return null;
    });
  }

  /**
   * Sends a command and words the answer.
   * @param explain gives a reason from what the station knows, or null to use the result's
   */
  private async command(
    { action, request }: PlannedCommand,
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
    if (this.spec.kind === 'tlog') return 'replay: commands are not sent';
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
    // A recording takes nothing: no heartbeats or requests go to it, nor into its record.
    if (this.disposed || !this.transport || this.spec.kind === 'tlog') return;
    try {
      const frame = this.encoder.encode(message);
      this.transport.send(frame);
      if (this.rawFrameCount > 0) {
        this.rawFrameListeners.emit({ direction: 'out', frame, timeUs: Date.now() * 1000 });
      }
    } catch (error) {
      log.error(`could not send ${messageLabel(message)}: ${String(error)}`);
    }
  }

  private scanRawFrames(chunk: Buffer): void {
    // UDP datagrams hold whole frames; TCP may split one across reads.
    const datagrams = this.spec.kind === 'udpin' || this.spec.kind === 'udpout';
    this.frameScanner ??= new MavlinkFrameScanner(
      (frame) => this.rawFrameListeners.emit({ direction: 'in', frame, timeUs: Date.now() * 1000 }),
      { datagrams },
    );
    this.frameScanner.push(chunk);
  }
}

function messageLabel(message: MavLinkData): string {
  return (message.constructor as { MSG_NAME?: string }).MSG_NAME ?? 'a message';
}

function positive(what: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${what} must be a positive number, got ${value}`);
  }
  return value;
}
