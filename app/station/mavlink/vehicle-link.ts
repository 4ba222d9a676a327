// One link and the vehicles on it: the station's heartbeat, telemetry into a VehicleState per
// system id, link-loss detection, link health, and for the selected vehicle the commands the
// station flies with (ArduPilot first, PX4 modes too), missions, parameters, message rates and
// MAVLink 2 signing.

import { common, type MavLinkData } from 'node-mavlink';

import { toDisposable, type Disposable } from '../../core/disposable';
import { createLogger } from '../../core/log';
import type { LinkHealth } from '../../core/protocol';
import type {
  CommandOutcome,
  LatLon,
  LinkStatus,
  StatusText,
  VehicleState,
} from '../../core/types';
import { MAV_AUTOPILOT_ARDUPILOTMEGA, MAV_AUTOPILOT_PX4 } from '../../core/autopilot-modes';
import {
  messageName,
  MavlinkDecoder,
  MavlinkEncoder,
  type FrameInfo,
  type ReceivedMessage,
} from './codec';
import { CommandSender, SUPERSEDED, type RunOptions } from './commands';
import { LinkSigning, type LinkSigningOptions, type SigningStatus } from './link-signing';
import { LinkHealthMeter } from './link-health';
import { Listeners } from './listeners';
import {
  MISSION_MESSAGE_IDS,
  MissionClient,
  type MissionDownload,
  type MissionItem,
  type MissionProgress,
  type MissionType,
} from './mission';
import { commandOutcome, missionOutcome, NOT_SENT, paramOutcome } from './outcome';
import {
  ParamClient,
  type ParamListOutcome,
  type ParamOutcome,
  type ParamProgress,
  type VehicleParam,
} from './params';
import {
  ARDUCOPTER_IDENTITY,
  armCommand,
  disarmCommand,
  gcsHeartbeat,
  gimbalCommand,
  messageIntervalCommand,
  positionTarget,
  regionOfInterestCommand,
  repositionCommand,
  requestMessageCommand,
  setModeCommand,
  streamRequests,
  takeoffCommand,
  wantedMessageRates,
  type PlannedCommand,
} from './requests';
import { newSigningKey } from './signing';
import { MavlinkFrameScanner, type RawFrame } from '../tlog/frame';
import { RateLimitedWarning } from './rate-limit';
import { openTransport, type Transport, type TransportOptions } from './transport';
import { formatLinkUri, parseLinkUri, type LinkSpec } from './uri';
import { isVehicleHeartbeat, MODEL_MESSAGE_IDS, VehicleModel } from './vehicle-model';

const log = createLogger('vehicle-link');

export const GCS_SYSTEM_ID = 255;
export const GCS_COMPONENT_ID = 190;

/** Two missed heartbeats of a 1 Hz vehicle: the operator hears of a drop within 3 s. */
const DEFAULT_HEARTBEAT_TIMEOUT_MS = 2500;
const DEFAULT_ACK_TIMEOUT_MS = 1000;
const DEFAULT_COMMAND_ATTEMPTS = 4;
const GCS_HEARTBEAT_INTERVAL_MS = 1000;
const LINK_CHECK_INTERVAL_MS = 100;
/** Corrupt frames and impossible values are said at most this often, with a count. */
const BAD_INPUT_WARNING_INTERVAL_MS = 10_000;
/** More autopilots than this on one link is a flood, not a fleet: the rest are ignored. */
const MAX_VEHICLES_PER_LINK = 32;
/** onState fires at most this often (10 Hz). */
const STATE_INTERVAL_MS = 100;
/** Ask for streams again when position has not come for this long. */
const STREAM_RETRY_MS = 5000;
/** A PreArm/Arm STATUSTEXT this recent explains a refused arm. */
const ARM_REASON_WINDOW_MS = 3000;
const DEFAULT_IN_PROGRESS_TIMEOUT_MS = 30_000;
const DEFAULT_MISSION_ITEM_TIMEOUT_MS = 1500;
const DEFAULT_MISSION_ITEM_RETRIES = 15;
const DEFAULT_MISSION_TRANSFER_TIMEOUT_MS = 300_000;
const DEFAULT_PARAM_TIMEOUT_MS = 1500;
const DEFAULT_PARAM_RETRIES = 10;
const DEFAULT_PARAM_LIST_TIMEOUT_MS = 120_000;
/** PARAM_REQUEST_READs sent at once for what a table download missed. */
const PARAM_REREAD_BATCH = 10;
const WANTED_IDS: ReadonlySet<number> = new Set([
  ...MODEL_MESSAGE_IDS,
  ...MISSION_MESSAGE_IDS,
  common.CommandAck.MSG_ID,
  common.ParamValue.MSG_ID,
  common.MissionCurrent.MSG_ID,
  common.MissionItemReached.MSG_ID,
]);

/** How the station asked for its telemetry, and what the vehicle would not send. */
export interface MessageRatesOutcome extends CommandOutcome {
  method: 'SET_MESSAGE_INTERVAL' | 'REQUEST_DATA_STREAM' | 'none';
  /** Names of messages the vehicle refused to send at the asked rate. */
  refused: string[];
}

/** Where the vehicle is in its mission, from MISSION_CURRENT and MISSION_ITEM_REACHED. */
export interface MissionStatus {
  /** The item it flies to now, null before it said. */
  currentSeq: number | null;
  /** Items in the mission, when the vehicle says (MAVLink 2 MISSION_CURRENT.total). */
  total: number | null;
  /** The last item reached, null before any. */
  reachedSeq: number | null;
}

export interface VehicleLinkOptions {
  /** The link counts as lost after this long without a vehicle HEARTBEAT. */
  heartbeatTimeoutMs?: number;
  /** How long to wait for a COMMAND_ACK before sending again. */
  commandAckTimeoutMs?: number;
  /** How many times a command is sent, the first included, before it is a TIMEOUT. */
  commandAttempts?: number;
  /** Hears every frame from the first one sent (onRawFrame hears them from when it is called). */
  onRawFrame?: (frame: RawFrame) => void;
  /** After an IN_PROGRESS answer, how long to wait for the vehicle's next word. */
  commandInProgressTimeoutMs?: number;
  /** Mission transfers: how long one step may take before it is sent again. */
  missionItemTimeoutMs?: number;
  /** Mission transfers: resends in a row without progress before giving up. */
  missionItemRetries?: number;
  /** The longest one mission, fence or rally transfer may take. */
  missionTransferTimeoutMs?: number;
  /** Parameters: how long to wait for an answer before asking again. */
  paramTimeoutMs?: number;
  /** Parameters: resends in a row without progress before giving up. */
  paramRetries?: number;
  /** The longest a whole parameter table download may take. */
  paramListTimeoutMs?: number;
  /** MAVLink 2 signing: stored keys, the timestamp clock, the link id. */
  signing?: LinkSigningOptions;
  /** Ask for the station's message rates when the vehicle is heard (default true). */
  requestMessageRates?: boolean;
  /** Stand-ins for the system (name lookup, serial port listing), for tests. */
  transport?: TransportOptions;
}

/** A change of one vehicle's link status, for any vehicle on the link. */
export interface VehicleLinkChange {
  systemId: number;
  status: LinkStatus;
  /** Whether it is the link's selected vehicle (the one commands go to). */
  selected: boolean;
}

export class VehicleLink implements Disposable {
  private name: string;
  /** The selected vehicle's model: commands go to it. A blank one until a vehicle is heard. */
  private model = new VehicleModel();
  private readonly models = new Map<number, VehicleModel>();
  /** performance.now() of each vehicle's last heartbeat, by system id. */
  private readonly heartbeatMonoMs = new Map<number, number>();
  private readonly meter = new LinkHealthMeter();
  private readonly corruptWarning = new RateLimitedWarning(log, BAD_INPUT_WARNING_INTERVAL_MS);
  private readonly rejectWarning = new RateLimitedWarning(log, BAD_INPUT_WARNING_INTERVAL_MS);
  private readonly datagrams: boolean;
  private datagramFromVehicle = false;
  /** A TCP connection or a serial port is down until it opens; UDP and replays have none. */
  private carrierUp: boolean;
  private readonly vehicleListeners = new Listeners<VehicleState[]>('vehicles', log);
  private readonly vehicleLinkListeners = new Listeners<VehicleLinkChange>('vehicle link', log);
  private readonly encoder = new MavlinkEncoder(GCS_SYSTEM_ID, GCS_COMPONENT_ID);
  private readonly decoder: MavlinkDecoder;
  private readonly commands: CommandSender;
  private readonly missions: MissionClient;
  private readonly params: ParamClient;
  private readonly signing: LinkSigning;
  private readonly missionListeners = new Listeners<MissionStatus>('mission status', log);
  private missionStatus: MissionStatus = { currentSeq: null, total: null, reachedSeq: null };
  private readonly wantsMessageRates: boolean;
  private ratesRequest: Promise<MessageRatesOutcome> | null = null;
  private gcsHeartbeatEnabled = true;
  private identifiedSystemId: number | null = null;
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
  private lastPositionMonoMs: number | null = null;
  private lastStreamRequestMonoMs = 0;
  private reportedBadFrames = 0;
  private readonly transportOptions: TransportOptions;
  private disposed = false;

  private constructor(
    private readonly spec: LinkSpec,
    options: VehicleLinkOptions,
  ) {
    this.name = formatLinkUri(spec);
    this.transportOptions = options.transport ?? {};
    // A datagram (or a replayed record) holds whole frames; a TCP or serial read may not.
    this.datagrams = spec.kind === 'udpin' || spec.kind === 'udpout' || spec.kind === 'tlog';
    this.carrierUp = spec.kind !== 'tcp' && spec.kind !== 'serial';
    this.heartbeatTimeoutMs = positive(
      'heartbeatTimeoutMs',
      options.heartbeatTimeoutMs ?? DEFAULT_HEARTBEAT_TIMEOUT_MS,
    );
    this.decoder = new MavlinkDecoder((received) => this.receive(received), WANTED_IDS, {
      onFrame: (frame) => this.countFrame(frame),
    });
    const ackTimeoutMs = positive(
      'commandAckTimeoutMs',
      options.commandAckTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS,
    );
    this.commands = new CommandSender({
      send: (message) => this.sendMessage(message),
      ownSystemId: GCS_SYSTEM_ID,
      ownComponentId: GCS_COMPONENT_ID,
      ackTimeoutMs,
      attempts: count('commandAttempts', options.commandAttempts ?? DEFAULT_COMMAND_ATTEMPTS),
      inProgressTimeoutMs: positive(
        'commandInProgressTimeoutMs',
        options.commandInProgressTimeoutMs ?? DEFAULT_IN_PROGRESS_TIMEOUT_MS,
      ),
      duplicateGuardMs: ackTimeoutMs,
    });
    this.missions = new MissionClient({
      send: (message) => this.sendMessage(message),
      ownSystemId: GCS_SYSTEM_ID,
      ownComponentId: GCS_COMPONENT_ID,
      itemTimeoutMs: positive(
        'missionItemTimeoutMs',
        options.missionItemTimeoutMs ?? DEFAULT_MISSION_ITEM_TIMEOUT_MS,
      ),
      itemRetries: count(
        'missionItemRetries',
        options.missionItemRetries ?? DEFAULT_MISSION_ITEM_RETRIES,
      ),
      transferTimeoutMs: positive(
        'missionTransferTimeoutMs',
        options.missionTransferTimeoutMs ?? DEFAULT_MISSION_TRANSFER_TIMEOUT_MS,
      ),
    });
    this.params = new ParamClient({
      send: (message) => this.sendMessage(message),
      encoding: () => (this.model.identity?.autopilot === MAV_AUTOPILOT_PX4 ? 'bytewise' : 'cast'),
      timeoutMs: positive('paramTimeoutMs', options.paramTimeoutMs ?? DEFAULT_PARAM_TIMEOUT_MS),
      retries: count('paramRetries', options.paramRetries ?? DEFAULT_PARAM_RETRIES),
      listTimeoutMs: positive(
        'paramListTimeoutMs',
        options.paramListTimeoutMs ?? DEFAULT_PARAM_LIST_TIMEOUT_MS,
      ),
      rereadBatch: PARAM_REREAD_BATCH,
    });
    this.signing = new LinkSigning(
      options.signing ?? {},
      this.encoder,
      (message) => this.sendMessage(message),
      () => this.model.vehicle,
    );
    // A recording is checked by nobody: its signatures are old by nature.
    if (spec.kind !== 'tlog') this.decoder.setGate((frame) => this.signing.gate(frame));
    this.wantsMessageRates = options.requestMessageRates ?? true;
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

  /** The selected vehicle: the first autopilot heard, or the one selectVehicle chose. */
  get state(): VehicleState {
    return this.model.state;
  }

  /** Every autopilot heard on this link, by system id. */
  get vehicles(): VehicleState[] {
    return [...this.models.values()].map((model) => model.state);
  }

  /** The vehicle commands go to, null before any is heard. */
  get selectedSystemId(): number | null {
    return this.model.vehicle?.systemId ?? null;
  }

  /**
   * Sends every command from now on to another vehicle heard on this link. Throws for a system
   * id this link has not heard.
   */
  selectVehicle(systemId: number): void {
    const model = this.models.get(systemId);
    if (!model) {
      const heard = [...this.models.keys()].join(', ') || 'none';
      throw new Error(`system ${systemId} has not been heard on ${this.name} (heard: ${heard})`);
    }
    if (model === this.model) return;
    const before = this.model.link;
    this.model = model;
    this.missionStatus = { currentSeq: null, total: null, reachedSeq: null };
    this.lastPositionMonoMs = null;
    const vehicle = model.vehicle;
    if (vehicle) this.signing.vehicleIdentified(vehicle);
    log.info(`${this.name}: commands now go to system ${systemId}`);
    if (model.link === 'connected') this.requestStreams();
    if (model.link !== before) this.linkListeners.emit(model.link);
    this.scheduleStateEmit();
  }

  /** How the link carries now: rates, loss, time since the last heartbeat. */
  get health(): LinkHealth {
    const counts = this.meter.counts;
    let newestMonoMs: number | null = null;
    for (const heardMs of this.heartbeatMonoMs.values()) {
      newestMonoMs = newestMonoMs === null ? heardMs : Math.max(newestMonoMs, heardMs);
    }
    const anyConnected = [...this.models.values()].some((model) => model.link === 'connected');
    const anyLost = [...this.models.values()].some((model) => model.link === 'lost');
    return {
      name: this.name,
      status: anyConnected ? 'connected' : anyLost ? 'lost' : 'connecting',
      carrierUp: this.carrierUp,
      packetsPerSecond: Math.round(counts.packetsPerSecond * 10) / 10,
      lossPct: counts.lossPct === null ? null : Math.round(counts.lossPct * 10) / 10,
      heartbeatAgeMs: newestMonoMs === null ? null : Math.round(performance.now() - newestMonoMs),
      systemIds: [...this.models.keys()].sort((a, b) => a - b),
      corruptFrames: this.decoder.stats.badFrames,
      rejectedValues: this.rejectWarning.count,
    };
  }

  /** Any vehicle's state changed (at most 10 times a second): all of them, selected or not. */
  onVehicles(listener: (vehicles: VehicleState[]) => void): Disposable {
    return this.vehicleListeners.add(listener);
  }

  /** Any vehicle's link status changed; onLinkChange hears only the selected one. */
  onVehicleLinkChange(listener: (change: VehicleLinkChange) => void): Disposable {
    return this.vehicleLinkListeners.add(listener);
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

  /** MISSION_CURRENT and MISSION_ITEM_REACHED as they come. */
  onMissionStatus(listener: (status: MissionStatus) => void): Disposable {
    return this.missionListeners.add(listener);
  }

  get mission(): MissionStatus {
    return { ...this.missionStatus };
  }

  /** Signing state and the frames refused so far, by kind. */
  get signingStatus(): SigningStatus {
    return this.signing.status;
  }

  /** Every parameter value heard so far, by name. */
  get paramCache(): ReadonlyMap<string, VehicleParam> {
    return this.params.cache;
  }

  /**
   * Stops or restarts the station's heartbeat. Without it the vehicle takes the station for gone
   * (its GCS failsafe); a listen-only station may want exactly that.
   */
  setGcsHeartbeat(enabled: boolean): void {
    this.gcsHeartbeatEnabled = enabled;
    if (enabled) this.sendHeartbeat();
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

  /**
   * Switches flight mode by name: ArduPilot's names for its vehicle type, PX4's ("AUTO.LOITER",
   * or words like HOLD, RTL, LAND). Throws for a name the autopilot does not have.
   * @param options.preempt what pre-empts ("ABORT"): a mode switch still unanswered is
   *   abandoned and this one goes out at once (see CommandSender)
   */
  async setMode(modeName: string, options: { preempt?: string } = {}): Promise<CommandOutcome> {
    const planned = setModeCommand(modeName, this.model.identity ?? ARDUCOPTER_IDENTITY);
    return this.command(
      planned,
      (result) =>
        result === 'FAILED'
          ? `the vehicle cannot enter ${planned.modeName} now (it stays in ${this.modeName})`
          : null,
      { preempt: options.preempt },
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

  /**
   * One GUIDED position target, sent once with no ACK to wait for: a pattern streams them a few
   * times a second, and a lost one is replaced by the next. False when it could not be sent.
   */
  sendPositionTarget(target: LatLon & { altitudeRelM: number }): boolean {
    const vehicle = this.model.vehicle;
    if (this.notSentReason() || !vehicle) return false;
    const message = positionTarget(vehicle, target, performance.now());
    this.sendMessage(message);
    return true;
  }

  /** MAV_CMD_DO_SET_RELAY: switches relay `relay` (0-based instance) on or off. */
  /** Ground speed for GUIDED and missions until the next mode change (MAV_CMD_DO_CHANGE_SPEED). */
  async setSpeed(speedMps: number): Promise<CommandOutcome> {
    if (!Number.isFinite(speedMps) || speedMps <= 0 || speedMps > 50) {
      throw new Error(`speed must be above 0 and at most 50 m/s, got ${speedMps}`);
    }
    return this.command({
      action: `Speed ${speedMps} m/s`,
      request: {
        kind: 'long',
        command: common.MavCmd.DO_CHANGE_SPEED,
        // Speed type 1 is ground speed; -1 leaves the throttle alone.
        params: [1, speedMps, -1, 0, 0, 0, 0],
      },
    });
  }

  async setRelay(relay: number, on: boolean): Promise<CommandOutcome> {
    if (!Number.isInteger(relay) || relay < 0 || relay > 255) {
      throw new Error(`relay must be a whole number from 0 to 255, got ${relay}`);
    }
    return this.command({
      action: `Relay ${relay} ${on ? 'on' : 'off'}`,
      request: {
        kind: 'long',
        command: common.MavCmd.DO_SET_RELAY,
        params: [relay, on ? 1 : 0, 0, 0, 0, 0, 0],
      },
    });
  }

  /** Points the nose and the camera at a place (ArduCopter yaws to it in GUIDED and AUTO). */
  async setRegionOfInterest(point: LatLon & { altitudeMslM: number }): Promise<CommandOutcome> {
    return this.command(regionOfInterestCommand(point));
  }

  /** Gimbal angles: pitch negative down, yaw relative to the nose, degrees. */
  async setGimbal(pitchDeg: number, yawDeg: number): Promise<CommandOutcome> {
    return this.command(gimbalCommand(pitchDeg, yawDeg));
  }

  /** Any command, retried until the vehicle answers; IN_PROGRESS answers reach onProgress. */
  async runCommand(planned: PlannedCommand, options: RunOptions = {}): Promise<CommandOutcome> {
    return this.command(planned, () => null, options);
  }

  /** Replaces the vehicle's list of this type with exactly `items` (numbered 0, 1, 2...). */
  async uploadMission(
    type: MissionType,
    items: readonly MissionItem[],
    onProgress?: (progress: MissionProgress) => void,
  ): Promise<CommandOutcome> {
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle) return missionOutcome(`Upload ${type}`, NOT_SENT, notSent);
    return this.logged(await this.missions.upload(type, items, vehicle, onProgress));
  }

  async downloadMission(
    type: MissionType,
    onProgress?: (progress: MissionProgress) => void,
  ): Promise<MissionDownload> {
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle) {
      return { ...missionOutcome(`Download ${type}`, NOT_SENT, notSent), items: [] };
    }
    const download = await this.missions.download(type, vehicle, onProgress);
    this.logged(download);
    return download;
  }

  async clearMission(type: MissionType): Promise<CommandOutcome> {
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle) return missionOutcome(`Clear ${type}`, NOT_SENT, notSent);
    return this.logged(await this.missions.clear(type, vehicle));
  }

  /** The whole parameter table; onProgress hears each new value. */
  async readAllParams(onProgress?: (progress: ParamProgress) => void): Promise<ParamListOutcome> {
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle) {
      return { ...paramOutcome('Read all parameters', NOT_SENT, notSent ?? ''), params: [] };
    }
    const list = await this.params.readAll(vehicle, onProgress);
    this.logged(list);
    return list;
  }

  async readParam(name: string): Promise<ParamOutcome> {
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle)
      return { ...paramOutcome(`Read ${name}`, NOT_SENT, notSent ?? ''), param: null };
    return this.params.read(vehicle, name);
  }

  /**
   * Sets a parameter and checks what the vehicle then holds: REFUSED when it kept its value,
   * CLAMPED when it took another. Throws for a value the parameter's type cannot hold.
   */
  async setParam(name: string, value: number): Promise<ParamOutcome> {
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle) {
      return { ...paramOutcome(`Set ${name}`, NOT_SENT, notSent ?? ''), param: null };
    }
    const outcome = await this.params.set(vehicle, name, value);
    this.logged(outcome);
    return outcome;
  }

  /**
   * Asks for the telemetry the station shows with SET_MESSAGE_INTERVAL, one message at a time;
   * an ArduPilot that does not take it gets REQUEST_DATA_STREAM instead. Runs by itself when the
   * vehicle is first heard.
   */
  requestMessageRates(): Promise<MessageRatesOutcome> {
    this.ratesRequest ??= this.askForRates().finally(() => {
      this.ratesRequest = null;
    });
    return this.ratesRequest;
  }

  /**
   * Gives the vehicle a signing key over this link, which must be trusted (a cable, a radio
   * nobody else hears): the key travels in clear. From then on both sides sign everything and
   * refuse what is not signed with it. The key is saved in the signing key store, if there is one.
   */
  async setupSigning(key: Buffer = newSigningKey()): Promise<CommandOutcome> {
    const action = 'Set up signing';
    const notSent = this.notSentReason();
    if (notSent)
      return { ok: false, result: NOT_SENT, text: `${action} not sent: ${notSent} (NOT_SENT)` };
    return this.logged(await this.signing.setup(key, action));
  }

  /** Turns signing off on the vehicle (an all-zero key) and forgets its stored key. */
  async disableSigning(): Promise<CommandOutcome> {
    const action = 'Turn signing off';
    const notSent = this.notSentReason();
    if (notSent)
      return { ok: false, result: NOT_SENT, text: `${action} not sent: ${notSent} (NOT_SENT)` };
    return this.logged(await this.signing.setup(Buffer.alloc(32), action));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const timer of this.timers) clearInterval(timer);
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = null;
    this.commands.dispose();
    this.missions.dispose();
    this.params.dispose();
    this.signing.dispose();
    this.missionListeners.clear();
    this.decoder.dispose();
    this.stateListeners.clear();
    this.statusTextListeners.clear();
    this.linkListeners.clear();
    this.vehicleListeners.clear();
    this.vehicleLinkListeners.clear();
    this.rawFrameListeners.clear();
    this.rawFrameCount = 0;
    await this.transport?.dispose();
    log.info(`${this.description} closed`);
  }

  private async start(): Promise<void> {
    this.transport = await openTransport(
      this.spec,
      {
        onData: (chunk) => this.onBytes(chunk),
        onOpen: () => this.carrierOpened(),
        onClose: (reason) => this.carrierLost(reason),
      },
      this.transportOptions,
    );
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
    if (this.missions.handle(received)) return;
    const from = { systemId: received.systemId, componentId: received.componentId };
    if (message instanceof common.ParamValue) {
      this.params.handle(message, from);
      return;
    }
    if (message instanceof common.MissionCurrent || message instanceof common.MissionItemReached) {
      this.applyMissionStatus(message, from);
      return;
    }
    const model = this.modelFor(received);
    if (!model) return;
    const update = model.apply(received, Date.now());
    const selected = model === this.model;
    if (selected && message instanceof common.GlobalPositionInt && update.changed) {
      this.lastPositionMonoMs = performance.now();
    }
    if (update.rejected.length > 0) {
      this.rejectWarning.report(
        `${this.description}: system ${received.systemId} sent impossible values ` +
          `(${update.rejected.join(', ')}); keeping the last good ones`,
      );
    }
    if (update.vehicleHeartbeat) {
      const vehicle = model.vehicle;
      if (selected && vehicle && this.identifiedSystemId !== vehicle.systemId) {
        this.identifiedSystemId = vehicle.systemId;
        this.signing.vehicleIdentified(vehicle);
      }
      this.heartbeatMonoMs.set(received.systemId, performance.now());
      if (model.link !== 'connected') this.changeLink(model, 'connected');
    }
    if (selected) {
      for (const text of update.statusTexts) {
        log.info(`vehicle says: ${text.text}`);
        this.statusTextListeners.emit(text);
      }
    }
    if (update.changed) this.scheduleStateEmit();
  }

  /** The model of the system that sent this; a new autopilot's heartbeat makes a new one. */
  private modelFor(received: ReceivedMessage): VehicleModel | null {
    const known = this.models.get(received.systemId);
    if (known) return known;
    if (received.systemId === GCS_SYSTEM_ID || !isVehicleHeartbeat(received)) return null;
    if (this.models.size >= MAX_VEHICLES_PER_LINK) return null;
    const model = new VehicleModel(received.systemId);
    this.models.set(received.systemId, model);
    const others = this.models.size > 1 ? ` (${this.models.size} vehicles on this link)` : '';
    log.info(`${this.description}: vehicle system ${received.systemId} heard${others}`);
    // The first autopilot heard is the one commands go to until someone chooses another.
    if (!this.model.vehicle && this.models.size === 1) this.model = model;
    return model;
  }

  private changeLink(model: VehicleModel, status: LinkStatus, why?: string): void {
    if (!model.setLink(status)) return;
    const selected = model === this.model;
    const systemId = model.vehicle?.systemId ?? 0;
    const who = `system ${systemId}`;
    if (status === 'lost') {
      const reason = why ?? `no heartbeat for ${this.heartbeatTimeoutMs} ms`;
      log.warn(`${this.description}: ${who} link LOST (${reason})`);
    } else {
      log.info(`${this.description}: ${who} ${status}`);
    }
    if (status === 'connected') {
      // Answer at once: a udpin link could not send its heartbeat before the vehicle spoke.
      this.sendHeartbeat();
      if (selected) this.requestStreams();
      else this.requestOtherStreams(model);
    }
    if (selected) {
      this.linkListeners.emit(status);
      if (status === 'lost') this.warnIfOthersAlive(systemId);
    } else if (status === 'connected' && this.model.link === 'lost') {
      this.warnIfOthersAlive(this.model.vehicle?.systemId ?? 0);
    }
    this.vehicleLinkListeners.emit({ systemId, status, selected });
    this.scheduleStateEmit();
  }

  /** Never switches by itself: another vehicle taking the commands must be someone's choice. */
  private warnIfOthersAlive(lostSystemId: number): void {
    const alive = [...this.models.values()]
      .filter((model) => model !== this.model && model.link === 'connected')
      .map((model) => model.vehicle?.systemId);
    if (alive.length === 0) return;
    log.warn(
      `${this.description}: the selected vehicle (system ${lostSystemId}) is LOST while ` +
        `system ${alive.join(', ')} is alive on this link; commands still go to ` +
        `system ${lostSystemId} until another is selected`,
    );
  }

  private checkLink(): void {
    const now = performance.now();
    for (const [systemId, model] of this.models) {
      if (model.link !== 'connected') continue;
      const heardMs = this.heartbeatMonoMs.get(systemId) ?? 0;
      if (now - heardMs > this.heartbeatTimeoutMs) this.changeLink(model, 'lost');
    }
  }

  private onBytes(chunk: Buffer): boolean {
    if (this.disposed) return false;
    this.datagramFromVehicle = false;
    if (this.datagrams) this.decoder.pushDatagram(chunk);
    else this.decoder.push(chunk);
    if (this.rawFrameCount > 0) this.scanRawFrames(chunk);
    return this.datagramFromVehicle;
  }

  private countFrame(frame: FrameInfo): void {
    if (frame.kind === 'gated') return;
    this.meter.frame(frame.systemId, frame.componentId, frame.sequence);
    if (frame.kind === 'valid' && frame.systemId !== GCS_SYSTEM_ID) {
      this.datagramFromVehicle = true;
    }
  }

  /** A TCP connection or a serial port (re)opened: nothing half-read before it is kept. */
  private carrierOpened(): void {
    this.decoder.reset();
    this.frameScanner = null;
    this.meter.restart();
    this.carrierUp = true;
  }

  /** The carrier is gone: every vehicle on it is lost now, not after the heartbeat timeout. */
  private carrierLost(reason: string): void {
    this.carrierUp = false;
    for (const model of this.models.values()) {
      if (model.link === 'connected') this.changeLink(model, 'lost', reason);
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
      this.corruptWarning.report(
        `${this.description}: skipped ${bad - this.reportedBadFrames} corrupt frame(s), ` +
          `${bad} since the link opened`,
      );
      this.reportedBadFrames = bad;
    }
  }

  private sendHeartbeat(): void {
    if (this.gcsHeartbeatEnabled) this.sendMessage(gcsHeartbeat());
  }

  private applyMissionStatus(
    message: common.MissionCurrent | common.MissionItemReached,
    from: { systemId: number; componentId: number },
  ): void {
    const vehicle = this.model.vehicle;
    if (!vehicle || from.systemId !== vehicle.systemId) return;
    const before = this.missionStatus;
    const next =
      message instanceof common.MissionCurrent
        ? { ...before, currentSeq: message.seq, total: message.total || before.total }
        : { ...before, reachedSeq: message.seq };
    if (next.currentSeq === before.currentSeq && next.reachedSeq === before.reachedSeq) {
      this.missionStatus = next;
      return;
    }
    this.missionStatus = next;
    if (message instanceof common.MissionItemReached)
      log.info(`mission item ${message.seq} reached`);
    this.missionListeners.emit({ ...next });
  }

  private async askForRates(): Promise<MessageRatesOutcome> {
    const action = 'Ask for telemetry rates';
    const vehicle = this.model.vehicle;
    const notSent = this.notSentReason();
    if (notSent || !vehicle) {
      return { ...commandOutcome(action, NOT_SENT, notSent), method: 'none', refused: [] };
    }
    const identity = this.model.identity ?? ARDUCOPTER_IDENTITY;
    const refused: string[] = [];
    for (const [messageId, rateHz] of wantedMessageRates(identity)) {
      const answer = await this.commands.run(
        messageIntervalCommand(messageId, rateHz).request,
        vehicle,
      );
      if (answer.result === 'ACCEPTED') continue;
      const unsupported = answer.result === 'UNSUPPORTED' || answer.result === 'TIMEOUT';
      if (unsupported && identity.autopilot === MAV_AUTOPILOT_ARDUPILOTMEGA) {
        // Older ArduPilot: ask for its telemetry groups instead.
        log.info(`SET_MESSAGE_INTERVAL ${answer.result}: asking with REQUEST_DATA_STREAM`);
        for (const request of streamRequests(vehicle)) this.sendMessage(request);
        return {
          ...commandOutcome(action, 'ACCEPTED', null),
          method: 'REQUEST_DATA_STREAM',
          refused: [],
        };
      }
      refused.push(messageName(messageId));
      if (answer.result === 'TIMEOUT' && this.notSentReason()) break;
    }
    if (refused.length > 0) log.info(`the vehicle will not send ${refused.join(', ')} as asked`);
    return { ...commandOutcome(action, 'ACCEPTED', null), method: 'SET_MESSAGE_INTERVAL', refused };
  }

  private requestStreams(): void {
    const vehicle = this.model.vehicle;
    // A recording streams what it holds and answers nothing.
    if (!vehicle || this.spec.kind === 'tlog') return;
    this.lastStreamRequestMonoMs = performance.now();
    if (this.wantsMessageRates) void this.requestMessageRates();
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
    runOptions: RunOptions = {},
  ): Promise<CommandOutcome> {
    const notSent = this.notSentReason();
    const vehicle = this.model.vehicle;
    if (notSent || !vehicle) return commandOutcome(action, NOT_SENT, notSent);
    const answer = await this.commands.run(request, vehicle, runOptions);
    if (answer.result === SUPERSEDED) {
      // Not the vehicle's word: the station dropped it for a later command.
      const text = `${action} abandoned: ${answer.reason ?? 'superseded'} (${SUPERSEDED})`;
      return this.logged({ ok: false, result: SUPERSEDED, text });
    }
    return this.logged(
      commandOutcome(action, answer.result, answer.reason ?? explain(answer.result)),
    );
  }

  private logged<T extends CommandOutcome>(outcome: T): T {
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
      this.vehicleListeners.emit(this.vehicles);
    }, waitMs);
  }

  /** Telemetry for a vehicle that is not selected, enough to put it on the map. */
  private requestOtherStreams(model: VehicleModel): void {
    const vehicle = model.vehicle;
    if (!vehicle || this.spec.kind === 'tlog') return;
    if (model.identity?.autopilot !== MAV_AUTOPILOT_ARDUPILOTMEGA) return;
    for (const request of streamRequests(vehicle)) this.sendMessage(request);
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
    // UDP datagrams hold whole frames; TCP and serial may split one across reads.
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

function count(what: string, value: number): number {
  return Math.max(1, Math.round(positive(what, value)));
}

function positive(what: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`${what} must be a positive number, got ${value}`);
  }
  return value;
}
