// The simulator's world around the drone: a bear that walks toward a farm and runs from the
// drone, its true position printed once a second, and (when asked) the drone's camera streamed
// as live video. It reads the simulated vehicle; it never commands it.

import { readFileSync } from 'node:fs';
import path from 'node:path';

import type { Disposable } from '../../core/disposable';
import { offsetNorthEast } from '../../core/geodesy';
import { createLogger } from '../../core/log';
import type { SimBearTruth } from '../../core/protocol';
import type { CameraModel } from '../../core/types';
import { sharedDir } from '../paths';
import { SimBear, type LocalPointM } from './bear';
import { SimVideoStream } from './camera';
import { decodePngRgba, type RgbaImage } from './png';
import { GroundRenderer, type ViewPose } from './render';
import type { SimVehicle } from './vehicle';

const log = createLogger('sim-world');

const BEAR_STEP_INTERVAL_MS = 50;
const TRUTH_INTERVAL_MS = 1000;
export const BEAR_PICTURE = path.join('fixtures', 'images', 'bear-european-cutout.png');

export interface SimVideoSettings {
  port: number;
  widthPx: number;
  heightPx: number;
  fps: number;
  camera: CameraModel;
}

export interface SimWorldOptions {
  /** Centre of the farm yard, metres north and east of home. */
  farm: LocalPointM;
  /** Where the bear starts, metres north and east of home. */
  bearStart: LocalPointM;
  bearSeed: number;
  /** Simulated seconds per real second, as for the vehicle. */
  speedFactor: number;
  /** Stream the camera; null for none. */
  video: SimVideoSettings | null;
}

/** The bear cut-out from ../shared (URSA_SHARED_DIR), read once. */
export function loadBearPicture(): RgbaImage {
  const file = path.join(sharedDir(), BEAR_PICTURE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new Error(`the bear picture ${file} cannot be read (${reason})`);
  }
  return decodePngRgba(bytes, file);
}

export class SimWorld implements Disposable {
  readonly bear: SimBear;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly video: SimVideoStream | null = null;
  private lastStepMs = performance.now();
  private closed = false;

  constructor(
    private readonly vehicle: SimVehicle,
    private readonly options: SimWorldOptions,
    private readonly onTruth: (truth: SimBearTruth) => void,
  ) {
    this.bear = new SimBear({
      start: options.bearStart,
      farm: options.farm,
      seed: options.bearSeed,
    });
    log.info(
      `bear at ${fmt(options.bearStart)} of home, farm at ${fmt(options.farm)}, ` +
        `flight distance ${this.bear.flightDistanceM.toFixed(1)} m (seed ${options.bearSeed})`,
    );
    if (options.video) {
      const { widthPx, heightPx, camera, port, fps } = options.video;
      const renderer = new GroundRenderer({
        width: widthPx,
        height: heightPx,
        camera,
        farm: options.farm,
        bearSprite: loadBearPicture(),
      });
      this.video = new SimVideoStream(renderer, { port, fps }, () => {
        const { northM, eastM, headingDeg } = this.bear;
        return { view: this.view(), bear: { northM, eastM, headingDeg } };
      });
    }
    this.timers.push(setInterval(() => this.stepBear(), BEAR_STEP_INTERVAL_MS));
    this.timers.push(setInterval(() => this.onTruth(this.truth()), TRUTH_INTERVAL_MS));
  }

  /** The camera's pose now: a stabilised gimbal, yaw relative to the nose. */
  view(): ViewPose {
    const v = this.vehicle;
    return {
      northM: v.northM,
      eastM: v.eastM,
      altitudeAglM: v.altitudeRelM,
      headingDeg: v.yawDeg + v.gimbalYawDeg,
      pitchDeg: v.gimbalPitchDeg,
      rollDeg: 0,
    };
  }

  truth(): SimBearTruth {
    const bear = this.bear;
    const position = offsetNorthEast(this.vehicle.home, bear.northM, bear.eastM);
    return {
      timeMs: Date.now(),
      latDeg: round(position.latDeg, 8),
      lonDeg: round(position.lonDeg, 8),
      headingDeg: round(bear.headingDeg, 1),
      speedMps: round(bear.speedMps, 2),
      fleeing: bear.fleeing,
      flightDistanceM: round(bear.flightDistanceM, 1),
      droneDistanceM: bear.droneDistanceM === null ? null : round(bear.droneDistanceM, 1),
    };
  }

  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    await this.video?.dispose();
  }

  private stepBear(): void {
    const nowMs = performance.now();
    const dtS = ((nowMs - this.lastStepMs) / 1000) * this.options.speedFactor;
    this.lastStepMs = nowMs;
    const v = this.vehicle;
    const wasFleeing = this.bear.fleeing;
    this.bear.step(dtS, {
      northM: v.northM,
      eastM: v.eastM,
      altitudeRelM: v.altitudeRelM,
      flying: v.armed && !v.landed,
    });
    if (this.bear.fleeing !== wasFleeing) {
      log.info(
        this.bear.fleeing
          ? `bear flees: drone ${this.bear.droneDistanceM?.toFixed(1)} m away`
          : `bear calms down: drone ${this.bear.droneDistanceM?.toFixed(1)} m away`,
      );
    }
  }
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function fmt(point: LocalPointM): string {
  return `${point.northM.toFixed(0)} m north, ${point.eastM.toFixed(0)} m east`;
}
