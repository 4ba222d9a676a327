// The simulator's command line. Pure parsing: bad input becomes an Error naming the option.

import { parseArgs } from 'node:util';

import { northEastOf } from '../../core/geodesy';
import type { LatLon } from '../../core/types';
import { parseSigningKey } from '../mavlink/signing';
import type { LocalPointM } from './bear';
import { checkLossOptions, NO_LOSS, type LossOptions } from './lossy';
import type { SimHome } from './vehicle';
import type { SimVideoSettings } from './world';

/** A farm near Conrad, Montana: grain bins, and bears in the coulees in autumn. */
export const DEFAULT_SIM_HOME: SimHome = { latDeg: 48.17, lonDeg: -111.95, altitudeMslM: 1060 };

/**
 * The demo's layout: a farm yard 50 m north of home (the truck parks at its southern edge), a
 * bear already in it, 8 m west of its middle, that ambles to the middle and forages within a
 * few metres of it (FORAGE_RADIUS_M). A drone that takes off at home to 50 m with the gimbal
 * 45 deg down (looking north) has the yard's middle in the centre of its view, which spans only
 * about 45-55 m north and 5 m either side, so the bear is in it from about 12 s on, and stays
 * beyond any bear's flight distance (45 m at most).
 */
export const DEFAULT_BEAR_START: LocalPointM = { northM: 50, eastM: -8 };
export const DEFAULT_FARM: LocalPointM = { northM: 50, eastM: 0 };
/**
 * A zoom camera at about 8x (an H20T-class zoom spans 4-67 deg), 640x480 at 10 fps: YOLOX-Nano
 * finds the 1.9 m bear when it is about 100 px long or more, and at 85 m (60 m up, 45 deg down)
 * this lens draws it 124 px long. Through a 32 x 24 deg thermal-class lens it is 30-50 px at
 * 30-60 m and the model finds it in no frame at all.
 */
export const DEFAULT_VIDEO = { widthPx: 640, heightPx: 480, fps: 10, hfovDeg: 8, vfovDeg: 6 };

/** An outage lasts this long when --drop-every-s is given without --drop-for-s. */
const DEFAULT_DROP_FOR_S = 3;

export const SIM_USAGE = `Usage: sim --out HOST:PORT [options]

A simulated ArduCopter quadcopter speaking MAVLink v2 over UDP on 127.0.0.1.
  --out HOST:PORT         where to send telemetry first; it then replies to whoever talks to it
  --home LAT,LON,ALT_MSL  where it starts, on the ground and disarmed (default 48.17,-111.95,1060)
  --speed-factor N        simulated seconds per real second (default 1)
  --loss P                lose each datagram, both ways, with probability P (0 to below 1)
  --latency-ms N          delay each datagram by N ms ...
  --jitter-ms N           ... give or take up to N ms (datagrams then overtake each other)
  --drop-every-s N        every N seconds lose all traffic ...
  --drop-for-s N          ... for N seconds (default ${DEFAULT_DROP_FOR_S})
  --seed N                seed of the loss and delay choices (default: from the clock)
  --signing-key HEX       sign with this 32-byte key (64 hex digits) and refuse what is not
                          signed with it; without it SETUP_SIGNING over the link sets a key
  --no-message-interval   answer SET_MESSAGE_INTERVAL with UNSUPPORTED, as old firmware does

The world: a bear walks toward a farm and runs from the drone within its flight distance.
  --farm LAT,LON          the farm yard (default 50 m north of home)
  --bear LAT,LON          where the bear starts (default 50 m north, 8 m west of home)
  --bear-seed N           seed of the bear's wanderings and flight distance (default: clock)
  --video-port N          stream the drone's camera as H.264 MPEG-TS to udp://127.0.0.1:N
                          (no camera without it; 5600 is the usual ground-station port)
  --video-size WxH        frame size (default 640x480)
  --video-fps N           frames per second (default 10)
  --hfov DEG, --vfov DEG  the camera's field of view (default 8 x 6, as the station's with
                          --video sim)

On stdout it prints one JSON line per event: {"event":"ready","localPort":N} once listening,
{"event":"gcs","systemId":S,"componentId":C} when a ground station is first heard, and
"command", "mission-stored", "param-set", "signing", "refused", "failsafe", "mode" and "rate"
events as they happen, and once a second the bear's true position: {"event":"bear",
"timeMs":T,"latDeg":..,"lonDeg":..,"headingDeg":..,"speedMps":..,"fleeing":false,
"flightDistanceM":..,"droneDistanceM":..}.`;

export interface SimArgs {
  out: { host: string; port: number };
  home: SimHome;
  speedFactor: number;
  loss: LossOptions;
  signingKey: Buffer | null;
  messageIntervals: boolean;
  farm: LocalPointM;
  bearStart: LocalPointM;
  bearSeed: number;
  video: SimVideoSettings | null;
  help: boolean;
}

export function parseSimArgs(argv: string[]): SimArgs {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: 'string' },
        home: { type: 'string' },
        'speed-factor': { type: 'string' },
        loss: { type: 'string' },
        'latency-ms': { type: 'string' },
        'jitter-ms': { type: 'string' },
        'drop-every-s': { type: 'string' },
        'drop-for-s': { type: 'string' },
        seed: { type: 'string' },
        'signing-key': { type: 'string' },
        'no-message-interval': { type: 'boolean', default: false },
        farm: { type: 'string' },
        bear: { type: 'string' },
        'bear-seed': { type: 'string' },
        'video-port': { type: 'string' },
        'video-size': { type: 'string' },
        'video-fps': { type: 'string' },
        hfov: { type: 'string' },
        vfov: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    throw new Error(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    return {
      out: { host: '', port: 0 },
      home: DEFAULT_SIM_HOME,
      speedFactor: 1,
      loss: NO_LOSS,
      signingKey: null,
      messageIntervals: true,
      farm: DEFAULT_FARM,
      bearStart: DEFAULT_BEAR_START,
      bearSeed: 0,
      video: null,
      help: true,
    };
  }
  if (values.out === undefined) throw new Error('--out HOST:PORT is required');
  const number = (option: string, text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      throw new Error(`--${option} "${text}" is not a number`);
    }
    return value;
  };
  const dropEveryS = number('drop-every-s', values['drop-every-s'], 0);
  const loss: LossOptions = {
    lossProbability: number('loss', values.loss, 0),
    latencyMs: number('latency-ms', values['latency-ms'], 0),
    jitterMs: number('jitter-ms', values['jitter-ms'], 0),
    dropEveryS,
    dropForS: number('drop-for-s', values['drop-for-s'], dropEveryS > 0 ? DEFAULT_DROP_FOR_S : 0),
    seed: Math.trunc(number('seed', values.seed, Date.now() % 2 ** 31)),
  };
  try {
    checkLossOptions(loss);
  } catch (error) {
    throw new Error(`lossy link: ${(error as Error).message}`);
  }
  let signingKey: Buffer | null = null;
  if (values['signing-key'] !== undefined) {
    try {
      signingKey = parseSigningKey(values['signing-key']);
    } catch (error) {
      throw new Error(`--signing-key: ${(error as Error).message}`);
    }
  }
  const home = values.home === undefined ? DEFAULT_SIM_HOME : parseHome(values.home);
  return {
    out: parseHostPort(values.out),
    home,
    speedFactor: values['speed-factor'] === undefined ? 1 : parseSpeed(values['speed-factor']),
    loss,
    signingKey,
    messageIntervals: !values['no-message-interval'],
    farm: values.farm === undefined ? DEFAULT_FARM : localPoint('farm', values.farm, home),
    bearStart:
      values.bear === undefined ? DEFAULT_BEAR_START : localPoint('bear', values.bear, home),
    bearSeed: Math.trunc(number('bear-seed', values['bear-seed'], Date.now() % 2 ** 31)),
    video: parseVideo(values, number),
    help: false,
  };
}

/** Where a LAT,LON option lies from home, within the few kilometres the flat world holds. */
function localPoint(option: string, text: string, home: LatLon): LocalPointM {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 2 || parts.some((p) => p === '') || !numbers.every(Number.isFinite)) {
    throw new Error(`--${option} "${text}" is not LAT,LON (two numbers)`);
  }
  const [latDeg, lonDeg] = numbers;
  if (Math.abs(latDeg) > 90 || Math.abs(lonDeg) > 180) {
    throw new Error(`--${option} ${latDeg},${lonDeg} is off the globe`);
  }
  const point = northEastOf(home, { latDeg, lonDeg });
  if (Math.hypot(point.northM, point.eastM) > MAX_WORLD_RADIUS_M) {
    throw new Error(`--${option} is more than ${MAX_WORLD_RADIUS_M / 1000} km from home`);
  }
  return point;
}

const MAX_WORLD_RADIUS_M = 5000;

function parseVideo(
  values: Record<string, string | boolean | undefined>,
  number: (option: string, text: string | undefined, fallback: number) => number,
): SimVideoSettings | null {
  const text = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const cameraOptions = ['video-size', 'video-fps', 'hfov', 'vfov'].filter((o) => text(o));
  if (text('video-port') === undefined) {
    if (cameraOptions.length > 0) {
      throw new Error(`--${cameraOptions[0]} needs --video-port: there is no camera without it`);
    }
    return null;
  }
  const port = number('video-port', text('video-port'), 0);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`--video-port ${port} is not a whole number from 1 to 65535`);
  }
  let { widthPx, heightPx } = DEFAULT_VIDEO;
  const size = text('video-size');
  if (size !== undefined) {
    const match = /^(\d+)x(\d+)$/.exec(size.trim());
    if (!match) throw new Error(`--video-size "${size}" is not WxH (for example 640x480)`);
    [widthPx, heightPx] = [Number(match[1]), Number(match[2])];
    const fits = widthPx >= 16 && heightPx >= 16 && widthPx <= 1920 && heightPx <= 1080;
    if (!fits || widthPx % 2 !== 0 || heightPx % 2 !== 0) {
      throw new Error(`--video-size ${size} must have even sides from 16x16 to 1920x1080`);
    }
  }
  const fps = number('video-fps', text('video-fps'), DEFAULT_VIDEO.fps);
  if (!(fps > 0 && fps <= 30)) throw new Error(`--video-fps ${fps} is not above 0 and at most 30`);
  const fov = (option: string, fallback: number): number => {
    const value = number(option, text(option), fallback);
    if (!(value >= 1 && value <= 170)) {
      throw new Error(`--${option} ${value} deg is outside 1-170 deg`);
    }
    return value;
  };
  return {
    port,
    widthPx,
    heightPx,
    fps,
    camera: {
      horizontalFovDeg: fov('hfov', DEFAULT_VIDEO.hfovDeg),
      verticalFovDeg: fov('vfov', DEFAULT_VIDEO.vfovDeg),
    },
  };
}

function parseHostPort(text: string): { host: string; port: number } {
  const match = /^([A-Za-z0-9.-]+):(\d+)$/.exec(text.trim());
  if (!match) throw new Error(`--out "${text}" is not HOST:PORT`);
  const port = Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`--out port ${port} is not between 1 and 65535`);
  return { host: match[1], port };
}

function parseHome(text: string): SimHome {
  const parts = text.split(',').map((part) => part.trim());
  const numbers = parts.map(Number);
  if (parts.length !== 3 || parts.some((p) => p === '') || !numbers.every(Number.isFinite)) {
    throw new Error(`--home "${text}" is not LAT,LON,ALT_MSL (three numbers)`);
  }
  const [latDeg, lonDeg, altitudeMslM] = numbers;
  if (Math.abs(latDeg) > 90) throw new Error(`--home latitude ${latDeg} is outside -90..90`);
  if (Math.abs(lonDeg) > 180) throw new Error(`--home longitude ${lonDeg} is outside -180..180`);
  if (altitudeMslM < -500 || altitudeMslM > 9000) {
    throw new Error(`--home altitude ${altitudeMslM} m is outside -500..9000`);
  }
  return { latDeg, lonDeg, altitudeMslM };
}

function parseSpeed(text: string): number {
  const speedFactor = Number(text);
  if (!Number.isFinite(speedFactor) || speedFactor <= 0 || speedFactor > 100) {
    throw new Error(`--speed-factor "${text}" must be a number above 0 and at most 100`);
  }
  return speedFactor;
}
