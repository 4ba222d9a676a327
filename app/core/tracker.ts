// Multi-object tracker in image space: gives each animal a stable id across frames and short
// misses. Pure: no Node or DOM.
//
// Motion model: constant velocity on box centre and size, one small Kalman filter per
// coordinate (state: value and rate). A Kalman filter rather than an alpha-beta filter because
// frame intervals vary (dropped frames, coasting) and a new track has no velocity yet: the
// Kalman gain follows both, starting high and settling, where alpha-beta gains are fixed.
// Coordinates are independent, so four 2-state filters are exact and need no matrix library.
//
// Matching: greedy by IoU between each track's box predicted to the frame time and the
// detections of the same class. With velocity prediction, crossing animals keep apart in IoU,
// and greedy gives the same answer as an optimal assignment whenever boxes are not tied.

import { bearingDeg, distanceM } from './geodesy';
import type { Detection, LatLon, PixelBox } from './types';

export type TrackState = 'tentative' | 'confirmed' | 'lost';

export interface GroundFix extends LatLon {
  timeMs: number;
}

export interface Track {
  /** Stable, never reused while this tracker lives. */
  id: number;
  classId: number;
  className: string;
  state: TrackState;
  /** Score of the latest matched detection. */
  score: number;
  /** Smoothed box at the latest frame time (predicted while coasting). */
  box: PixelBox;
  /** Velocity of the box centre. */
  velocityPxPerS: { xPxPerS: number; yPxPerS: number };
  hits: number;
  firstSeenMs: number;
  lastHitMs: number;
  /** From the first hit to the latest frame. */
  ageMs: number;
  /** From the latest hit to the latest frame. */
  sinceHitMs: number;
  /** Recent ground positions the caller attached, oldest first. */
  groundPath: GroundFix[];
  /** Over the recent ground path; null until there is enough of it. */
  groundSpeedMps: number | null;
  /** Direction of that motion, degrees clockwise from north; null with the speed. */
  groundCourseDeg: number | null;
}

export interface RejectedDetection {
  index: number;
  reason: string;
}

export interface TrackUpdate {
  /** False when the whole frame was ignored; `reason` says why. */
  accepted: boolean;
  reason: string | null;
  frameTimeMs: number;
  /** Live tracks after this frame, all states, oldest id first. */
  tracks: Track[];
  /** Tracks that ended at this frame (timed out, or never confirmed), final state. */
  ended: Track[];
  /** For each detection index, the id of the track it updated or started; null if rejected. */
  detectionTrackIds: Array<number | null>;
  rejected: RejectedDetection[];
}

export interface TrackerOptions {
  /** Hits that confirm a tentative track... */
  confirmHits?: number;
  /** ...within this many frames of its first hit, or it ends. */
  confirmWindowFrames?: number;
  /** A track without a hit for longer than this ends. */
  maxCoastMs?: number;
  /** A predicted box and a detection must overlap at least this much to match. */
  minIou?: number;
  /** Detection noise of box centre and size. */
  measurementStdPx?: number;
  /** Unmodelled acceleration of the box centre (how fast an animal can change course). */
  centreAccelStdPxPerS2?: number;
  /** Unmodelled rate of change of the box size's rate (approach, turning side-on). */
  sizeAccelStdPxPerS2?: number;
  /** Prior on the speed of a new track, before a second hit. */
  initialSpeedStdPxPerS?: number;
  /** Ground positions kept per track. */
  groundPathMaxPoints?: number;
  /** Speed over ground uses the fixes from this far back to the newest. */
  groundSpeedWindowMs?: number;
  /** Shorter spans than this give no speed: GPS and georeference noise would dominate. */
  groundSpeedMinSpanMs?: number;
  /**
   * A detection with a ground position that overlaps no track joins a track of its class whose
   * latest ground fix is this close (plus how far an animal can run since): the camera turned
   * or the drone moved, so the box jumped, but the animal did not. 0 turns this off.
   */
  groundGateM?: number;
  /** The fastest an animal is taken to move when widening that gate. */
  groundMaxSpeedMps?: number;
}

export const TRACKER_DEFAULTS = {
  confirmHits: 3,
  confirmWindowFrames: 5,
  maxCoastMs: 2_000,
  minIou: 0.1,
  measurementStdPx: 5,
  centreAccelStdPxPerS2: 60,
  sizeAccelStdPxPerS2: 20,
  initialSpeedStdPxPerS: 300,
  groundPathMaxPoints: 120,
  groundSpeedWindowMs: 5_000,
  groundSpeedMinSpanMs: 500,
  groundGateM: 10,
  // A charging grizzly runs about 15 m/s, but not for long; hazed bears trot or lope.
  groundMaxSpeedMps: 8,
} as const;

type Resolved = { [K in keyof TrackerOptions]-?: number };

/** One coordinate and its rate, with its 2x2 covariance (symmetric, so three numbers). */
class AxisFilter {
  value: number;
  rate = 0;
  private p00: number;
  private p01 = 0;
  private p11: number;

  constructor(value: number, valueVar: number, rateVar: number) {
    this.value = value;
    this.p00 = valueVar;
    this.p11 = rateVar;
  }

  /** White-noise acceleration model: q is the acceleration variance per second. */
  predict(dtS: number, q: number): void {
    if (dtS <= 0) return;
    this.value += this.rate * dtS;
    this.p00 += 2 * dtS * this.p01 + dtS * dtS * this.p11 + (q * dtS ** 3) / 3;
    this.p01 += dtS * this.p11 + (q * dtS * dtS) / 2;
    this.p11 += q * dtS;
  }

  correct(measured: number, r: number): void {
    const s = this.p00 + r;
    const k0 = this.p00 / s;
    const k1 = this.p01 / s;
    const innovation = measured - this.value;
    this.value += k0 * innovation;
    this.rate += k1 * innovation;
    const p00 = this.p00;
    const p01 = this.p01;
    this.p00 = (1 - k0) * p00;
    this.p01 = (1 - k0) * p01;
    this.p11 -= k1 * p01;
  }
}

interface LiveTrack {
  id: number;
  classId: number;
  className: string;
  state: TrackState;
  score: number;
  cx: AxisFilter;
  cy: AxisFilter;
  w: AxisFilter;
  h: AxisFilter;
  /** Time the filters are at. */
  filterTimeMs: number;
  hits: number;
  framesSinceBirth: number;
  firstSeenMs: number;
  lastHitMs: number;
  groundPath: GroundFix[];
}

/** Smallest box side kept, so that a shrinking prediction never turns inside out. */
const MIN_SIDE_PX = 1;

/** Pairs taken in the order given, each detection and each track at most once. */
function oneToOne<T>(
  pairs: ReadonlyArray<{ index: number; track: T }>,
): Array<{ index: number; track: T }> {
  const usedDetections = new Set<number>();
  const usedTracks = new Set<T>();
  const matches: Array<{ index: number; track: T }> = [];
  for (const { index, track } of pairs) {
    if (usedDetections.has(index) || usedTracks.has(track)) continue;
    usedDetections.add(index);
    usedTracks.add(track);
    matches.push({ index, track });
  }
  return matches;
}

/** The ground position a georeferenced detection carries, if it is one and has a sound one. */
function groundOf(d: Detection): LatLon | null {
  const ground = (d as { ground?: unknown }).ground as LatLon | null | undefined;
  if (!ground || !Number.isFinite(ground.latDeg) || !Number.isFinite(ground.lonDeg)) return null;
  return ground;
}

function boxOf(track: LiveTrack): PixelBox {
  const w = Math.max(MIN_SIDE_PX, track.w.value);
  const h = Math.max(MIN_SIDE_PX, track.h.value);
  return [track.cx.value - w / 2, track.cy.value - h / 2, w, h];
}

export function iou(a: PixelBox, b: PixelBox): number {
  const ix = Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]);
  const iy = Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  return inter / (a[2] * a[3] + b[2] * b[3] - inter);
}

function checkOption(name: keyof TrackerOptions, value: number, integer: boolean): number {
  const ok = Number.isFinite(value) && value > 0 && (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'a positive whole number' : 'a positive number';
    throw new Error(`tracker: ${name} must be ${kind}, got ${value}`);
  }
  return value;
}

function detectionProblem(d: unknown): string | null {
  if (typeof d !== 'object' || d === null) return 'not a detection object';
  const det = d as Partial<Detection>;
  if (typeof det.className !== 'string') return 'className is not a string';
  if (!Number.isFinite(det.classId)) return `classId ${String(det.classId)} is not a number`;
  if (!Number.isFinite(det.score)) return `score ${String(det.score)} is not a number`;
  const box = det.box;
  if (!Array.isArray(box) || box.length !== 4 || !box.every((v) => Number.isFinite(v))) {
    return 'box is not four finite numbers [left, top, width, height]';
  }
  if (box[2] <= 0 || box[3] <= 0) return `box size ${box[2]}x${box[3]} px is not positive`;
  return null;
}

export class MultiObjectTracker {
  private readonly options: Resolved;
  private readonly live = new Map<number, LiveTrack>();
  private nextId = 1;
  private lastFrameMs: number | null = null;

  constructor(options: TrackerOptions = {}) {
    const pick = (name: keyof TrackerOptions, integer = false): number =>
      checkOption(name, options[name] ?? TRACKER_DEFAULTS[name], integer);
    this.options = {
      confirmHits: pick('confirmHits', true),
      confirmWindowFrames: pick('confirmWindowFrames', true),
      maxCoastMs: pick('maxCoastMs'),
      minIou: pick('minIou'),
      measurementStdPx: pick('measurementStdPx'),
      centreAccelStdPxPerS2: pick('centreAccelStdPxPerS2'),
      sizeAccelStdPxPerS2: pick('sizeAccelStdPxPerS2'),
      initialSpeedStdPxPerS: pick('initialSpeedStdPxPerS'),
      groundPathMaxPoints: pick('groundPathMaxPoints', true),
      groundSpeedWindowMs: pick('groundSpeedWindowMs'),
      groundSpeedMinSpanMs: pick('groundSpeedMinSpanMs'),
      // 0 is allowed here: it turns matching on the ground off.
      groundGateM: options.groundGateM === 0 ? 0 : pick('groundGateM'),
      groundMaxSpeedMps: pick('groundMaxSpeedMps'),
    };
    if (this.options.minIou > 1) {
      throw new Error(`tracker: minIou must be at most 1, got ${this.options.minIou}`);
    }
    if (this.options.confirmWindowFrames < this.options.confirmHits) {
      throw new Error(
        `tracker: confirmWindowFrames (${this.options.confirmWindowFrames}) must be at least ` +
          `confirmHits (${this.options.confirmHits})`,
      );
    }
  }

  /**
   * Folds in one frame's detections. Frames must come in time order; a frame with a bad time
   * is ignored (accepted: false), not thrown, so one bad frame never stops the video path.
   * A frame with no detections still ages the tracks: send one to end tracks on time.
   */
  update(frameTimeMs: number, detections: readonly Detection[]): TrackUpdate {
    const ignored = (reason: string): TrackUpdate => ({
      accepted: false,
      reason,
      frameTimeMs,
      tracks: this.tracks(),
      ended: [],
      detectionTrackIds: Array.isArray(detections) ? detections.map(() => null) : [],
      rejected: [],
    });
    if (!Number.isFinite(frameTimeMs)) {
      return ignored(`frame time ${String(frameTimeMs)} is not a finite number`);
    }
    if (this.lastFrameMs !== null && frameTimeMs <= this.lastFrameMs) {
      return ignored(
        `frame time ${frameTimeMs} ms is not after the previous frame (${this.lastFrameMs} ms)`,
      );
    }
    if (!Array.isArray(detections)) return ignored('detections is not a list');
    this.lastFrameMs = frameTimeMs;

    const rejected: RejectedDetection[] = [];
    const valid: number[] = [];
    detections.forEach((d, index) => {
      const problem = detectionProblem(d);
      if (problem) rejected.push({ index, reason: problem });
      else valid.push(index);
    });

    for (const track of this.live.values()) this.predict(track, frameTimeMs);

    const detectionTrackIds: Array<number | null> = detections.map(() => null);
    const matchedTracks = new Set<LiveTrack>();
    for (const { index, track } of this.match(detections, valid)) {
      this.correct(track, detections[index], frameTimeMs);
      matchedTracks.add(track);
      detectionTrackIds[index] = track.id;
    }
    const unmatched = valid.filter((index) => detectionTrackIds[index] === null);
    for (const { index, track } of this.matchOnGround(detections, unmatched, matchedTracks)) {
      this.reseat(track, detections[index], frameTimeMs);
      matchedTracks.add(track);
      detectionTrackIds[index] = track.id;
    }

    const ended: Track[] = [];
    for (const track of [...this.live.values()]) {
      track.framesSinceBirth += 1;
      if (this.advanceState(track, matchedTracks.has(track), frameTimeMs)) continue;
      ended.push(this.snapshot(track));
      this.live.delete(track.id);
    }

    for (const index of valid) {
      if (detectionTrackIds[index] !== null) continue;
      detectionTrackIds[index] = this.start(detections[index], frameTimeMs).id;
    }

    return {
      accepted: true,
      reason: null,
      frameTimeMs,
      tracks: this.tracks(),
      ended,
      detectionTrackIds,
      rejected,
    };
  }

  /** Live tracks as of the latest frame, oldest id first; copies the caller may keep. */
  tracks(): Track[] {
    return [...this.live.values()].map((track) => this.snapshot(track));
  }

  /**
   * Adds a ground position to a live track's path (the caller georeferences the track's box).
   * Returns false when the track has ended or never existed: a late fix is not an error.
   */
  attachGround(trackId: number, timeMs: number, position: LatLon): boolean {
    if (!Number.isFinite(timeMs)) {
      throw new Error(`tracker: ground fix time ${String(timeMs)} is not a finite number`);
    }
    const latDeg = position?.latDeg;
    const lonDeg = position?.lonDeg;
    if (!Number.isFinite(latDeg) || Math.abs(latDeg) > 90) {
      throw new Error(`tracker: ground fix latitude ${String(latDeg)} is not in -90..90`);
    }
    if (!Number.isFinite(lonDeg) || Math.abs(lonDeg) > 180) {
      throw new Error(`tracker: ground fix longitude ${String(lonDeg)} is not in -180..180`);
    }
    const track = this.live.get(trackId);
    if (!track) return false;
    const path = track.groundPath;
    const fix: GroundFix = { timeMs, latDeg, lonDeg };
    // Georeferencing may finish out of order; keep the path sorted, one fix per time.
    let at = path.length;
    while (at > 0 && path[at - 1].timeMs > timeMs) at -= 1;
    if (at > 0 && path[at - 1].timeMs === timeMs) path[at - 1] = fix;
    else path.splice(at, 0, fix);
    if (path.length > this.options.groundPathMaxPoints) {
      path.splice(0, path.length - this.options.groundPathMaxPoints);
    }
    return true;
  }

  private predict(track: LiveTrack, timeMs: number): void {
    const dtS = (timeMs - track.filterTimeMs) / 1000;
    const qCentre = this.options.centreAccelStdPxPerS2 ** 2;
    const qSize = this.options.sizeAccelStdPxPerS2 ** 2;
    track.cx.predict(dtS, qCentre);
    track.cy.predict(dtS, qCentre);
    track.w.predict(dtS, qSize);
    track.h.predict(dtS, qSize);
    track.filterTimeMs = timeMs;
  }

  private correct(track: LiveTrack, d: Detection, timeMs: number): void {
    const r = this.options.measurementStdPx ** 2;
    const [left, top, width, height] = d.box;
    track.cx.correct(left + width / 2, r);
    track.cy.correct(top + height / 2, r);
    track.w.correct(width, r);
    track.h.correct(height, r);
    track.score = d.score;
    track.hits += 1;
    track.lastHitMs = timeMs;
  }

  /** Greedy by IoU, best pairs first; one detection per track and class must agree. */
  private match(
    detections: readonly Detection[],
    valid: readonly number[],
  ): Array<{ index: number; track: LiveTrack }> {
    const pairs: Array<{ index: number; track: LiveTrack; overlap: number }> = [];
    for (const track of this.live.values()) {
      const predicted = boxOf(track);
      for (const index of valid) {
        const d = detections[index];
        if (d.classId !== track.classId || d.className !== track.className) continue;
        const overlap = iou(predicted, d.box);
        if (overlap >= this.options.minIou) pairs.push({ index, track, overlap });
      }
    }
    // Ties broken by older track first, so that an established track wins over a newcomer.
    pairs.sort((a, b) => b.overlap - a.overlap || a.track.id - b.track.id || a.index - b.index);
    return oneToOne(pairs);
  }

  /** Greedy by ground distance, nearest first, within the gate; for boxes that jumped. */
  private matchOnGround(
    detections: readonly Detection[],
    unmatched: readonly number[],
    taken: ReadonlySet<LiveTrack>,
  ): Array<{ index: number; track: LiveTrack }> {
    const { groundGateM, groundMaxSpeedMps } = this.options;
    if (groundGateM <= 0) return [];
    const pairs: Array<{ index: number; track: LiveTrack; apartM: number }> = [];
    for (const track of this.live.values()) {
      const fix = track.groundPath[track.groundPath.length - 1];
      if (taken.has(track) || !fix) continue;
      for (const index of unmatched) {
        const d = detections[index];
        const ground = groundOf(d);
        if (!ground || d.classId !== track.classId || d.className !== track.className) continue;
        const elapsedS = Math.max(0, (d.frameTimeMs - fix.timeMs) / 1000);
        const apartM = distanceM(fix, ground);
        if (apartM <= groundGateM + groundMaxSpeedMps * elapsedS) {
          pairs.push({ index, track, apartM });
        }
      }
    }
    pairs.sort((a, b) => a.apartM - b.apartM || a.track.id - b.track.id || a.index - b.index);
    return oneToOne(pairs);
  }

  /** A hit whose box jumped with the camera: the box filters start again where it is now. */
  private reseat(track: LiveTrack, d: Detection, timeMs: number): void {
    const fresh = this.newFilters(d);
    track.cx = fresh.cx;
    track.cy = fresh.cy;
    track.w = fresh.w;
    track.h = fresh.h;
    track.filterTimeMs = timeMs;
    track.score = d.score;
    track.hits += 1;
    track.lastHitMs = timeMs;
  }

  private newFilters(d: Detection): Pick<LiveTrack, 'cx' | 'cy' | 'w' | 'h'> {
    const r = this.options.measurementStdPx ** 2;
    const rateVar = this.options.initialSpeedStdPxPerS ** 2;
    const [left, top, width, height] = d.box;
    return {
      cx: new AxisFilter(left + width / 2, r, rateVar),
      cy: new AxisFilter(top + height / 2, r, rateVar),
      // Size changes far more slowly than position moves.
      w: new AxisFilter(width, r, rateVar / 100),
      h: new AxisFilter(height, r, rateVar / 100),
    };
  }

  /** Moves a track through its lifecycle; false when it has ended. */
  private advanceState(track: LiveTrack, hit: boolean, timeMs: number): boolean {
    if (timeMs - track.lastHitMs > this.options.maxCoastMs) return false;
    if (track.state === 'tentative') {
      if (track.hits >= this.options.confirmHits) track.state = 'confirmed';
      else return track.framesSinceBirth < this.options.confirmWindowFrames;
      return true;
    }
    track.state = hit ? 'confirmed' : 'lost';
    return true;
  }

  private start(d: Detection, timeMs: number): LiveTrack {
    const track: LiveTrack = {
      id: this.nextId++,
      classId: d.classId,
      className: d.className,
      state: this.options.confirmHits <= 1 ? 'confirmed' : 'tentative',
      score: d.score,
      ...this.newFilters(d),
      filterTimeMs: timeMs,
      hits: 1,
      framesSinceBirth: 1,
      firstSeenMs: timeMs,
      lastHitMs: timeMs,
      groundPath: [],
    };
    this.live.set(track.id, track);
    return track;
  }

  private groundMotion(path: GroundFix[]): { speedMps: number; courseDeg: number } | null {
    if (path.length < 2) return null;
    const newest = path[path.length - 1];
    const from = path.find((fix) => newest.timeMs - fix.timeMs <= this.options.groundSpeedWindowMs);
    if (!from) return null;
    const spanMs = newest.timeMs - from.timeMs;
    if (spanMs < this.options.groundSpeedMinSpanMs) return null;
    // Net displacement over the window, not the summed zigzag: georeference noise would
    // otherwise add speed to a bear that is standing still.
    const apartM = distanceM(from, newest);
    return {
      speedMps: apartM / (spanMs / 1000),
      courseDeg: apartM > 0 ? bearingDeg(from, newest) : 0,
    };
  }

  private snapshot(track: LiveTrack): Track {
    const nowMs = this.lastFrameMs ?? track.filterTimeMs;
    const motion = this.groundMotion(track.groundPath);
    return {
      id: track.id,
      classId: track.classId,
      className: track.className,
      state: track.state,
      score: track.score,
      box: boxOf(track),
      velocityPxPerS: { xPxPerS: track.cx.rate, yPxPerS: track.cy.rate },
      hits: track.hits,
      firstSeenMs: track.firstSeenMs,
      lastHitMs: track.lastHitMs,
      ageMs: nowMs - track.firstSeenMs,
      sinceHitMs: nowMs - track.lastHitMs,
      groundPath: track.groundPath.map((fix) => ({ ...fix })),
      groundSpeedMps: motion ? motion.speedMps : null,
      groundCourseDeg: motion ? motion.courseDeg : null,
    };
  }
}
