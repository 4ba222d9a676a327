// The headless station: `npm run station -- --sim --video demo --serve 127.0.0.1:8080`.
// Logs go to stderr; with `--events -` stdout carries one JSON object per line for scripts.

import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { escapeMarkup } from '../core/markup';
import { DisposableStore, toDisposable } from '../core/disposable';
import { createLogger, isLogLevel, setLogLevel } from '../core/log';
import { PATTERN_RANGES } from '../core/patterns';
import { DEFAULT_ENVELOPE, ENVELOPE_RANGES, type EnvelopeLimits } from '../core/envelope';
import { TAKEOFF_ALTITUDE_RANGE_M } from '../core/limits';
import { DEFAULT_POSE_ERRORS } from '../core/georef';
import type { Terrain } from '../core/terrain';
import type { ServerMessage, StationDefaults, TileSource } from '../core/protocol';
import type { LatLon } from '../core/types';
import { alertEvent, EventWriter } from './event-writer';
import { parseLinkUri } from './mavlink/uri';
import { installStderrLogSink } from './log';
import { projectRoot, userDataDir } from './paths';
import { MIN_TOKEN_LENGTH, startServer, type StationApi, type StationServer } from './server';
import { loadDems } from './terrain/load';
import type { TilingOptions } from './detector/tiling';
import { DEFAULT_VIDEO } from './sim/args';
import { Station, type StationOptions } from './station';
import { ReplaySession } from './replay/replay-session';
import { ReplayStation } from './replay/replay-station';
import { openTileStore, type TileStore } from './tiles/tile-store';
import { zonesPathProblem } from './zones-store';

const log = createLogger('cli');

const USAGE = `Usage: npm run station -- [options]

  --sim                     start the built-in simulated drone and connect to it
  --link URI                connect to a vehicle (repeatable): udpin:HOST:PORT,
                            udpout:HOST:PORT, tcp:HOST:PORT, serial:DEVICE[:BAUD]
                            (DEVICE a path, a glob, or auto?vid=V&pid=P&serial=S);
                            or replay a flight record as if live:
                            tlog:FILE?speed=N (0 < N <= 100, default 1)
  --record DIR|off          write the session's flight record (.tlog) into DIR
                            (default: the data folder's logs/); off for none
  --signing-keys FILE|off   MAVLink 2 signing keys of --link vehicles, mode 0600
                            (default: signing-keys.json in the data folder)
  --setup-signing           give each --link vehicle a new signing key once heard
                            (the key crosses the link in clear: use a trusted link)
  --video SPEC              demo | a video file | an image sequence (dir/img_%04d.jpg) |
                            a live stream, reopened when it drops: rtsp://HOST/PATH
                            (TCP; ?transport=udp for UDP), udp://HOST:PORT (MPEG-TS,
                            H.264/H.265), rtp://HOST:PORT?codec=h264|h265 (RTP, payload
                            96, as QGroundControl's port 5600 streams). With --record,
                            the video and a frame table are saved beside the .tlog
  --model PATH              the ONNX detector weights (default: URSA_MODEL, the cache,
                            ../shared/models, else downloaded and checked)
  --detect-tiles PX|off     also detect in overlapping PX-wide tiles of each frame, enlarged
                            to the model's input, for small targets (several times the
                            inference per frame; off by default)
  --serve HOST:PORT         serve the UI (default none; 127.0.0.1 keeps it on this machine)
  --token TOKEN             the operator token, 16 characters or more (default: a new random
                            one); also URSA_TOKEN
  --tiles SPEC              osm (default) | an https URL template | a tile folder | .mbtiles
                            (also URSA_TILES)
  --events FILE|-           write one JSON object per line (- for stdout)
  --zones FILE              the protected zones, saved when the operator changes them
                            (default: zones.json in the data folder)
  --duration SECONDS        stop cleanly after this long
  --home LAT,LON,ALT_MSL    where the simulator starts (default 48.17,-111.95,1060)
  --video sim               with --sim: the simulated drone's camera, streamed by the
                            simulator as H.264 to udp://127.0.0.1:PORT and watched there
  --sim-video-port N        that PORT (default 5600, the usual ground-station port)
  --sim-farm LAT,LON        the farm yard the simulated bear walks to (default 50 m
                            north of home)
  --sim-bear LAT,LON        where the simulated bear starts (default 50 m north, 8 m
                            west of home, in the farm yard)
  --sim-seed N              seed of the simulated bear's walk (default: the clock)
  --takeoff-alt M           default take-off altitude (20)
  --standoff M              default push standoff from the bear (40, 20-150)
  --push-alt M              default push altitude above the ground (15, 15-40)
  --floor-agl M             safety envelope: lowest setpoint above the ground (10; 5-60)
  --ceiling-agl M           safety envelope: highest setpoint above the ground (120; 20-120)
  --bear-standoff M         safety envelope: closest setpoint (and path) to any bear (20;
                            10-100)
  --person-radius M         safety envelope: closest setpoint (and path) to any person (30;
                            10-200)
  --battery-reserve PCT     safety envelope: battery left on landing at home after flying
                            back (20; 10-60)
  --speaker-relay N         the airframe's speaker is on relay N (MAV_CMD_DO_SET_RELAY;
                            none by default)
  --hfov DEG, --vfov DEG    the camera's field of view (60 x 45; with --video sim the
                            simulator's zoom camera, 8 x 6)
  --dem SPEC                the ground from an elevation model instead of flat at home
                            altitude (repeatable, first with data wins): FILE.tif (one
                            band, EPSG:4326 or 3857) | terrarium:DIR | mapbox:DIR (z/x/y.png)
  --attitude-error DEG      1-sigma camera pointing error behind each position's
                            uncertainty ellipse (1.5; GPS 1.5 m and altitude 1.5 m)
  --log-level LEVEL         debug | info | warn | error (info)
  --help

Replaying a flight record (no vehicle is ever commanded):
  --replay FILE.tlog        replay FILE.tlog with the video, journal and hazing log
                            recorded beside it; with --serve, --token, --tiles, --events,
                            --duration, --log-level and:
  --report-dir DIR          where exported incident reports go (default: the data
                            folder's reports/)`;

const OSM: TileSource = {
  kind: 'online',
  urlTemplate: 'https://tile.openstreetmap.org/{z}/{x}/{y}.png',
  attribution: '&copy; OpenStreetMap contributors',
  maxZoom: 19,
};

const DEFAULT_HOME = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };

class UsageError extends Error {}

const DETECT_TILE_RANGE_PX = { min: 64, max: 4096 };

function parseDetectTiles(value: string | undefined): TilingOptions | null {
  if (value === undefined || value === 'off') return null;
  const tileSizePx = parseNumber('detect-tiles', value, 0, DETECT_TILE_RANGE_PX);
  if (!Number.isInteger(tileSizePx)) {
    throw new UsageError(`--detect-tiles must be a whole number of pixels or off, got ${value}`);
  }
  // A quarter of a tile of overlap keeps an object cut by one edge whole in the next tile.
  return { tileSizePx, overlapPx: Math.round(tileSizePx / 4) };
}

const STATUS_EVENT_INTERVAL_MS = 1000;
const FOV_RANGE_DEG = { min: 1, max: 179 };
const DEFAULT_LENS = { hfovDeg: 60, vfovDeg: 45 };
/** Beyond 20 deg an ellipse says nothing useful; 0 leaves only GPS and altitude error. */
const ATTITUDE_ERROR_RANGE_DEG = { min: 0, max: 20 };
/** setTimeout's limit (about 24.8 days). */
const MAX_DURATION_S = 2_147_483;
/** From the Dead Sea shore to above Everest. */
const HOME_ALTITUDE_RANGE_M = { min: -500, max: 9000 };

function parseNumber(
  name: string,
  value: string | undefined,
  fallback: number,
  range: { min: number; max: number } = { min: -Infinity, max: Infinity },
): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed)) {
    throw new UsageError(`--${name} must be a number, not "${value}"`);
  }
  if (parsed < range.min || parsed > range.max) {
    throw new UsageError(`--${name} must be from ${range.min} to ${range.max}, not ${parsed}`);
  }
  return parsed;
}

type EnvelopeOption =
  'floor-agl' | 'ceiling-agl' | 'bear-standoff' | 'person-radius' | 'battery-reserve';

/** The safety envelope from its options: each within ENVELOPE_RANGES, floor below ceiling. */
function parseEnvelope(values: { [option in EnvelopeOption]?: string }): EnvelopeLimits {
  const limit = (option: EnvelopeOption, key: keyof EnvelopeLimits): number =>
    parseNumber(option, values[option], DEFAULT_ENVELOPE[key], ENVELOPE_RANGES[key]);
  const envelope: EnvelopeLimits = {
    floorAglM: limit('floor-agl', 'floorAglM'),
    ceilingAglM: limit('ceiling-agl', 'ceilingAglM'),
    bearStandoffM: limit('bear-standoff', 'bearStandoffM'),
    personRadiusM: limit('person-radius', 'personRadiusM'),
    batteryReservePct: limit('battery-reserve', 'batteryReservePct'),
  };
  if (envelope.floorAglM >= envelope.ceilingAglM) {
    throw new UsageError(
      `--floor-agl (${envelope.floorAglM} m) must be below --ceiling-agl ` +
        `(${envelope.ceilingAglM} m)`,
    );
  }
  return envelope;
}

/** The speaker's relay number, or null for an airframe without one. */
function parseSpeakerRelay(value: string | undefined): number | null {
  if (value === undefined) return null;
  const relay = parseNumber('speaker-relay', value, 0, { min: 0, max: 255 });
  if (!Number.isInteger(relay)) {
    throw new UsageError(`--speaker-relay must be a whole relay number, not ${value}`);
  }
  return relay;
}

function parseHostPort(value: string): { host: string; port: number } {
  const match = /^(.+):(\d+)$/.exec(value);
  if (!match) {
    throw new UsageError(`--serve must be HOST:PORT (for example 127.0.0.1:8080), not "${value}"`);
  }
  const port = Number(match[2]);
  if (port > 65535) throw new UsageError(`--serve: port ${port} is above 65535`);
  return { host: match[1].replace(/^\[|\]$/g, ''), port };
}

function parseHome(value: string | undefined): LatLon & { altitudeMslM: number } {
  if (value === undefined) return DEFAULT_HOME;
  const parts = value.split(',').map(Number);
  const [latDeg, lonDeg, altitudeMslM] = parts;
  const valid =
    parts.length === 3 &&
    parts.every(Number.isFinite) &&
    Math.abs(latDeg) <= 90 &&
    Math.abs(lonDeg) <= 180 &&
    altitudeMslM >= HOME_ALTITUDE_RANGE_M.min &&
    altitudeMslM <= HOME_ALTITUDE_RANGE_M.max;
  if (!valid) {
    throw new UsageError(
      `--home must be LAT,LON,ALT_MSL (altitude ${HOME_ALTITUDE_RANGE_M.min} to ` +
        `${HOME_ALTITUDE_RANGE_M.max} m), not "${value}"`,
    );
  }
  return { latDeg, lonDeg, altitudeMslM };
}

/** The simulator's camera is watched where it streams to, as any live UDP camera is. */
function simVideoSource(port: number): string {
  return `udp://127.0.0.1:${port}`;
}

function parseLatLon(name: string, value: string): LatLon {
  const parts = value.split(',').map((part) => part.trim());
  const [latDeg, lonDeg] = parts.map(Number);
  const valid =
    parts.length === 2 &&
    parts.every((part) => part !== '') &&
    Math.abs(latDeg) <= 90 &&
    Math.abs(lonDeg) <= 180;
  if (!valid) throw new UsageError(`--${name} must be LAT,LON in degrees, not "${value}"`);
  return { latDeg, lonDeg };
}

/** The simulator's camera, bear and farm options; they need --sim. */
function parseSimWorld(values: {
  sim: boolean;
  video?: string;
  'sim-video-port'?: string;
  'sim-farm'?: string;
  'sim-bear'?: string;
  'sim-seed'?: string;
}): NonNullable<StationOptions['simWorld']> {
  const given = (['sim-video-port', 'sim-farm', 'sim-bear', 'sim-seed'] as const).filter(
    (name) => values[name] !== undefined,
  );
  if (!values.sim && (values.video === 'sim' || given.length > 0)) {
    const what = values.video === 'sim' ? '--video sim' : `--${given[0]}`;
    throw new UsageError(`${what} needs --sim: it is about the built-in simulator`);
  }
  const port = parseNumber('sim-video-port', values['sim-video-port'], 5600, {
    min: 1,
    max: 65535,
  });
  if (!Number.isInteger(port)) throw new UsageError(`--sim-video-port must be a whole number`);
  if (values['sim-video-port'] !== undefined && values.video !== 'sim') {
    throw new UsageError('--sim-video-port is for --video sim: the camera streams only then');
  }
  const seed = parseNumber('sim-seed', values['sim-seed'], Number.NaN, {
    min: 0,
    max: 2 ** 31 - 1,
  });
  return {
    videoPort: values.video === 'sim' ? port : null,
    farm:
      values['sim-farm'] === undefined ? undefined : parseLatLon('sim-farm', values['sim-farm']),
    bearStart:
      values['sim-bear'] === undefined ? undefined : parseLatLon('sim-bear', values['sim-bear']),
    bearSeed: Number.isNaN(seed) ? undefined : Math.trunc(seed),
  };
}

function parseRecordDir(value: string | undefined): string | null {
  if (value === undefined) return path.join(userDataDir(), 'logs');
  if (value === 'off') return null;
  if (value.trim() === '') throw new UsageError('--record must be a folder or "off"');
  return path.resolve(value);
}

function parseZonesFile(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new UsageError('--zones must name a file');
  const file = path.resolve(value);
  const problem = zonesPathProblem(file);
  if (problem) throw new UsageError(problem);
  return file;
}

function parseSigningKeys(value: string | undefined): string | null {
  if (value === undefined) return path.join(userDataDir(), 'signing-keys.json');
  if (value === 'off') return null;
  if (value.trim() === '') throw new UsageError('--signing-keys must be a file or "off"');
  return path.resolve(value);
}

function resolveTiles(spec: string): { source: TileSource; store: TileStore | null } {
  if (spec === 'osm') return { source: OSM, store: null };
  if (/^https?:\/\//.test(spec)) {
    return {
      source: { kind: 'online', urlTemplate: spec, attribution: escapeMarkup(spec), maxZoom: 19 },
      store: null,
    };
  }
  const store = openTileStore(path.resolve(spec));
  return {
    source: {
      kind: 'offline',
      urlTemplate: '/tiles/{z}/{x}/{y}',
      // The map shows attribution as HTML; a tile pack's metadata is only ever text.
      attribution: escapeMarkup(store.attribution),
      maxZoom: store.maxZoom,
    },
    store,
  };
}

/** The headless event stream: a thin, stable projection of the station's messages. */
function eventLine(message: ServerMessage): object[] {
  switch (message.type) {
    case 'vehicle': {
      const vehicle = message.vehicle;
      return [
        {
          type: 'vehicle',
          t: Date.now(),
          systemId: vehicle.systemId,
          link: vehicle.link,
          mode: vehicle.modeName,
          armed: vehicle.armed,
          lat: vehicle.position?.latDeg ?? null,
          lon: vehicle.position?.lonDeg ?? null,
          altitudeRelM: vehicle.position?.altitudeRelM ?? null,
          altitudeMslM: vehicle.position?.altitudeMslM ?? null,
          headingDeg: vehicle.attitude?.yawDeg ?? null,
          batteryPct: vehicle.battery?.remainingPct ?? null,
        },
      ];
    }
    case 'detections':
      return message.detections.map((detection) => ({
        type: 'detection',
        t: detection.frameTimeMs,
        frameId: detection.frameId,
        cls: detection.className,
        score: Number(detection.score.toFixed(4)),
        box: detection.box.map((value) => Math.round(value)),
        lat: detection.ground?.latDeg ?? null,
        lon: detection.ground?.lonDeg ?? null,
        groundError: detection.groundError,
        uncertainty: detection.uncertainty ?? null,
        trackId: detection.trackId ?? null,
      }));
    case 'targets':
      return [];
    case 'alert':
      return [alertEvent(message.alert)];
    case 'action':
      return [{ type: 'action', t: Date.now(), action: message.action }];
    case 'hazing-event':
      return [{ type: 'hazing-event', t: Date.now(), event: message.event }];
    case 'hazing-operator':
      return [{ type: 'hazing-operator', t: Date.now(), operator: message.operator }];
    case 'people':
      return [{ type: 'people', t: Date.now(), people: message.people }];
    case 'log':
      return [
        {
          type: 'log',
          t: message.entry.timeMs,
          level: message.entry.level,
          text: message.entry.text,
        },
      ];
    case 'video-status':
      return [{ type: 'video', t: Date.now(), ...message.video }];
    case 'sim-truth': {
      const bear = message.bear;
      return [
        {
          type: 'sim-truth',
          t: bear.timeMs,
          what: 'bear',
          lat: bear.latDeg,
          lon: bear.lonDeg,
          headingDeg: bear.headingDeg,
          speedMps: bear.speedMps,
          fleeing: bear.fleeing,
          flightDistanceM: bear.flightDistanceM,
          droneDistanceM: bear.droneDistanceM,
        },
      ];
    }
    default:
      return [];
  }
}

function parseCommandLine<T extends ParseArgsConfig['options']>(options: T) {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false });
  } catch (error) {
    // parseArgs names the unknown or malformed option; show it with the usage.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function main(): Promise<number> {
  installStderrLogSink();
  const { values } = parseCommandLine({
    sim: { type: 'boolean', default: false },
    link: { type: 'string', multiple: true, default: [] },
    video: { type: 'string' },
    model: { type: 'string' },
    serve: { type: 'string' },
    token: { type: 'string' },
    tiles: { type: 'string' },
    events: { type: 'string' },
    zones: { type: 'string' },
    record: { type: 'string' },
    'signing-keys': { type: 'string' },
    'setup-signing': { type: 'boolean', default: false },
    duration: { type: 'string' },
    home: { type: 'string' },
    'sim-video-port': { type: 'string' },
    'sim-farm': { type: 'string' },
    'sim-bear': { type: 'string' },
    'sim-seed': { type: 'string' },
    'takeoff-alt': { type: 'string' },
    standoff: { type: 'string' },
    'push-alt': { type: 'string' },
    'floor-agl': { type: 'string' },
    'ceiling-agl': { type: 'string' },
    'bear-standoff': { type: 'string' },
    'person-radius': { type: 'string' },
    'battery-reserve': { type: 'string' },
    'speaker-relay': { type: 'string' },
    hfov: { type: 'string' },
    vfov: { type: 'string' },
    'detect-tiles': { type: 'string' },
    dem: { type: 'string', multiple: true, default: [] },
    'attitude-error': { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    help: { type: 'boolean', default: false },
    replay: { type: 'string' },
    'report-dir': { type: 'string' },
  });

  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logLevel = values['log-level'];
  if (!isLogLevel(logLevel)) throw new UsageError(`--log-level must be debug|info|warn|error`);
  setLogLevel(logLevel);
  if (values.replay !== undefined) return runReplay(values);
  if (values['report-dir'] !== undefined) {
    throw new UsageError('--report-dir is for --replay: reports are exported from a replay');
  }
  if (!values.sim && values.link.length === 0) {
    throw new UsageError('nothing to connect to: give --sim or --link URI');
  }

  const defaults: StationDefaults = {
    takeoffAltitudeM: parseNumber(
      'takeoff-alt',
      values['takeoff-alt'],
      20,
      TAKEOFF_ALTITUDE_RANGE_M,
    ),
    standoffM: parseNumber('standoff', values.standoff, 40, PATTERN_RANGES.push.standoffM),
    pushAltitudeM: parseNumber(
      'push-alt',
      values['push-alt'],
      15,
      PATTERN_RANGES.push.altitudeAglM,
    ),
    envelope: parseEnvelope(values),
    speakerAvailable: false,
  };
  const { floorAglM, ceilingAglM } = defaults.envelope;
  if (defaults.pushAltitudeM < floorAglM || defaults.pushAltitudeM > ceilingAglM) {
    throw new UsageError(
      `--push-alt ${defaults.pushAltitudeM} m is outside the envelope's ${floorAglM}-` +
        `${ceilingAglM} m above the ground (--floor-agl, --ceiling-agl)`,
    );
  }
  if (defaults.standoffM < defaults.envelope.bearStandoffM) {
    throw new UsageError(
      `--standoff ${defaults.standoffM} m is inside the envelope's bear standoff of ` +
        `${defaults.envelope.bearStandoffM} m: give --standoff ` +
        `${defaults.envelope.bearStandoffM} or more`,
    );
  }
  const speakerRelay = parseSpeakerRelay(values['speaker-relay']);
  defaults.speakerAvailable = speakerRelay !== null;
  const durationS = parseNumber('duration', values.duration, 0, { min: 0, max: MAX_DURATION_S });
  if (values.video !== undefined && values.video.trim() === '') {
    throw new UsageError('--video needs a source: demo, a video file or an image sequence');
  }
  if (values.model && !values.video) {
    log.warn('--model is not used without --video: there is nothing to detect on');
  }
  const home = parseHome(values.home);
  const simWorld = parseSimWorld(values);
  const videoSource =
    simWorld.videoPort === null ? (values.video ?? null) : simVideoSource(simWorld.videoPort);
  // The simulator's camera is a zoom lens: the station must georeference with the same one.
  const lens = simWorld.videoPort === null ? DEFAULT_LENS : DEFAULT_VIDEO;
  const serve = values.serve ? parseHostPort(values.serve) : null;
  const recordDir = parseRecordDir(values.record);
  if (values['setup-signing'] && values.link.length === 0) {
    throw new UsageError('--setup-signing needs a --link vehicle (the simulator has no keys)');
  }
  if (values['setup-signing'] && values['signing-keys'] === 'off') {
    throw new UsageError('--setup-signing needs a --signing-keys file to keep the key in');
  }
  // Check every link before anything starts, so a typo leaves no empty flight record behind.
  for (const uri of values.link) {
    try {
      parseLinkUri(uri);
    } catch (error) {
      throw new UsageError(error instanceof Error ? error.message : String(error));
    }
  }

  // Checked before anything starts, so a short token leaves no empty flight record behind.
  const token = values.token ?? process.env.URSA_TOKEN ?? randomBytes(24).toString('base64url');
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(
      `the operator token (--token or URSA_TOKEN) must be at least ${MIN_TOKEN_LENGTH} ` +
        `characters, got ${token.length}`,
    );
  }

  const attitudeErrorDeg = parseNumber(
    'attitude-error',
    values['attitude-error'],
    DEFAULT_POSE_ERRORS.attitudeDeg,
    ATTITUDE_ERROR_RANGE_DEG,
  );
  let terrain: Terrain | null;
  try {
    terrain = await loadDems(values.dem);
  } catch (error) {
    throw new UsageError(`--dem: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (terrain) log.info(`ground from ${terrain.description}`);

  const zonesFile = parseZonesFile(values.zones);

  const resources = new DisposableStore();
  const tiles = resolveTiles(values.tiles ?? process.env.URSA_TILES ?? 'osm');
  if (tiles.store) resources.add(tiles.store);

  const events = values.events ? resources.add(EventWriter.open(values.events)) : null;
  const emit = (event: object): void => events?.write(event);

  let station: Station;
  try {
    station = resources.add(
      await Station.start({
        sim: values.sim,
        simHome: home,
        simWorld,
        links: values.link,
        recordDir,
        signingKeyFile: parseSigningKeys(values['signing-keys']),
        setupSigning: values['setup-signing'],
        video: videoSource,
        modelPath: values.model ?? process.env.URSA_MODEL,
        detectorTiling: parseDetectTiles(values['detect-tiles']),
        camera: {
          horizontalFovDeg: parseNumber('hfov', values.hfov, lens.hfovDeg, FOV_RANGE_DEG),
          verticalFovDeg: parseNumber('vfov', values.vfov, lens.vfovDeg, FOV_RANGE_DEG),
        },
        defaults,
        tiles: tiles.source,
        mapCenter: home,
        zonesFile,
        terrain,
        poseErrors: { ...DEFAULT_POSE_ERRORS, attitudeDeg: attitudeErrorDeg },
        speakerRelay,
      }),
    );
  } catch (error) {
    await resources.dispose();
    throw error;
  }

  if (station.recordingPath) {
    emit({
      type: 'record',
      path: station.recordingPath,
      video: station.videoRecordingPath,
      frameTable: station.videoTablePath,
    });
  }

  // What the station logged while starting (a recording that could not begin, say) came
  // before anyone listened: replay it first.
  for (const message of station.snapshot()) {
    if (message.type === 'log') for (const event of eventLine(message)) emit(event);
  }

  // Vehicle and video lines go out once a second whether or not anything changed, so a
  // script can tell a lost link (link: "lost") from a station that stopped talking. Everything
  // else goes out as it happens.
  const PERIODIC = new Set<ServerMessage['type']>(['vehicle', 'video-status']);
  resources.add(
    station.onMessage((message) => {
      if (events && !PERIODIC.has(message.type))
        for (const event of eventLine(message)) emit(event);
    }),
  );
  if (events) {
    const statusTimer = setInterval(() => {
      for (const message of station.snapshot()) {
        if (PERIODIC.has(message.type)) for (const event of eventLine(message)) emit(event);
      }
    }, STATUS_EVENT_INTERVAL_MS);
    resources.add(toDisposable(() => clearInterval(statusTimer)));
  }

  if (serve) {
    const server = resources.add(await serveUi(station, serve, token, tiles.store));
    emit({ type: 'serve', url: server.url, operatorUrl: server.operatorUrl });
  }

  await untilStopped(durationS);

  await resources.dispose();
  return 0;
}

/** Options of the live station that mean nothing to a replay, which commands no vehicle. */
const LIVE_ONLY_OPTIONS = [
  'sim',
  'link',
  'video',
  'model',
  'detect-tiles',
  'record',
  'signing-keys',
  'setup-signing',
  'zones',
  'home',
  'sim-video-port',
  'sim-farm',
  'sim-bear',
  'sim-seed',
  'takeoff-alt',
  'standoff',
  'push-alt',
  'floor-agl',
  'ceiling-agl',
  'bear-standoff',
  'person-radius',
  'battery-reserve',
  'speaker-relay',
  'hfov',
  'vfov',
  'dem',
  'attitude-error',
] as const;

type ReplayValues = { [name in (typeof LIVE_ONLY_OPTIONS)[number]]?: unknown } & {
  replay?: string;
  'report-dir'?: string;
  serve?: string;
  token?: string;
  tiles?: string;
  events?: string;
  duration?: string;
};

/** --replay: serves a flight record on one timeline; nothing talks to any vehicle. */
async function runReplay(values: ReplayValues): Promise<number> {
  const given = LIVE_ONLY_OPTIONS.filter((name) => {
    const value = values[name];
    return Array.isArray(value) ? value.length > 0 : value !== undefined && value !== false;
  });
  if (given.length > 0) {
    throw new UsageError(
      `--${given[0]} makes no sense with --replay: a replay only shows what was recorded ` +
        '(no vehicle, camera, detector or recording)',
    );
  }
  const tlogPath = path.resolve(values.replay ?? '');
  if ((values.replay ?? '').trim() === '') throw new UsageError('--replay needs a .tlog file');
  const reportDirValue = values['report-dir'];
  if (reportDirValue !== undefined && reportDirValue.trim() === '') {
    throw new UsageError('--report-dir must name a folder');
  }
  const reportDir = path.resolve(reportDirValue ?? path.join(userDataDir(), 'reports'));
  const serve = values.serve ? parseHostPort(values.serve) : null;
  const durationS = parseNumber('duration', values.duration, 0, { min: 0, max: MAX_DURATION_S });
  const token = values.token ?? process.env.URSA_TOKEN ?? randomBytes(24).toString('base64url');
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new UsageError(
      `the operator token (--token or URSA_TOKEN) must be at least ${MIN_TOKEN_LENGTH} ` +
        `characters, got ${token.length}`,
    );
  }
  let session: ReplaySession;
  try {
    session = ReplaySession.open(tlogPath);
  } catch (error) {
    throw new UsageError(`--replay: ${error instanceof Error ? error.message : String(error)}`);
  }
  const resources = new DisposableStore();
  resources.add(session);
  try {
    const tiles = resolveTiles(values.tiles ?? process.env.URSA_TILES ?? 'osm');
    if (tiles.store) {
      resources.add(tiles.store);
      session.setReportTiles({ provider: tiles.store, attribution: tiles.source.attribution });
    }
    const events = values.events ? resources.add(EventWriter.open(values.events)) : null;
    const emit = (event: object): void => events?.write(event);
    const station = resources.add(
      new ReplayStation({
        session,
        tiles: tiles.source,
        defaults: {
          takeoffAltitudeM: 20,
          standoffM: 40,
          pushAltitudeM: 15,
          envelope: DEFAULT_ENVELOPE,
          speakerAvailable: false,
        },
        mapCenter: DEFAULT_HOME,
        reportDir,
      }),
    );
    void session.whenReady.then(() => {
      // Stopped while indexing: there is nothing ready to announce.
      if (!session.ready && !session.status().error) return;
      const status = session.status();
      if (status.error) {
        emit({ type: 'replay-error', error: status.error });
        return;
      }
      log.info(
        `replay ready: ${status.markers.length} markers, ${status.breaks.length} breaks, ` +
          `${status.videoFrames} video frames, ${(status.axisEndMs / 1000).toFixed(1)} s`,
      );
      emit({
        type: 'replay-ready',
        file: status.file,
        axisEndMs: status.axisEndMs,
        startMs: status.startMs,
        endMs: status.endMs,
        breaks: status.breaks.length,
        markers: status.markers.length,
        videoFrames: status.videoFrames,
        warnings: status.warnings,
      });
    });
    if (serve) {
      const server = resources.add(await serveUi(station, serve, token, tiles.store));
      log.info(`replaying ${tlogPath}`);
      emit({ type: 'serve', url: server.url, operatorUrl: server.operatorUrl });
    }
    await untilStopped(durationS);
  } finally {
    await resources.dispose();
  }
  return 0;
}

/**
 * Resolves on SIGINT or SIGTERM, or after durationS (0 for never). A second Ctrl-C while
 * stopping must not cut the clean-up short (records, video and caches are being closed); a
 * third one ends the process at once.
 */
function untilStopped(durationS: number): Promise<void> {
  return new Promise<void>((resolve) => {
    let signals = 0;
    const stop = (reason: string): void => {
      log.info(`stopping (${reason})`);
      resolve();
    };
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals === 1) stop(signal);
      else if (signals === 2) log.warn(`${signal} again: still stopping; a third ends at once`);
      else process.exit(130);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (durationS > 0) setTimeout(() => stop(`--duration ${durationS}`), durationS * 1000);
    // A reader of stdout that goes away (`| head`) must not take the station down.
    process.stdout.on('error', () => {});
  });
}

/** Serves the UI for a live or a replaying station, and says where. */
async function serveUi(
  api: StationApi,
  serve: { host: string; port: number },
  token: string,
  tiles: TileStore | null,
): Promise<StationServer> {
  const server = await startServer({
    host: serve.host,
    port: serve.port,
    api,
    operatorToken: token,
    tiles,
    uiDir: path.join(projectRoot, 'dist', 'ui'),
  });
  if (serve.host !== '127.0.0.1' && serve.host !== 'localhost' && serve.host !== '::1') {
    log.warn(`serving on ${serve.host}: other machines can watch (only the token commands)`);
  }
  log.info(`observers: ${server.url}`);
  log.info(`operator:  ${server.operatorUrl}`);
  return server;
}

function describeFatal(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    const { address: host, port } = error as { address?: string; port?: number };
    const address = `${host}:${port}`;
    const why = code === 'EADDRINUSE' ? 'is already in use' : 'is not allowed';
    return (
      `cannot serve on ${address}: the port ${why}. Pick another with --serve HOST:PORT ` +
      '(npm start reads URSA_SERVE, for example URSA_SERVE=127.0.0.1:8081)'
    );
  }
  return error instanceof Error ? error.message : String(error);
}

process.on('unhandledRejection', (reason) => {
  log.error(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
});

main().then(
  (code) => {
    process.exitCode = code;
    // Children and sockets are disposed; leave a moment for stdout to drain.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`error: ${error.message}\nRun with --help to see the options.\n`);
      process.exit(2);
    }
    log.error(describeFatal(error));
    process.exit(1);
  },
);
