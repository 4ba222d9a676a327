// Map targets from geo-detections. TrackedTargets is what the station uses: the multi-object
// tracker's confirmed tracks, each with its ground path. MapTargetList is the older stand-in
// (nearest neighbour on the ground, no motion model), kept for tools that have no frames.

import { distanceM, northEastOf, offsetNorthEast } from './geodesy';
import { MultiObjectTracker, type Track, type TrackerOptions } from './tracker';
import type { GeoDetection, GroundUncertainty, LatLon, MapTarget } from './types';

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
