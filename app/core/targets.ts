// Map targets from geo-detections: detections of one class that land close together are one
// animal. A stand-in for the multi-object tracker: no motion model, just nearest neighbour.

import { distanceM, northEastOf, offsetNorthEast } from './geodesy';
import type { GeoDetection, LatLon, MapTarget } from './types';

export interface MapTargetListOptions {
  /** Class names that become targets; others are ignored. */
  classes?: string[];
  /** A detection this close to a live target of its class is that target. */
  mergeRadiusM?: number;
  /** A target not seen for longer than this drops off the map. */
  expireAfterMs?: number;
  /**
   * How far a target moves toward each new detection (0..1]: an exponential average, so
   * that one jittery box does not throw the target across the field.
   */
  positionGain?: number;
}

export const MAP_TARGET_DEFAULTS = {
  classes: ['bear'],
  mergeRadiusM: 25,
  expireAfterMs: 60_000,
  positionGain: 0.5,
} as const;

function checkPositive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new Error(`map targets: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

function checkTime(nowMs: number): void {
  if (!Number.isFinite(nowMs)) throw new Error(`map targets: time ${nowMs} is not a number`);
}

export class MapTargetList {
  private readonly classes: ReadonlySet<string>;
  private readonly mergeRadiusM: number;
  private readonly expireAfterMs: number;
  private readonly positionGain: number;
  private readonly live = new Map<number, MapTarget>();
  private nextId = 1;

  constructor(options: MapTargetListOptions = {}) {
    const classes = options.classes ?? MAP_TARGET_DEFAULTS.classes;
    if (!Array.isArray(classes) || classes.some((name) => typeof name !== 'string')) {
      throw new Error('map targets: classes must be a list of class names');
    }
    this.classes = new Set(classes);
    this.mergeRadiusM = checkPositive(
      'mergeRadiusM',
      options.mergeRadiusM ?? MAP_TARGET_DEFAULTS.mergeRadiusM,
    );
    this.expireAfterMs = checkPositive(
      'expireAfterMs',
      options.expireAfterMs ?? MAP_TARGET_DEFAULTS.expireAfterMs,
    );
    this.positionGain = checkPositive(
      'positionGain',
      options.positionGain ?? MAP_TARGET_DEFAULTS.positionGain,
    );
    if (this.positionGain > 1) {
      throw new Error(`map targets: positionGain must be at most 1, got ${this.positionGain}`);
    }
  }

  /**
   * Folds detections in, all seen at `nowMs`. Detections of one frame are different animals,
   * so each target takes at most one detection per frame; the closest pairs match first.
   */
  update(detections: GeoDetection[], nowMs: number): void {
    checkTime(nowMs);
    this.dropExpired(nowMs);
    const frames = new Map<number, Array<GeoDetection & { ground: LatLon }>>();
    for (const d of detections) {
      if (!d.ground || !this.classes.has(d.className)) continue;
      if (!Number.isFinite(d.ground.latDeg) || !Number.isFinite(d.ground.lonDeg)) continue;
      const frame = frames.get(d.frameId) ?? [];
      frame.push({ ...d, ground: d.ground });
      frames.set(d.frameId, frame);
    }
    const ordered = [...frames.values()].sort((a, b) => a[0].frameTimeMs - b[0].frameTimeMs);
    for (const frame of ordered) this.updateFrame(frame, nowMs);
  }

  /** Live targets, oldest id first; copies the caller may keep. */
  targets(nowMs: number): MapTarget[] {
    checkTime(nowMs);
    return [...this.live.values()]
      .filter((target) => !this.isExpired(target, nowMs))
      .map((target) => ({ ...target, position: { ...target.position } }));
  }

  clear(): void {
    this.live.clear();
  }

  private updateFrame(frame: Array<GeoDetection & { ground: LatLon }>, nowMs: number): void {
    const pairs: Array<{ detection: number; target: MapTarget; distanceM: number }> = [];
    frame.forEach((d, detection) => {
      for (const target of this.live.values()) {
        if (target.className !== d.className) continue;
        const apartM = distanceM(target.position, d.ground);
        if (apartM <= this.mergeRadiusM) pairs.push({ detection, target, distanceM: apartM });
      }
    });
    pairs.sort((a, b) => a.distanceM - b.distanceM);

    const matched = new Set<number>();
    const taken = new Set<MapTarget>();
    for (const { detection, target } of pairs) {
      if (matched.has(detection) || taken.has(target)) continue;
      matched.add(detection);
      taken.add(target);
      this.merge(target, frame[detection], nowMs);
    }
    frame.forEach((d, detection) => {
      if (matched.has(detection)) return;
      const id = this.nextId++;
      this.live.set(id, {
        id,
        className: d.className,
        position: { ...d.ground },
        score: d.score,
        firstSeenMs: nowMs,
        lastSeenMs: nowMs,
        hits: 1,
      });
    });
  }

  private merge(target: MapTarget, d: GeoDetection & { ground: LatLon }, nowMs: number): void {
    const { northM, eastM } = northEastOf(target.position, d.ground);
    target.position = offsetNorthEast(
      target.position,
      northM * this.positionGain,
      eastM * this.positionGain,
    );
    target.score = d.score;
    target.lastSeenMs = Math.max(target.lastSeenMs, nowMs);
    target.hits += 1;
  }

  private isExpired(target: MapTarget, nowMs: number): boolean {
    return nowMs - target.lastSeenMs > this.expireAfterMs;
  }

  private dropExpired(nowMs: number): void {
    for (const [id, target] of this.live) {
      if (this.isExpired(target, nowMs)) this.live.delete(id);
    }
  }
}
