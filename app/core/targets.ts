// Map targets from geo-detections: the multi-object tracker's confirmed tracks, each with its
// ground path, speed and course.

import { distanceM, offsetNorthEast } from './geodesy';
import { MultiObjectTracker, type Track, type TrackerOptions } from './tracker';
import type { GeoDetection, GroundUncertainty, LatLon, MapTarget } from './types';

function checkPositive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) {
    throw new Error(`map targets: ${name} must be a positive number, got ${value}`);
  }
  return value;
}

function checkTime(nowMs: number): void {
  if (!Number.isFinite(nowMs)) throw new Error(`map targets: time ${nowMs} is not a number`);
}

/** Slower than this a target counts as standing: its course would be georeference noise. */
export const STANDING_BELOW_MPS = 0.3;

export interface TrackedTargetsOptions {
  /** Class names that become map targets; the tracker follows every class. */
  classes?: string[];
  /**
   * A confirmed track stays on the map this long after its last hit, where it was last seen:
   * a bear that walked out of the picture is still near there, and may still be pushed.
   */
  memoryMs?: number;
  /**
   * A new track this close on the ground to a remembered one of its class (whose track ended)
   * is the same animal seen again after a cut or an occlusion, and takes over its id.
   */
  reacquireRadiusM?: number;
  /** Ground positions sent with each target, newest kept. */
  pathPoints?: number;
  tracker?: TrackerOptions;
}

export const TRACKED_TARGET_DEFAULTS = {
  classes: ['bear', 'person'],
  memoryMs: 60_000,
  reacquireRadiusM: 20,
  pathPoints: 60,
} as const;

export interface TrackedFrame {
  /** The frame's detections, each with its target id (null for one the tracker refused). */
  detections: GeoDetection[];
  /** Target ids that dropped off the map at this frame (not seen for the memory time). */
  forgottenIds: number[];
  /** False when the tracker ignored the whole frame (a frame time out of order); see reason. */
  accepted: boolean;
  reason: string | null;
}

/** What a target id carried before a new track took it over. */
interface Earlier {
  path: Array<LatLon & { timeMs: number }>;
  hits: number;
  firstSeenMs: number;
}

/**
 * Tracks from frames of geo-detections, and map targets from confirmed tracks. A target's id
 * is its track's id, or the id of the remembered target its track re-acquired.
 */
export class TrackedTargets {
  private readonly tracker: MultiObjectTracker;
  private readonly classes: ReadonlySet<string>;
  private readonly memoryMs: number;
  private readonly reacquireRadiusM: number;
  private readonly pathPoints: number;
  /** Targets of confirmed tracks, live or recently ended, by target id. */
  private readonly shown = new Map<number, MapTarget>();
  /** Target id of each live tracker track that has become a target. */
  private readonly targetIds = new Map<number, number>();
  private readonly earlier = new Map<number, Earlier>();
  private readonly uncertainty = new Map<number, GroundUncertainty | null>();

  constructor(options: TrackedTargetsOptions = {}) {
    this.tracker = new MultiObjectTracker(options.tracker);
    const classes = options.classes ?? TRACKED_TARGET_DEFAULTS.classes;
    if (!Array.isArray(classes) || classes.some((name) => typeof name !== 'string')) {
      throw new Error('tracked targets: classes must be a list of class names');
    }
    this.classes = new Set(classes);
    this.memoryMs = checkPositive('memoryMs', options.memoryMs ?? TRACKED_TARGET_DEFAULTS.memoryMs);
    this.reacquireRadiusM = checkPositive(
      'reacquireRadiusM',
      options.reacquireRadiusM ?? TRACKED_TARGET_DEFAULTS.reacquireRadiusM,
    );
    const pathPoints = options.pathPoints ?? TRACKED_TARGET_DEFAULTS.pathPoints;
    if (!Number.isInteger(pathPoints) || pathPoints < 1) {
      throw new Error(`tracked targets: pathPoints must be a whole number >= 1, got ${pathPoints}`);
    }
    this.pathPoints = pathPoints;
  }

  /**
   * Folds in one frame's detections (all from the frame taken at frameTimeMs). Each ground
   * position is attached to the detection's track, so tracks carry a path and a speed.
   */
  update(frameTimeMs: number, detections: readonly GeoDetection[]): TrackedFrame {
    const result = this.tracker.update(frameTimeMs, detections);
    if (!result.accepted) {
      return {
        detections: detections.map((detection) => ({ ...detection, trackId: null })),
        forgottenIds: [],
        accepted: false,
        reason: result.reason,
      };
    }
    detections.forEach((detection, index) => {
      const trackId = result.detectionTrackIds[index];
      if (trackId === null || trackId === undefined || !detection.ground) return;
      const { latDeg, lonDeg } = detection.ground;
      if (!Number.isFinite(latDeg) || !Number.isFinite(lonDeg)) return;
      this.tracker.attachGround(trackId, frameTimeMs, detection.ground);
      this.uncertainty.set(trackId, detection.uncertainty ?? null);
    });
    // Snapshots taken after the fixes were attached: the update's own are from before.
    for (const track of this.tracker.tracks()) this.show(track);
    for (const track of result.ended) {
      this.targetIds.delete(track.id);
      this.uncertainty.delete(track.id);
    }
    const withIds = detections.map((detection, index) => {
      const trackId = result.detectionTrackIds[index] ?? null;
      return { ...detection, trackId: trackId === null ? null : this.idOf(trackId) };
    });
    return {
      detections: withIds,
      forgottenIds: this.forgetOld(frameTimeMs),
      accepted: true,
      reason: null,
    };
  }

  /** Targets last seen within the memory time of nowMs, oldest id first; copies. */
  targets(nowMs: number): MapTarget[] {
    checkTime(nowMs);
    return [...this.shown.values()]
      .filter((target) => nowMs - target.lastSeenMs <= this.memoryMs)
      .sort((a, b) => a.id - b.id)
      .map(copyTarget);
  }

  find(id: number, nowMs: number): MapTarget | null {
    return this.targets(nowMs).find((target) => target.id === id) ?? null;
  }

  private idOf(trackId: number): number {
    return this.targetIds.get(trackId) ?? trackId;
  }

  private show(track: Track): void {
    if (track.state === 'tentative' || !this.classes.has(track.className)) return;
    const newest = track.groundPath[track.groundPath.length - 1];
    if (!newest) return;
    const position = { latDeg: newest.latDeg, lonDeg: newest.lonDeg };
    let id = this.targetIds.get(track.id);
    if (id === undefined) {
      id = this.reacquire(track.className, position) ?? track.id;
      this.targetIds.set(track.id, id);
    }
    const before = this.earlier.get(id);
    this.shown.set(id, {
      id,
      className: track.className,
      position,
      score: track.score,
      firstSeenMs: before?.firstSeenMs ?? track.firstSeenMs,
      lastSeenMs: track.lastHitMs,
      hits: (before?.hits ?? 0) + track.hits,
      path: [...(before?.path ?? []), ...track.groundPath].slice(-this.pathPoints),
      speedMps: track.groundSpeedMps,
      courseDeg: track.groundCourseDeg,
      uncertainty: this.uncertainty.get(track.id) ?? null,
    });
  }

  /** The nearest remembered target of the class whose track has ended, if near enough. */
  private reacquire(className: string, position: LatLon): number | null {
    const live = new Set(this.targetIds.values());
    let best: { target: MapTarget; apartM: number } | null = null;
    for (const target of this.shown.values()) {
      if (target.className !== className || live.has(target.id)) continue;
      const apartM = distanceM(target.position, position);
      if (apartM <= this.reacquireRadiusM && (!best || apartM < best.apartM)) {
        best = { target, apartM };
      }
    }
    if (!best) return null;
    const { target } = best;
    this.earlier.set(target.id, {
      path: target.path ?? [],
      hits: target.hits,
      firstSeenMs: target.firstSeenMs,
    });
    return target.id;
  }

  private forgetOld(nowMs: number): number[] {
    const forgotten: number[] = [];
    for (const [id, target] of this.shown) {
      if (nowMs - target.lastSeenMs <= this.memoryMs) continue;
      this.shown.delete(id);
      this.earlier.delete(id);
      forgotten.push(id);
    }
    return forgotten;
  }
}

function copyTarget(target: MapTarget): MapTarget {
  return {
    ...target,
    position: { ...target.position },
    path: target.path?.map((fix) => ({ ...fix })),
    uncertainty: target.uncertainty ? { ...target.uncertainty } : target.uncertainty,
  };
}

/**
 * The one-sigma ground uncertainty as a polygon for the map: an ellipse around the centre with
 * its along-range half-axis on the bearing given, corners in order.
 */
export function uncertaintyPolygon(
  center: LatLon,
  uncertainty: GroundUncertainty,
  corners = 36,
): LatLon[] {
  const { alongRangeM, crossRangeM, alongRangeBearingDeg } = uncertainty;
  if (![alongRangeM, crossRangeM, alongRangeBearingDeg].every(Number.isFinite)) return [];
  const bearingRad = (alongRangeBearingDeg * Math.PI) / 180;
  // Unit vectors (north, east) along and across the line of sight.
  const along = { northM: Math.cos(bearingRad), eastM: Math.sin(bearingRad) };
  const across = { northM: -Math.sin(bearingRad), eastM: Math.cos(bearingRad) };
  const polygon: LatLon[] = [];
  for (let i = 0; i < corners; i += 1) {
    const angleRad = (2 * Math.PI * i) / corners;
    const a = alongRangeM * Math.cos(angleRad);
    const c = crossRangeM * Math.sin(angleRad);
    polygon.push(
      offsetNorthEast(
        center,
        a * along.northM + c * across.northM,
        a * along.eastM + c * across.eastM,
      ),
    );
  }
  return polygon;
}
