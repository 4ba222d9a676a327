// The composition root: owns the vehicle link(s), the simulator, the video source, the
// detector and the map targets, and turns operator commands into vehicle commands. The server
// and the headless event stream both read from it through the same message stream.

import { DisposableStore, toDisposable, type Disposable } from '../core/disposable';
import {
  DEFAULT_POSE_ERRORS,
  georeferenceDetection,
  type CameraPose,
  type PoseErrors,
} from '../core/georef';
import { PoseHistory } from '../core/pose-history';
import type { Terrain } from '../core/terrain';
import { checkTakeoffAltitude } from '../core/limits';
import { createLogger } from '../core/log';
import type {
  LogEntry,
  OperatorCommand,
  Role,
  ServerMessage,
  StationDefaults,
  TileSource,
} from '../core/protocol';
import { checkPointCamera } from '../core/protocol';
import { checkHazingOperator, hazingEventsToCsv } from '../core/hazing-log';
import { TrackedTargets } from '../core/targets';
import { ZoneAlerter, type ZoneAlert, type ZoneEntry } from '../core/zones';
import type {
  CameraModel,
  CommandOutcome,
  Detection,
  GeoDetection,
  LatLon,
  MapTarget,
  VehicleState,
} from '../core/types';
import { Detector } from './detector/detector';
import { HazingLogStore } from './hazing/hazing-log-store';
import { KnownPeople } from './hazing/people';
import { HazingRunner } from './hazing/runner';
import { describeCommand, SessionJournal, sidecarPaths } from './journal';
import type { TilingOptions } from './detector/tiling';
import { resolveModel } from './detector/model-store';
import { parseLinkUri } from './mavlink/uri';
import { SigningKeyStore } from './mavlink/signing';
import { VehicleLink, type VehicleLinkChange } from './mavlink/vehicle-link';
import { VehicleRegistry } from './mavlink/vehicle-registry';
import { sharedDir, userCacheDir } from './paths';
import { defaultZonesFile, ZoneStore } from './zones-store';
import type { StationApi } from './server';
import { spawnSimulator, type SimulatorOptions } from './sim/spawn';
import { frameHeader, type RawFrame } from './tlog/frame';
import { common } from 'mavlink-mappings';
import { startTlogRecording, type TlogWriter } from './tlog/writer';
import { openFrameSource, type FrameSource, type VideoFrame } from './video/frame-source';
import { VideoRecorder } from './video/recorder';

const log = createLogger('station');

export interface StationOptions {
  /** Start the built-in simulator and connect to it. */
  sim: boolean;
  simHome?: LatLon & { altitudeMslM: number };
  /**
   * The simulator's world: its camera streams to udp://127.0.0.1:videoPort (null for no
   * camera) with the station's camera model; the bear and farm are its defaults when absent.
   */
  simWorld?: {
    videoPort: number | null;
    farm?: LatLon;
    bearStart?: LatLon;
    bearSeed?: number;
  };
  /** Link URIs to vehicles (udpin:, udpout:, tcp:, serial:) or recordings (tlog:). */
  links: string[];
  /** Folder for the session's flight record (.tlog), or null for none. Replays are not recorded. */
  recordDir?: string | null;
  /** Where MAVLink 2 signing keys of real vehicles are kept (mode 0600), or null for none. */
  signingKeyFile?: string | null;
  /** Set up signing with a new key on each --link vehicle once it is heard. */
  setupSigning?: boolean;
  /** 'demo', a video file, an image sequence, or null for no video. */
  video: string | null;
  modelPath?: string;
  /** Detect also in overlapping tiles of each frame (small targets); null or absent for off. */
  detectorTiling?: TilingOptions | null;
  camera: CameraModel;
  defaults: StationDefaults;
  tiles: TileSource;
  mapCenter: LatLon;
  /** The protected zones file; absent for zones.json in the user's data folder. */
  zonesFile?: string;
  /** The ground from a user's elevation model; absent or null for flat at home altitude. */
  terrain?: Terrain | null;
  /** 1-sigma pose errors behind each ground position's uncertainty. */
  poseErrors?: PoseErrors;
  /** The relay (MAV_CMD_DO_SET_RELAY instance) that switches the speaker; null for none. */
  speakerRelay?: number | null;
}

/**
 * Telemetry may come once a second on a thin radio link: a frame up to this much newer than
 * the newest pose still takes it, as the station did before it kept a history.
 */
const POSE_HOLD_MS = 2000;
/** Bracketing poses further apart than this mean the link dropped out: no pose in between. */
const POSE_MAX_GAP_MS = 5000;
/** An unchanged pose is still kept this often, so the history reaches up to now. */
const POSE_REPEAT_MS = 100;

/** Known people go out at most this often while only their positions change. */
const PEOPLE_BROADCAST_INTERVAL_MS = 1000;
/** Video frames are this wide until the video says (a search's ground resolution). */
const DEFAULT_IMAGE_WIDTH_PX = 640;
const VEHICLE_BROADCAST_INTERVAL_MS = 250;
/** The vehicle list and link health go out this often (time since heartbeat counts up). */
const LINKS_BROADCAST_INTERVAL_MS = 1000;
const FRAME_BROADCAST_INTERVAL_MS = 150;
const LOG_HISTORY = 200;

type Listener = (message: ServerMessage) => void;

export class Station implements StationApi, Disposable {
  private readonly store = new DisposableStore();
  private readonly listeners = new Set<Listener>();
  private readonly links: VehicleLink[] = [];
  private readonly registry = new VehicleRegistry((level, text) => this.log(level, text));
  private lastVehicleBroadcastMs = 0;
  private readonly targets = new TrackedTargets();
  private zoneStore: ZoneStore | null = null;
  private readonly alerter = new ZoneAlerter();
  /** Alerts by id: all unacknowledged ones and the latest acknowledged. */
  private readonly alerts = new Map<number, ZoneAlert>();
  private nextAlertId = 1;
  private trackerRefusing = false;
  private readonly logHistory: LogEntry[] = [];
  private video: FrameSource | null = null;
  private videoRecorder: VideoRecorder | null = null;
  /** The newest video error told to the operator, so a repeated status does not repeat it. */
  private videoErrorTold: string | null = null;
  private recorder: TlogWriter | null = null;
  /** What clients were told and operators asked, beside the flight record; null without one. */
  private journal: SessionJournal | null = null;
  private nextCommandId = 1;
  private detector: Detector | null = null;
  private hazingLogStore: HazingLogStore | null = null;
  private runner: HazingRunner | null = null;
  private readonly people = new KnownPeople();
  private lastPeopleBroadcastMs = 0;
  private lastFrame: Extract<ServerMessage, { type: 'frame' }> | null = null;
  private lastDetections: Extract<ServerMessage, { type: 'detections' }> | null = null;
  private lastFrameBroadcastMs = 0;
  private signingSetupNoted = false;
  /** The active vehicle's recent poses, so each frame gets the pose of its own time. */
  private readonly poseHistory = new PoseHistory({
    clampToleranceMs: POSE_HOLD_MS,
    maxGapMs: POSE_MAX_GAP_MS,
  });
  private poseSystemId: number | null = null;
  private lastPoseKey = '';
  private lastPoseMs = 0;

  private constructor(private readonly options: StationOptions) {}

  static async start(options: StationOptions): Promise<Station> {
    const station = new Station(options);
    station.loadZones();
    try {
      await station.connect();
      await station.startVideo();
    } catch (error) {
      await station.dispose();
      throw error;
    }
    return station;
  }

  /** The flight record being written, null when there is none (off, replay only, or failed). */
  get recordingPath(): string | null {
    return this.recorder?.isRecording ? this.recorder.path : null;
  }

  /** The video recorded beside the flight record (MPEG-TS), null when none is being made. */
  get videoRecordingPath(): string | null {
    return this.videoRecorder?.isRecording ? this.videoRecorder.videoPath : null;
  }

  /** The CSV that maps each recorded video frame to its frameId and frameTimeMs, or null. */
  get videoTablePath(): string | null {
    return this.videoRecorder?.isRecording ? this.videoRecorder.tablePath : null;
  }

  /** The active vehicle, as the link that hears it best sees it. */
  get vehicle(): VehicleState | null {
    const active = this.registry.activeSystemId;
    if (active !== null) return this.registry.state(active);
    return this.links[0]?.state ?? null;
  }

  /** Every vehicle heard, on any link; the active one is the one commands go to. */
  vehicles(): Extract<ServerMessage, { type: 'vehicles' }> {
    return {
      type: 'vehicles',
      activeSystemId: this.registry.activeSystemId,
      vehicles: this.registry.summaries(Date.now()),
    };
  }

  linkHealth(): Extract<ServerMessage, { type: 'links' }> {
    return { type: 'links', links: this.links.map((link) => link.health) };
  }

  hello(role: Role): Extract<ServerMessage, { type: 'hello' }> {
    return {
      type: 'hello',
      role,
      tiles: this.options.tiles,
      defaults: { ...this.options.defaults, camera: this.options.camera },
      mapCenter: this.options.mapCenter,
    };
  }

  snapshot(): ServerMessage[] {
    const messages: ServerMessage[] = [];
    const vehicle = this.vehicle;
    if (vehicle) messages.push({ type: 'vehicle', vehicle });
    messages.push(this.vehicles(), this.linkHealth());
    if (this.video) messages.push({ type: 'video-status', video: this.video.status });
    if (this.lastFrame) messages.push(this.lastFrame);
    if (this.lastDetections) messages.push(this.lastDetections);
    messages.push({ type: 'targets', targets: this.targets.targets(Date.now()) });
    messages.push({ type: 'zones', zones: this.zoneStore?.zones ?? [] });
    for (const alert of this.alerts.values()) {
      if (alert.acknowledgedMs === null) messages.push({ type: 'alert', alert });
    }
    messages.push({ type: 'action', action: this.runner?.status ?? null });
    messages.push({ type: 'people', people: this.people.list(Date.now()) });
    messages.push({ type: 'hazing-operator', operator: this.hazingLogStore?.operator ?? null });
    for (const event of this.hazingLogStore?.events() ?? []) {
      messages.push({ type: 'hazing-event', event });
    }
    for (const entry of this.logHistory) messages.push({ type: 'log', entry });
    return messages;
  }

  /** The hazing log as it stands, for GET /hazing-log.json and /hazing-log.csv. */
  hazingLog(): { json: string; csv: string } {
    const store = this.hazingLogStore;
    if (!store) {
      const json = `${JSON.stringify({ operator: null, events: [] }, null, 2)}\n`;
      return { json, csv: hazingEventsToCsv([]) };
    }
    return { json: store.toJson(), csv: store.toCsv() };
  }

  onMessage(listener: Listener): Disposable {
    this.listeners.add(listener);
    return toDisposable(() => {
      this.listeners.delete(listener);
    });
  }

  async execute(command: OperatorCommand): Promise<CommandOutcome> {
    const id = this.nextCommandId++;
    this.journal?.command(id, command);
    try {
      const outcome = await this.executeCommand(command);
      this.journal?.result(id, outcome);
      return outcome;
    } catch (error) {
      // The journal says the command failed; the caller still hears the error.
      const reason = error instanceof Error ? error.message : String(error);
      const text = `${describeCommand(command)} failed: ${reason}`;
      this.journal?.result(id, { ok: false, result: 'ERROR', text });
      throw error;
    }
  }

  private async executeCommand(command: OperatorCommand): Promise<CommandOutcome> {
    if (command.kind === 'replay') {
      return refused('This station flies live: there is no flight record being replayed.');
    }
    if (command.kind === 'select-vehicle') {
      this.log('info', `Operator: ${describeCommand(command)}`);
      return this.report(this.selectVehicle(command.systemId));
    }
    if (command.kind === 'save-zone' || command.kind === 'delete-zone') {
      return this.report(this.changeZones(command));
    }
    if (command.kind === 'ack-alert') return this.report(this.acknowledgeAlert(command.alertId));
    if (
      command.kind === 'set-operator' ||
      command.kind === 'mark-person' ||
      command.kind === 'remove-person'
    ) {
      this.log('info', `Operator: ${describeCommand(command)}`);
      return this.report(this.hazingSession(command));
    }
    const link = this.activeLink();
    if (!link) return this.report(refused('There is no vehicle link.'));
    this.log('info', `Operator: ${describeCommand(command)}`);

    try {
      return this.report(await this.run(link, command));
    } catch (error) {
      // The link refuses malformed arguments (altitudes, positions) by throwing.
      const reason = error instanceof Error ? error.message : String(error);
      return this.report(refused(`${describeCommand(command)} refused: ${reason}`));
    }
  }

  private async run(link: VehicleLink, command: OperatorCommand): Promise<CommandOutcome> {
    switch (command.kind) {
      case 'arm-takeoff': {
        const problem = checkTakeoffAltitude(command.altitudeM);
        if (problem) return refused(`Take off refused: ${problem}.`);
        return link.armAndTakeoff(command.altitudeM);
      }
      case 'start-pattern':
        return this.hazing().start(command.targetId, command.settings);
      case 'nudge':
        return this.hazing().nudge(command.nudge);
      case 'abort':
        return this.hazing().abort();
      case 'return-home':
        return this.hazing().returnHome();
      case 'land':
        return this.hazing().land();
      case 'speaker':
        return this.hazing().speaker(command.on);
      case 'point-camera': {
        const yawDeg = command.yawDeg ?? 0;
        const problem = checkPointCamera(command.pitchDeg, yawDeg);
        if (problem) return refused(`Point camera refused: ${problem}.`);
        return link.setGimbal(command.pitchDeg, yawDeg);
      }
      case 'look-at':
        return this.lookAt(link, command.targetId);
      default:
        return refused(`Unknown command ${JSON.stringify(command)}`);
    }
  }

  private selectVehicle(systemId: number): CommandOutcome {
    if (this.registry.activeSystemId === systemId) {
      return { ok: true, result: 'ACCEPTED', text: `Vehicle ${systemId} is already active` };
    }
    if (this.runner?.active) {
      return refused(
        `Vehicle ${systemId} not made active: a pattern is under way; ABORT or finish it first.`,
      );
    }
    try {
      this.registry.select(systemId);
    } catch (error) {
      return refused(`Cannot make vehicle ${systemId} active: ${(error as Error).message}.`);
    }
    this.broadcastVehicles(true);
    const vehicle = this.vehicle;
    const status = vehicle?.link === 'connected' ? 'connected' : 'not heard now';
    return {
      ok: true,
      result: 'ACCEPTED',
      text: `Vehicle ${systemId} is active (${status}): commands go to it now`,
    };
  }

  async dispose(): Promise<void> {
    this.listeners.clear();
    await this.store.dispose();
  }

  private async connect(): Promise<void> {
    // The record goes into the store first so it is closed last, after every link.
    this.startRecording();
    this.startHazing();
    const onRawFrame = (raw: RawFrame): void => {
      // A SETUP_SIGNING frame carries the secret key in clear: it never goes into the record.
      if (frameHeader(raw.frame).messageId === common.SetupSigning.MSG_ID) {
        if (!this.signingSetupNoted) this.log('info', 'Signing set-up frames are not recorded');
        this.signingSetupNoted = true;
        return;
      }
      this.recorder?.write(raw.timeUs, raw.frame);
    };
    if (this.options.sim) {
      const link = this.store.add(await VehicleLink.open('udpin:127.0.0.1:0', { onRawFrame }));
      this.adoptLink(link);
      const port = link.localPort;
      if (port === null) throw new Error('the simulator link has no local port');
      const simulator = this.store.add(
        await spawnSimulator({
          targetHost: '127.0.0.1',
          targetPort: port,
          home: this.options.simHome,
          ...simWorldOptions(this.options),
        }),
      );
      void simulator.ended.then((how) => {
        if (!this.store.isDisposed) this.log('error', `The simulator stopped (${how})`);
      });
      // Labelled as truth, for tests and demos to compare the estimated track with.
      this.store.add(simulator.onBear((bear) => this.broadcast({ type: 'sim-truth', bear })));
      log.info(`simulator started, talking to udpin:127.0.0.1:${port}`);
    }
    // Stored keys belong to real vehicles; the simulator's system id 1 must not inherit one.
    const keyStore = this.options.signingKeyFile
      ? SigningKeyStore.open(this.options.signingKeyFile)
      : undefined;
    for (const uri of this.options.links) {
      const options = isReplay(uri) ? {} : { onRawFrame, signing: { keyStore } };
      const link = this.store.add(await VehicleLink.open(uri, options));
      // Vehicles are told apart by system id and links by name: one name, one link.
      if (this.links.some((other) => other.description === link.description)) {
        throw new Error(`the link ${link.description} is given twice`);
      }
      this.adoptLink(link);
      log.info(`link open: ${uri}`);
      if (this.options.setupSigning && !isReplay(uri)) this.setupSigningWhenHeard(link);
    }
  }

  /** Sets up MAVLink 2 signing with a new key once the vehicle is heard (a trusted link). */
  private setupSigningWhenHeard(link: VehicleLink): void {
    const subscription = this.store.add(
      link.onLinkChange((status) => {
        if (status !== 'connected') return;
        void subscription.dispose();
        void link.setupSigning().then(
          (outcome) => this.report(outcome),
          (error: unknown) => this.log('error', `Signing set-up failed: ${String(error)}`),
        );
      }),
    );
  }

  private startRecording(): void {
    const dir = this.options.recordDir;
    const live = this.options.sim || this.options.links.some((uri) => !isReplay(uri));
    if (!dir || !live) return;
    try {
      this.recorder = this.store.add(
        startTlogRecording(dir, { onError: (message) => this.log('error', message) }),
      );
      this.log('info', `Recording the flight to ${this.recorder.path}`);
      this.startJournal(this.recorder.path);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.log('error', `No flight record: ${reason}. The station goes on without one.`);
    }
  }

  /** The journal beside the flight record, starting with what a new client would be sent. */
  private startJournal(tlogPath: string): void {
    const filePath = sidecarPaths(tlogPath).journal;
    try {
      this.journal = this.store.add(
        SessionJournal.open(filePath, { onError: (message) => this.log('error', message) }),
      );
    } catch (error) {
      this.log('error', `No session journal: ${(error as Error).message}`);
      return;
    }
    for (const message of this.snapshot()) this.journal.record(message);
  }

  private adoptLink(link: VehicleLink): void {
    this.links.push(link);
    this.store.add(
      link.onVehicles((vehicles) => {
        this.registry.update(link.description, vehicles);
        this.recordPose();
        this.broadcastVehicles(false);
      }),
    );
    this.store.add(link.onVehicleLinkChange((change) => this.vehicleLinkChanged(link, change)));
    this.store.add(
      link.onStatusText((statusText) => {
        // A vehicle heard on two links says everything twice: take it from one.
        if (link !== this.activeLink() || link.selectedSystemId !== this.activeSystemId()) return;
        const level =
          statusText.severity <= 3 ? 'error' : statusText.severity <= 4 ? 'warn' : 'info';
        this.log(level, `Vehicle: ${statusText.text}`);
      }),
    );
    if (this.links.length === 1) {
      const timer = setInterval(
        () => this.broadcast(this.linkHealth()),
        LINKS_BROADCAST_INTERVAL_MS,
      );
      this.store.add(toDisposable(() => clearInterval(timer)));
    }
  }

  private activeSystemId(): number | null {
    return this.registry.activeSystemId;
  }

  private vehicleLinkChanged(link: VehicleLink, change: VehicleLinkChange): void {
    const before = this.registry.status(change.systemId);
    this.registry.update(link.description, link.vehicles);
    const after = this.registry.status(change.systemId);
    if (change.systemId === this.activeSystemId()) {
      if (after !== before) {
        const level = after === 'lost' ? 'error' : 'info';
        this.log(level, `Vehicle link ${after === 'lost' ? 'LOST' : after}`);
        if (after === 'lost') this.runner?.linkLost();
      } else if (this.links.length > 1) {
        // One of several links to the active vehicle changed; the vehicle is still heard.
        const others = this.registry
          .linksFor(change.systemId)
          .filter((n) => n !== link.description);
        const level = change.status === 'lost' ? 'warn' : 'info';
        const word = change.status === 'lost' ? 'lost' : 'back';
        this.log(
          level,
          `Link ${link.description} ${word} for vehicle ${change.systemId}` +
            (others.length > 0 ? `; also heard on ${others.join(', ')}` : ''),
        );
      }
    }
    this.broadcastVehicles(true);
  }

  /** The active vehicle's state (and the list of all) to every client, at most 4 times a second. */
  private broadcastVehicles(now: boolean): void {
    const vehicle = this.vehicle;
    if (vehicle && this.registry.activeSystemId !== null) this.runner?.vehicleChanged(vehicle);
    const nowMs = Date.now();
    if (!now && nowMs - this.lastVehicleBroadcastMs < VEHICLE_BROADCAST_INTERVAL_MS) return;
    this.lastVehicleBroadcastMs = nowMs;
    if (vehicle) this.broadcast({ type: 'vehicle', vehicle });
    this.broadcast(this.vehicles());
  }

  /**
   * The link commands go out on: of the links that hear the active vehicle, the one alive that
   * heard it most recently. That link is told which vehicle its commands are for.
   */
  private activeLink(): VehicleLink | null {
    const active = this.registry.activeSystemId;
    if (active === null) return this.links[0] ?? null;
    const best = this.registry.linksFor(active)[0];
    const link = this.links.find((candidate) => candidate.description === best) ?? null;
    if (link && link.selectedSystemId !== active) link.selectVehicle(active);
    return link;
  }

  private async startVideo(): Promise<void> {
    if (!this.options.video) return;
    const cacheDir = userCacheDir();
    const model = await resolveModel({
      explicitPath: this.options.modelPath,
      cacheDir,
      sharedDir: sharedDir(),
      allowDownload: true,
      onProgress: progressLogger(),
    });
    log.info(`model: ${model.path} (${model.source})`);
    this.detector = this.store.add(
      await Detector.create({
        modelPath: model.path,
        card: model.card,
        tiling: this.options.detectorTiling ?? null,
      }),
    );
    this.store.add(
      this.detector.onDetections((frame, detections) => this.onDetections(frame, detections)),
    );

    // The video record goes into the store before the source, so it closes after the last frame.
    const tlogPath = this.recordingPath;
    if (tlogPath) {
      try {
        this.videoRecorder = this.store.add(
          VideoRecorder.start(tlogPath.replace(/\.tlog$/i, ''), {
            onError: (message) => this.log('error', message),
          }),
        );
        this.log('info', `Recording the video to ${this.videoRecorder.videoPath}`);
      } catch (error) {
        this.log('error', `No video record: ${(error as Error).message}`);
      }
    }

    const detector = this.detector;
    this.video = this.store.add(
      openFrameSource(this.options.video, {
        cacheDir,
        sharedDir: sharedDir(),
        droppedDownstream: () => detector.stats.framesDropped,
      }),
    );
    this.store.add(this.video.onFrame((frame) => this.onFrame(frame)));
    this.store.add(
      this.video.onStatus((video) => {
        // The status repeats every second; the operator hears of each new problem once.
        if (video.error && video.error !== this.videoErrorTold) {
          this.log(video.state === 'reconnecting' ? 'warn' : 'error', `Video: ${video.error}`);
        }
        this.videoErrorTold = video.error;
        this.broadcast({ type: 'video-status', video });
      }),
    );
  }

  private onFrame(frame: VideoFrame): void {
    // Nothing queues here: the detector keeps only the newest waiting frame, and the recorder
    // leaves frames out rather than hold them when ffmpeg is behind.
    this.detector?.submit(frame);
    this.videoRecorder?.write(frame);

    const nowMs = Date.now();
    if (nowMs - this.lastFrameBroadcastMs < FRAME_BROADCAST_INTERVAL_MS) return;
    this.lastFrameBroadcastMs = nowMs;
    this.lastFrame = {
      type: 'frame',
      frameId: frame.frameId,
      frameTimeMs: frame.frameTimeMs,
      width: frame.width,
      height: frame.height,
      jpeg: frame.jpeg.toString('base64'),
    };
    this.broadcast(this.lastFrame);
  }

  private onDetections(
    frame: { frameId: number; frameTimeMs: number },
    detections: Detection[],
  ): void {
    const geo: GeoDetection[] = this.georeference(frame, detections);
    // Track ids go on the boxes before they go out, so the video can label them.
    const tracked = this.targets.update(frame.frameTimeMs, geo);
    if (!tracked.accepted && !this.trackerRefusing) {
      this.log('warn', `Tracking paused: frame ${frame.frameId} refused (${tracked.reason})`);
    }
    this.trackerRefusing = !tracked.accepted;
    this.lastDetections = {
      type: 'detections',
      frameId: frame.frameId,
      frameTimeMs: frame.frameTimeMs,
      detections: tracked.detections,
    };
    this.broadcast(this.lastDetections);

    const targets = this.targets.targets(frame.frameTimeMs);
    this.broadcast({ type: 'targets', targets });
    // A target is forgotten only once off the map: one seen again keeps its alerts.
    for (const targetId of tracked.forgottenIds) this.alerter.forgetTrack(targetId);
    // Only targets seen in this frame: one whose track ended stays on the map but cannot move.
    const seen = targets.filter((target) => target.lastSeenMs === frame.frameTimeMs);
    const entries = this.alerter.update(
      seen.map((target) => ({
        trackId: target.id,
        className: target.className,
        position: target.position,
        timeMs: frame.frameTimeMs,
      })),
      this.zoneStore?.zones ?? [],
    );
    for (const entry of entries) this.raiseAlert(entry);
    this.updatePeople(targets, Date.now());
  }

  private loadZones(): void {
    const file = this.options.zonesFile ?? defaultZonesFile();
    this.zoneStore = ZoneStore.open(file);
    const problem = this.zoneStore.loadError;
    if (problem) {
      this.log(
        'error',
        `Protected zones not loaded: ${problem}. Starting with none; the file is kept ` +
          'aside (renamed) when a zone is next saved.',
      );
    } else {
      log.info(`protected zones: ${this.zoneStore.zones.length} from ${file}`);
    }
  }

  private changeZones(
    command: Extract<OperatorCommand, { kind: 'save-zone' | 'delete-zone' }>,
  ): CommandOutcome {
    const store = this.zoneStore;
    if (!store) return refused('Zones are not available.');
    let text: string;
    try {
      if (command.kind === 'save-zone') {
        const { zone, created } = store.save(command.zone);
        text =
          `Zone "${zone.name}" ${created ? 'added' : 'changed'}: alert within ` +
          `${zone.alertDistanceM} m, ${zone.polygon.length} corners`;
      } else {
        const zone = store.delete(command.zoneId);
        text = `Zone "${zone.name}" deleted`;
      }
    } catch (error) {
      const verb = command.kind === 'save-zone' ? 'not saved' : 'not deleted';
      return refused(`Zone ${verb}: ${(error as Error).message}.`);
    }
    this.broadcast({ type: 'zones', zones: store.zones });
    return { ok: true, result: 'ACCEPTED', text };
  }

  private raiseAlert(entry: ZoneEntry): void {
    const alert: ZoneAlert = { ...entry, id: this.nextAlertId++, acknowledgedMs: null };
    this.alerts.set(alert.id, alert);
    // Acknowledged alerts are history: keep a few, never an unbounded pile.
    const acknowledged = [...this.alerts.values()].filter((a) => a.acknowledgedMs !== null);
    for (const old of acknowledged.slice(0, Math.max(0, acknowledged.length - 20))) {
      this.alerts.delete(old.id);
    }
    const where = alert.inside
      ? `is inside "${alert.zoneName}"`
      : `is ${Math.round(alert.distanceM)} m from "${alert.zoneName}"`;
    this.log(
      'warn',
      `ALERT: ${alert.className} #${alert.trackId} ${where} ` +
        `(${alert.position.latDeg.toFixed(6)}, ${alert.position.lonDeg.toFixed(6)})`,
    );
    this.broadcast({ type: 'alert', alert });
  }

  private acknowledgeAlert(alertId: number): CommandOutcome {
    const alert = this.alerts.get(alertId);
    if (!alert) return refused(`Alert ${alertId} is not known to the station.`);
    if (alert.acknowledgedMs !== null) {
      return { ok: true, result: 'ACCEPTED', text: `Alert ${alertId} was already acknowledged` };
    }
    const acknowledged: ZoneAlert = { ...alert, acknowledgedMs: Date.now() };
    this.alerts.set(alertId, acknowledged);
    this.broadcast({ type: 'alert', alert: acknowledged });
    return {
      ok: true,
      result: 'ACCEPTED',
      text:
        `Alert acknowledged: ${alert.className} #${alert.trackId} ` +
        (alert.inside
          ? `inside "${alert.zoneName}"`
          : `${Math.round(alert.distanceM)} m from "${alert.zoneName}"`),
    };
  }

  /** Each detection's place on the ground, with the pose of the frame's own time. */
  private georeference(
    frame: { frameId: number; frameTimeMs: number },
    detections: Detection[],
  ): GeoDetection[] {
    if (detections.length === 0) return [];
    const pose = this.cameraPose(frame.frameTimeMs);
    if (!pose.ok) {
      return detections.map((detection) => ({
        ...detection,
        ground: null,
        groundError: pose.reason,
        uncertainty: null,
      }));
    }
    const options = {
      terrain: this.options.terrain ?? null,
      errors: this.options.poseErrors ?? DEFAULT_POSE_ERRORS,
    };
    return detections.map((detection) =>
      georeferenceDetection(detection, pose.pose, this.options.camera, options),
    );
  }

  /** Keeps the active vehicle's pose whenever telemetry changes it. */
  private recordPose(): void {
    const vehicle = this.vehicle;
    if (!vehicle?.position || !vehicle.attitude) return;
    if (vehicle.systemId !== this.poseSystemId) {
      // Another vehicle's past says nothing about this one's camera.
      this.poseHistory.clear();
      this.poseSystemId = vehicle.systemId;
    }
    const { position, attitude, gimbal } = vehicle;
    const key = JSON.stringify([position, attitude, gimbal]);
    const nowMs = Date.now();
    // A hovering drone repeats its pose: keep it now and then, as proof it still holds.
    if (key === this.lastPoseKey && nowMs - this.lastPoseMs < POSE_REPEAT_MS) return;
    this.lastPoseKey = key;
    this.lastPoseMs = nowMs;
    try {
      this.poseHistory.push({ timeMs: nowMs, position, attitude, gimbal });
    } catch (error) {
      log.debug(`pose not kept: ${(error as Error).message}`);
    }
  }

  /**
   * The camera pose at a frame's time, interpolated in the pose history. Flat ground at home
   * altitude by default; over a terrain model the camera's height above sea level is the
   * model's height at home plus the relative altitude (barometric, steadier than GPS height),
   * or the GPS height where home is off the model.
   */
  private cameraPose(frameTimeMs: number):
    | { ok: true; pose: CameraPose }
    | {
        ok: false;
        reason: string;
      } {
    const at = this.poseHistory.at(frameTimeMs);
    if (!at.ok) return at;
    const { position, attitude, gimbal } = at.sample;
    const pose: CameraPose = {
      position,
      altitudeAglM: position.altitudeRelM,
      vehicleAttitude: attitude,
      gimbal: gimbal ?? { pitchDeg: -90, rollDeg: 0, yawDeg: 0, yawFrame: 'vehicle' },
    };
    const terrain = this.options.terrain;
    if (!terrain) return { ok: true, pose };
    const home = this.vehicle?.home;
    const homeGroundMslM = home ? terrain.elevationMslM(home) : null;
    pose.altitudeMslM =
      homeGroundMslM !== null ? homeGroundMslM + position.altitudeRelM : position.altitudeMslM;
    const groundBelowMslM = terrain.elevationMslM(position);
    // Over a valley below home the relative altitude is negative yet the camera is up.
    if (groundBelowMslM !== null) pose.altitudeAglM = pose.altitudeMslM - groundBelowMslM;
    return { ok: true, pose };
  }

  /** A region of interest at a tracked target's latest position, on the ground at home level. */
  private async lookAt(link: VehicleLink, targetId: number): Promise<CommandOutcome> {
    const vehicle = link.state;
    if (vehicle.link !== 'connected') {
      const why = vehicle.link === 'lost' ? 'the link to the vehicle is lost' : 'none heard yet';
      return refused(`Look at refused: no vehicle is connected (${why}).`);
    }
    const target = this.targets.find(targetId, Date.now());
    if (!target) return refused(`Look at refused: target ${targetId} is not tracked now.`);
    // Flat ground at home, as startPush aims; without HOME_POSITION, home's height from the
    // drone's MSL and relative altitudes.
    const homeAltitudeMslM =
      vehicle.home?.altitudeMslM ??
      (vehicle.position ? vehicle.position.altitudeMslM - vehicle.position.altitudeRelM : null);
    if (homeAltitudeMslM === null) {
      return refused('Look at refused: the vehicle has reported neither home nor a position.');
    }
    const outcome = await link.setRegionOfInterest({
      ...target.position,
      altitudeMslM: homeAltitudeMslM,
    });
    // A fixed point: the camera stays on it, not on the animal, until asked again.
    const what = `${target.className} #${target.id}`;
    const text = outcome.ok
      ? `Camera pointed at where ${what} is now (${outcome.result})`
      : `Look at ${what}: ${outcome.text}`;
    return { ...outcome, text };
  }

  /**
   * The hazing log beside the flight record (the .tlog's name with .hazing.jsonl), and the
   * runner that flies the patterns and writes to it.
   */
  private startHazing(): void {
    const tlogPath = this.recordingPath;
    const filePath = tlogPath ? tlogPath.replace(/\.tlog$/i, '') + '.hazing.jsonl' : null;
    let hazingLog: HazingLogStore;
    try {
      hazingLog = new HazingLogStore({ filePath });
      const problem = hazingLog.writeError;
      if (problem) this.log('error', `Hazing log: ${problem}`);
      else if (filePath) this.log('info', `Hazing log: ${filePath}`);
    } catch (error) {
      this.log(
        'error',
        `No hazing log file: ${(error as Error).message}. Hazing events are kept in memory ` +
          'only (exported from the station while it runs).',
      );
      hazingLog = new HazingLogStore({ filePath: null });
    }
    this.hazingLogStore = this.store.add(hazingLog);
    this.store.add(hazingLog.onChange((event) => this.broadcast({ type: 'hazing-event', event })));
    this.runner = this.store.add(
      new HazingRunner({
        link: () => this.activeLink(),
        linkUp: () => {
          const active = this.registry.activeSystemId;
          return active !== null && this.registry.status(active) === 'connected';
        },
        targets: (nowMs) => this.targets.targets(nowMs),
        zones: () => this.zoneStore?.zones ?? [],
        people: (nowMs) => this.people.list(nowMs).map((person) => person.position),
        hazingLog,
        limits: this.options.defaults.envelope,
        camera: this.options.camera,
        imageWidthPx: () => this.video?.status.width || DEFAULT_IMAGE_WIDTH_PX,
        terrain: this.options.terrain ?? null,
        speakerRelay: this.options.speakerRelay ?? null,
        onStatus: (action) => this.broadcast({ type: 'action', action }),
        onLog: (level, text) => this.log(level, text),
      }),
    );
  }

  /** The runner; it exists from the start, before any command can come. */
  private hazing(): HazingRunner {
    if (!this.runner) throw new Error('hazing is not available (the station did not start)');
    return this.runner;
  }

  private hazingSession(
    command: Extract<OperatorCommand, { kind: 'set-operator' | 'mark-person' | 'remove-person' }>,
  ): CommandOutcome {
    const nowMs = Date.now();
    try {
      switch (command.kind) {
        case 'set-operator': {
          const hazingLog = this.hazingLogStore;
          if (!hazingLog) return refused('Hazing operator not set: the hazing log is not open.');
          const operator = checkHazingOperator(command.operator);
          hazingLog.setOperator(operator);
          this.broadcast({ type: 'hazing-operator', operator: hazingLog.operator });
          return {
            ok: true,
            result: 'ACCEPTED',
            text:
              `Hazing operator: ${operator.operatorName}, ` +
              `agency or permit ${operator.agencyOrPermitId}`,
          };
        }
        case 'mark-person': {
          const person = this.people.mark(command.position, nowMs);
          this.broadcastPeople(nowMs);
          return {
            ok: true,
            result: 'ACCEPTED',
            text:
              `Person marked (${person.id}) at ${person.position.latDeg.toFixed(6)}, ` +
              `${person.position.lonDeg.toFixed(6)}: patterns keep clear`,
          };
        }
        case 'remove-person': {
          const person = this.people.remove(String(command.personId));
          this.broadcastPeople(nowMs);
          return { ok: true, result: 'ACCEPTED', text: `Person ${person.id} removed` };
        }
      }
    } catch (error) {
      const what =
        command.kind === 'set-operator'
          ? 'Hazing operator not set'
          : command.kind === 'mark-person'
            ? 'Person not marked'
            : 'Person not removed';
      return refused(`${what}: ${(error as Error).message}.`);
    }
  }

  /** Detected people: the list goes out when someone comes or goes, moves at most each second. */
  private updatePeople(targets: readonly MapTarget[], nowMs: number): void {
    const change = this.people.update(targets, nowMs);
    if (change === null) return;
    if (change === 'moved' && nowMs - this.lastPeopleBroadcastMs < PEOPLE_BROADCAST_INTERVAL_MS) {
      return;
    }
    this.broadcastPeople(nowMs);
  }

  private broadcastPeople(nowMs: number): void {
    this.lastPeopleBroadcastMs = nowMs;
    this.broadcast({ type: 'people', people: this.people.list(nowMs) });
  }

  private report(outcome: CommandOutcome): CommandOutcome {
    this.log(outcome.ok ? 'info' : 'warn', outcome.text);
    return outcome;
  }

  private log(level: LogEntry['level'], text: string): void {
    const entry: LogEntry = { timeMs: Date.now(), level, text };
    log[level](text);
    this.logHistory.push(entry);
    if (this.logHistory.length > LOG_HISTORY) this.logHistory.shift();
    this.broadcast({ type: 'log', entry });
  }

  private broadcast(message: ServerMessage): void {
    this.journal?.record(message);
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (error) {
        log.error(`a station listener failed: ${String(error)}`);
      }
    }
  }
}

/** The simulator's world as spawnSimulator takes it: its camera sees as the station assumes. */
function simWorldOptions(options: StationOptions): Partial<SimulatorOptions> {
  const world = options.simWorld;
  if (!world) return {};
  const { videoPort, farm, bearStart, bearSeed } = world;
  return {
    farm,
    bearStart,
    bearSeed,
    video:
      videoPort === null
        ? undefined
        : {
            port: videoPort,
            horizontalFovDeg: options.camera.horizontalFovDeg,
            verticalFovDeg: options.camera.verticalFovDeg,
          },
  };
}

function isReplay(uri: string): boolean {
  try {
    return parseLinkUri(uri).kind === 'tlog';
  } catch {
    // VehicleLink.open reports the bad URI.
    return false;
  }
}

function refused(text: string): CommandOutcome {
  return { ok: false, result: 'NOT_SENT', text };
}

function progressLogger(): (received: number, total: number | null) => void {
  let lastPct = -10;
  return (received, total) => {
    if (!total) return;
    const pct = Math.floor((received / total) * 100);
    if (pct >= lastPct + 10) {
      lastPct = pct;
      log.info(`downloading model: ${pct}% of ${(total / 1e6).toFixed(1)} MB`);
    }
  };
}
