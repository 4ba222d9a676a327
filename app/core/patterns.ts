// Hazing patterns, flown from the station as a stream of guided setpoints (ArduCopter has no
// orbit command), re-aimed at the bear's live track on every step. Pure: no Node or DOM. The
// station checks each setpoint against the safety envelope before it sends it.

import type { Setpoint } from './envelope';
import {
  bearingDeg,
  checkLatLon,
  destination,
  distanceM,
  normalizeDeg,
  northEastOf,
  offsetNorthEast,
} from './geodesy';
import type { CameraModel, LatLon } from './types';
import { pointInPolygon } from './zones';

export type PatternKind = 'push' | 'orbit' | 'zigzag' | 'search' | 'shadow';

export type PatternSettings =
  | {
      kind: 'push';
      /** Where the bear should go: bearing from the bear, degrees clockwise from north. */
      safeBearingDeg: number;
      /** A zone to drive the bear into instead of a fixed bearing; it ends at its edge. */
      safeZoneId: number | null;
      /** Horizontal distance the drone keeps from the bear, behind it. */
      standoffM: number;
      altitudeAglM: number;
      /**
       * The push succeeds once the bear is this far from where it started toward the safe
       * bearing (as nudged); into a safe zone, once the bear is inside it.
       */
      successDistanceM: number;
      onSuccess: 'hold' | 'return';
    }
  | {
      kind: 'orbit';
      radiusM: number;
      speedMps: number;
      altitudeAglM: number;
      clockwise: boolean;
    }
  | {
      kind: 'zigzag';
      /** The line to sweep across, e.g. a field edge or a school fence. */
      line: [LatLon, LatLon];
      /** How far either side of the line each sweep reaches. */
      halfWidthM: number;
      /** Distance along the line between one crossing and the next. */
      legSpacingM: number;
      altitudeAglM: number;
      speedMps: number;
    }
  | {
      kind: 'search';
      /** The area to survey, corners in order. */
      polygon: LatLon[];
      altitudeAglM: number;
      /** Side overlap of neighbouring camera strips, 0..80. */
      overlapPct: number;
      speedMps: number;
    }
  | {
      kind: 'shadow';
      /** Horizontal distance from the bear. */
      offsetM: number;
      /** Where the drone sits seen from the bear, degrees clockwise from north. */
      offsetBearingDeg: number;
      altitudeAglM: number;
    };

/** The bear being hazed, from its live track. */
export interface PatternBear extends LatLon {
  trackId: number;
  /** Direction of travel; null while standing or unknown. */
  courseDeg: number | null;
  speedMps: number | null;
  lastSeenMs: number;
}

export interface PatternContext {
  nowMs: number;
  drone: LatLon & { altitudeAglM: number };
  /** Null when the track is lost: patterns that follow the bear hold. */
  bear: PatternBear | null;
  /** The push's safe zone polygon, when it has one. */
  safeZone: LatLon[] | null;
  camera: CameraModel & { imageWidthPx: number };
}

export type PatternOutcome = 'success' | 'finished' | 'lost-bear';

export interface PatternStep {
  /** Where to fly now; null to hold where the drone is. */
  setpoint: Setpoint | null;
  /** What the pattern is doing, for the operator, e.g. "pushing: bear 120 m of 200 m". */
  text: string;
  /** Set once the pattern is over: success (push goal reached), finished (survey flown). */
  outcome: PatternOutcome | null;
  /** Push: how far the bear is from where it started, in a straight line, any way. */
  bearMovedM?: number;
  /**
   * Push toward a bearing: how far the bear went that way from where it started (negative when
   * it went back); what success is measured by.
   */
  bearTowardM?: number;
}

/** How far a pattern setting may be nudged while it flies. */
export interface PatternNudge {
  /** Push: turn the safe direction; shadow: turn the offset bearing. */
  bearingDeltaDeg?: number;
  /** Push: standoff; orbit: radius; shadow: offset. */
  distanceDeltaM?: number;
}

/** What a survey at one height sees with the camera pointing straight down. */
export interface GroundResolution {
  /** Ground width of one pixel across the image. */
  metresPerPixel: number;
  /** Pixels across a 1.9 m bear. */
  bearLengthPx: number;
  /** Ground width of one camera strip. */
  swathM: number;
  /** Distance between neighbouring survey legs after overlap. */
  legSpacingM: number;
}

/** Length of a grown bear, for pixels on a bear in a survey. */
export const BEAR_LENGTH_M = 1.9;

type Range = { readonly min: number; readonly max: number };

/** What each numeric setting may be, per pattern kind. */
export const PATTERN_RANGES = {
  push: {
    // The station also refuses a standoff under the envelope's bear standoff.
    standoffM: { min: 20, max: 150 },
    // The push band: low enough to be seen and heard, high enough to stay out of reach.
    altitudeAglM: { min: 15, max: 40 },
    successDistanceM: { min: 50, max: 2000 },
  },
  orbit: {
    radiusM: { min: 20, max: 200 },
    speedMps: { min: 1, max: 15 },
    altitudeAglM: { min: 10, max: 120 },
  },
  zigzag: {
    halfWidthM: { min: 5, max: 200 },
    legSpacingM: { min: 5, max: 200 },
    altitudeAglM: { min: 10, max: 120 },
    speedMps: { min: 1, max: 15 },
    /** Length of the line swept across. */
    lineLengthM: { min: 5, max: 5000 },
  },
  search: {
    altitudeAglM: { min: 10, max: 120 },
    overlapPct: { min: 0, max: 80 },
    speedMps: { min: 1, max: 15 },
  },
  shadow: {
    offsetM: { min: 20, max: 200 },
    altitudeAglM: { min: 10, max: 120 },
  },
} as const satisfies Record<PatternKind, Record<string, Range>>;

type Settings<K extends PatternKind> = Extract<PatternSettings, { kind: K }>;

export const PATTERN_DEFAULTS: {
  push: Settings<'push'>;
  orbit: Settings<'orbit'>;
  zigzag: Omit<Settings<'zigzag'>, 'line'>;
  search: Omit<Settings<'search'>, 'polygon'>;
  shadow: Settings<'shadow'>;
} = {
  push: {
    kind: 'push',
    safeBearingDeg: 0,
    safeZoneId: null,
    standoffM: 40,
    altitudeAglM: 25,
    // The success measure of the Montana drone hazing study.
    successDistanceM: 200,
    onSuccess: 'hold',
  },
  orbit: { kind: 'orbit', radiusM: 50, speedMps: 5, altitudeAglM: 30, clockwise: true },
  zigzag: { kind: 'zigzag', halfWidthM: 30, legSpacingM: 40, altitudeAglM: 30, speedMps: 5 },
  search: { kind: 'search', altitudeAglM: 60, overlapPct: 30, speedMps: 8 },
  shadow: { kind: 'shadow', offsetM: 50, offsetBearingDeg: 180, altitudeAglM: 30 },
};

/** Polygons: enough corners for an area, few enough for one message. */
const POLYGON_CORNERS = { min: 3, max: 100 } as const;
/** A search area wider than this is a mistake (a slip of the map), not a survey. */
const MAX_SEARCH_SPAN_M = 5_000;
/** A survey with more legs than this is a mistake (a lens far too narrow for the area). */
const MAX_SEARCH_LEGS = 2000;
/** A track not seen for this long is lost: the pattern holds. */
export const BEAR_LOST_HOLD_MS = 5_000;
/** Lost this long, the pattern ends. */
export const BEAR_LOST_END_MS = 30_000;
/** The drone has reached a zigzag or survey corner within this distance. */
export const VERTEX_REACHED_M = 3;
/** Going round a bear, the drone keeps this much more than the standoff. */
const ROUND_FACTOR = 1.2;
/** How far an orbit's path may bulge outside its circle between setpoints. */
const ORBIT_BULGE_M = 0.5;
/** Kept beyond a circle the path must not enter, against rounding in the envelope. */
const CLEAR_MARGIN_M = 0.05;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkFields(value: Record<string, unknown>, allowed: string[], what: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      throw new Error(`${what}: unknown field ${key}; the fields are ${allowed.join(', ')}`);
    }
  }
}

function checkNumber(value: unknown, field: string, range: Range, unit: string, what: string) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${what} ${field} ${JSON.stringify(value)} is not a number`);
  }
  if (value < range.min || value > range.max) {
    throw new Error(`${what} ${field} ${value} is outside ${range.min}-${range.max} ${unit}`);
  }
  return value;
}

function checkBearing(value: unknown, field: string, what: string): number {
  const bearing = checkNumber(value, field, { min: -360, max: 360 }, 'deg', what);
  return normalizeDeg(bearing);
}

/**
 * Checks pattern settings from the UI or a file and returns a clean copy; throws an Error
 * naming the pattern, the field and the allowed range ("orbit radiusM 5 is outside 20-200 m").
 */
export function checkPatternSettings(value: unknown, what = 'pattern'): PatternSettings {
  if (!isRecord(value)) throw new Error(`${what} settings are not an object`);
  const kind = value.kind;
  const named = `${what === 'pattern' ? '' : `${what}: `}${String(kind)}`;
  switch (kind) {
    case 'push': {
      const r = PATTERN_RANGES.push;
      checkFields(value, Object.keys(PATTERN_DEFAULTS.push), named);
      const { safeZoneId, onSuccess } = value;
      if (safeZoneId !== null && !(Number.isInteger(safeZoneId) && Number(safeZoneId) >= 1)) {
        throw new Error(
          `${named} safeZoneId ${JSON.stringify(safeZoneId)} is not null or a zone id`,
        );
      }
      if (onSuccess !== 'hold' && onSuccess !== 'return') {
        throw new Error(`${named} onSuccess ${JSON.stringify(onSuccess)} is not hold or return`);
      }
      return {
        kind,
        safeBearingDeg: checkBearing(value.safeBearingDeg, 'safeBearingDeg', named),
        safeZoneId: safeZoneId as number | null,
        standoffM: checkNumber(value.standoffM, 'standoffM', r.standoffM, 'm', named),
        altitudeAglM: checkNumber(value.altitudeAglM, 'altitudeAglM', r.altitudeAglM, 'm', named),
        successDistanceM: checkNumber(
          value.successDistanceM,
          'successDistanceM',
          r.successDistanceM,
          'm',
          named,
        ),
        onSuccess,
      };
    }
    case 'orbit': {
      const r = PATTERN_RANGES.orbit;
      checkFields(value, Object.keys(PATTERN_DEFAULTS.orbit), named);
      if (typeof value.clockwise !== 'boolean') {
        throw new Error(
          `${named} clockwise ${JSON.stringify(value.clockwise)} is not true or false`,
        );
      }
      return {
        kind,
        radiusM: checkNumber(value.radiusM, 'radiusM', r.radiusM, 'm', named),
        speedMps: checkNumber(value.speedMps, 'speedMps', r.speedMps, 'm/s', named),
        altitudeAglM: checkNumber(value.altitudeAglM, 'altitudeAglM', r.altitudeAglM, 'm', named),
        clockwise: value.clockwise,
      };
    }
    case 'zigzag': {
      const r = PATTERN_RANGES.zigzag;
      checkFields(value, [...Object.keys(PATTERN_DEFAULTS.zigzag), 'line'], named);
      if (!Array.isArray(value.line) || value.line.length !== 2) {
        throw new Error(`${named} line is not a list of two points`);
      }
      const line: [LatLon, LatLon] = [
        checkLatLon(value.line[0], `${named} line point 1`),
        checkLatLon(value.line[1], `${named} line point 2`),
      ];
      const lengthM = distanceM(line[0], line[1]);
      const { min, max } = r.lineLengthM;
      if (!(lengthM >= min && lengthM <= max)) {
        throw new Error(
          `${named} line is ${Math.round(lengthM)} m long; it must be ${min}-${max} m`,
        );
      }
      return {
        kind,
        line,
        halfWidthM: checkNumber(value.halfWidthM, 'halfWidthM', r.halfWidthM, 'm', named),
        legSpacingM: checkNumber(value.legSpacingM, 'legSpacingM', r.legSpacingM, 'm', named),
        altitudeAglM: checkNumber(value.altitudeAglM, 'altitudeAglM', r.altitudeAglM, 'm', named),
        speedMps: checkNumber(value.speedMps, 'speedMps', r.speedMps, 'm/s', named),
      };
    }
    case 'search': {
      const r = PATTERN_RANGES.search;
      checkFields(value, [...Object.keys(PATTERN_DEFAULTS.search), 'polygon'], named);
      const polygon = value.polygon;
      if (!Array.isArray(polygon)) throw new Error(`${named} polygon is not a list of corners`);
      if (polygon.length < POLYGON_CORNERS.min || polygon.length > POLYGON_CORNERS.max) {
        throw new Error(
          `${named} polygon has ${polygon.length} corners; it needs ` +
            `${POLYGON_CORNERS.min}-${POLYGON_CORNERS.max}`,
        );
      }
      const corners = polygon.map((corner, i) =>
        checkLatLon(corner, `${named} polygon corner ${i + 1}`),
      );
      const spanM = Math.max(...corners.flatMap((a) => corners.map((b) => distanceM(a, b))));
      if (spanM > MAX_SEARCH_SPAN_M) {
        throw new Error(
          `${named} polygon spans ${Math.round(spanM)} m; a search covers at most ` +
            `${MAX_SEARCH_SPAN_M} m across`,
        );
      }
      return {
        kind,
        polygon: corners,
        altitudeAglM: checkNumber(value.altitudeAglM, 'altitudeAglM', r.altitudeAglM, 'm', named),
        overlapPct: checkNumber(value.overlapPct, 'overlapPct', r.overlapPct, '%', named),
        speedMps: checkNumber(value.speedMps, 'speedMps', r.speedMps, 'm/s', named),
      };
    }
    case 'shadow': {
      const r = PATTERN_RANGES.shadow;
      checkFields(value, Object.keys(PATTERN_DEFAULTS.shadow), named);
      return {
        kind,
        offsetM: checkNumber(value.offsetM, 'offsetM', r.offsetM, 'm', named),
        offsetBearingDeg: checkBearing(value.offsetBearingDeg, 'offsetBearingDeg', named),
        altitudeAglM: checkNumber(value.altitudeAglM, 'altitudeAglM', r.altitudeAglM, 'm', named),
      };
    }
    default:
      throw new Error(
        `${what} kind ${JSON.stringify(kind)} is not push, orbit, zigzag, search or shadow`,
      );
  }
}

/**
 * What a straight-down camera sees at a height: strip width 2 x altitude x tan(hfov / 2),
 * legs that far apart less the overlap.
 */
export function groundResolution(
  altitudeAglM: number,
  camera: CameraModel,
  imageWidthPx: number,
  overlapPct: number,
): GroundResolution {
  if (!(Number.isFinite(altitudeAglM) && altitudeAglM > 0)) {
    throw new Error(`ground resolution: altitude ${altitudeAglM} m is not above the ground`);
  }
  const fovDeg = camera.horizontalFovDeg;
  if (!(Number.isFinite(fovDeg) && fovDeg > 0 && fovDeg < 180)) {
    throw new Error(`ground resolution: horizontal field of view ${fovDeg} deg is not 0-180`);
  }
  if (!(Number.isInteger(imageWidthPx) && imageWidthPx > 0)) {
    throw new Error(`ground resolution: image width ${imageWidthPx} px is not a whole number`);
  }
  if (!(Number.isFinite(overlapPct) && overlapPct >= 0 && overlapPct < 100)) {
    throw new Error(`ground resolution: overlap ${overlapPct}% is not 0-99`);
  }
  const swathM = 2 * altitudeAglM * Math.tan((fovDeg * Math.PI) / 360);
  const metresPerPixel = swathM / imageWidthPx;
  return {
    metresPerPixel,
    bearLengthPx: BEAR_LENGTH_M / metresPerPixel,
    swathM,
    legSpacingM: swathM * (1 - overlapPct / 100),
  };
}

// ---- plane geometry: x east, y north, metres from an origin ----

interface Vec {
  x: number;
  y: number;
}

function toVec(origin: LatLon, point: LatLon): Vec {
  const { northM, eastM } = northEastOf(origin, point);
  return { x: eastM, y: northM };
}

function fromVec(origin: LatLon, vec: Vec): LatLon {
  return offsetNorthEast(origin, vec.y, vec.x);
}

/** Unit vector toward a bearing (degrees clockwise from north). */
function unitToward(bearing: number): Vec {
  const rad = (bearing * Math.PI) / 180;
  return { x: Math.sin(rad), y: Math.cos(rad) };
}

function closestApproachM(p: Vec, a: Vec, b: Vec): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  const t =
    lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSq));
  return Math.hypot(a.x + t * dx - p.x, a.y + t * dy - p.y);
}

/** Turn sign: +1 counter-clockwise (bearing decreasing), -1 clockwise, in the x-east plane. */
type Turn = 1 | -1;

function rotate(v: Vec, angleRad: number): Vec {
  const c = Math.cos(angleRad);
  const s = Math.sin(angleRad);
  return { x: v.x * c - v.y * s, y: v.x * s + v.y * c };
}

/**
 * The next point going round a centre at radius R, in turn direction, from `drone` (relative
 * to the centre), such that the straight path there never comes nearer the centre than R (or
 * than the drone is now, when it is inside): outside the circle, along the tangent past the
 * point it touches by leadM; inside, out to the circle at an angle that keeps moving away.
 */
function roundStep(drone: Vec, radiusM: number, turn: Turn, leadM: number): Vec {
  const r = Math.hypot(drone.x, drone.y);
  const radial = r > 1e-6 ? { x: drone.x / r, y: drone.y / r } : { x: 0, y: 1 };
  if (r < radiusM) {
    // Out to the circle, or just past the drone's own radius when it is nearly there; the path
    // moves away from the centre all along while targetM x cos(angle) >= r.
    const targetM = Math.max(radiusM, Math.hypot(r, leadM));
    const keepAwayRad = Math.acos(Math.min(1, (r + CLEAR_MARGIN_M) / targetM));
    const angleRad = Math.min(keepAwayRad, leadM / targetM);
    const dir = rotate(radial, turn * angleRad);
    return { x: dir.x * targetM, y: dir.y * targetM };
  }
  const touchRad = Math.acos(Math.min(1, radiusM / r));
  const touchDir = rotate(radial, turn * touchRad);
  const tangent = rotate(touchDir, (turn * Math.PI) / 2);
  return {
    x: touchDir.x * radiusM + tangent.x * leadM,
    y: touchDir.y * radiusM + tangent.y * leadM,
  };
}

/** The turn that reaches angle `toward` from `from` (both relative to a centre) the short way. */
function shortTurn(from: Vec, toward: Vec): Turn {
  const crossZ = from.x * toward.y - from.y * toward.x;
  return crossZ >= 0 ? 1 : -1;
}

function angleLabel(deg: number): string {
  return `${Math.round(normalizeDeg(deg))} deg`;
}

const COMPASS_POINTS = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'] as const;

/** The nearest of eight compass points, for words that the exact degrees would clutter. */
function compassLabel(deg: number): string {
  return COMPASS_POINTS[Math.round(normalizeDeg(deg) / 45) % 8];
}

// ---- the patterns ----

export interface Pattern {
  readonly settings: PatternSettings;
  step(ctx: PatternContext): PatternStep;
  /** Returns the new settings; throws an Error naming the limit when out of range. */
  nudge(nudge: PatternNudge): PatternSettings;
  preview(ctx: PatternContext): LatLon[];
}

/** Remembers the bear's last sighting, to hold briefly and then give up. */
class BearWatch {
  private lastSeenMs: number;

  constructor(startMs: number, bear: PatternBear | null) {
    this.lastSeenMs = bear ? bear.lastSeenMs : startMs;
  }

  /** The live bear, or why there is none and whether to give up. */
  look(ctx: PatternContext): { bear: PatternBear } | { lostS: number; over: boolean } {
    const bear = ctx.bear;
    if (bear && isFinitePoint(bear) && Number.isFinite(bear.lastSeenMs)) {
      this.lastSeenMs = Math.max(this.lastSeenMs, bear.lastSeenMs);
      if (ctx.nowMs - bear.lastSeenMs <= BEAR_LOST_HOLD_MS) return { bear };
    }
    const lostMs = Math.max(0, ctx.nowMs - this.lastSeenMs);
    return { lostS: lostMs / 1000, over: lostMs > BEAR_LOST_END_MS };
  }
}

function isFinitePoint(point: LatLon): boolean {
  return Number.isFinite(point.latDeg) && Number.isFinite(point.lonDeg);
}

function lostStep(lost: { lostS: number; over: boolean }): PatternStep {
  const seconds = Math.round(lost.lostS);
  return lost.over
    ? { setpoint: null, text: `bear lost for ${seconds} s: pattern ended`, outcome: 'lost-bear' }
    : { setpoint: null, text: `bear lost ${seconds} s ago: holding`, outcome: null };
}

function setpointAt(point: LatLon, altitudeAglM: number): Setpoint {
  return { latDeg: point.latDeg, lonDeg: point.lonDeg, altitudeAglM };
}

/**
 * Toward a goal at `goal` (relative to the bear): straight there when the path keeps clearM
 * from the bear (or does not come nearer than the drone is now), else round the bear on the
 * side `turn` at ROUND_FACTOR x clearM.
 */
function approach(drone: Vec, goal: Vec, clearM: number, turn: Turn): { to: Vec; round: boolean } {
  const r = Math.hypot(drone.x, drone.y);
  const closestM = closestApproachM({ x: 0, y: 0 }, drone, goal);
  if (closestM + 1e-6 >= Math.min(clearM, r)) return { to: goal, round: false };
  const roundM = clearM * ROUND_FACTOR;
  return { to: roundStep(drone, roundM, turn, Math.max(5, roundM * 0.15)), round: true };
}

class FollowPattern implements Pattern {
  private current: Settings<'push'> | Settings<'shadow'>;
  private readonly watch: BearWatch;
  private bearFirst: LatLon | null;
  /** Push into a zone: the operator's turns, added to the aim at the zone. */
  private zoneTurnDeg = 0;
  /** The side chosen to go round the bear, kept until the straight path is clear. */
  private turn: Turn | null = null;

  constructor(settings: Settings<'push'> | Settings<'shadow'>, start: PatternContext) {
    this.current = settings;
    this.watch = new BearWatch(start.nowMs, start.bear);
    this.bearFirst = start.bear ? { latDeg: start.bear.latDeg, lonDeg: start.bear.lonDeg } : null;
  }

  get settings(): PatternSettings {
    return this.current;
  }

  /** Bearing from the bear to where the drone belongs. */
  private droneSideDeg(bear: LatLon, safeZone: LatLon[] | null): number {
    const s = this.current;
    if (s.kind === 'shadow') return s.offsetBearingDeg;
    return normalizeDeg(this.safeDeg(bear, safeZone) + 180);
  }

  private safeDeg(bear: LatLon, safeZone: LatLon[] | null): number {
    const s = this.current;
    if (s.kind !== 'push') return 0;
    if (s.safeZoneId === null || !safeZone || safeZone.length < 3) return s.safeBearingDeg;
    const aim = nearestPointOf(bear, safeZone);
    return normalizeDeg(bearingDeg(bear, aim) + this.zoneTurnDeg);
  }

  private keepM(): number {
    return this.current.kind === 'push' ? this.current.standoffM : this.current.offsetM;
  }

  step(ctx: PatternContext): PatternStep {
    const seen = this.watch.look(ctx);
    if (!('bear' in seen)) return lostStep(seen);
    const bear = seen.bear;
    if (!this.bearFirst) this.bearFirst = { latDeg: bear.latDeg, lonDeg: bear.lonDeg };
    const s = this.current;
    const bearMovedM = distanceM(this.bearFirst, bear);
    const towardM = this.bearTowardM(bear, ctx.safeZone);
    if (s.kind === 'push') {
      const zone = s.safeZoneId !== null && ctx.safeZone && ctx.safeZone.length >= 3;
      if (zone && pointInPolygon(bear, ctx.safeZone as LatLon[])) {
        return {
          setpoint: null,
          text: `push succeeded: the bear is in the safe zone, ${Math.round(bearMovedM)} m moved`,
          outcome: 'success',
          bearMovedM,
        };
      }
      // Any 200 m would count a bear that ran back past the drone: only the way it was pushed.
      if (towardM !== null && towardM >= s.successDistanceM) {
        return {
          setpoint: null,
          text:
            `push succeeded: the bear moved ${Math.round(towardM)} m toward ` +
            `${compassLabel(s.safeBearingDeg)} (${Math.round(bearMovedM)} m in all)`,
          outcome: 'success',
          bearMovedM,
          bearTowardM: towardM,
        };
      }
    }
    const sideDeg = this.droneSideDeg(bear, ctx.safeZone);
    const goal = scale(unitToward(sideDeg), this.keepM());
    const drone = toVec(bear, ctx.drone);
    const turn = this.turn ?? shortTurn(drone, goal);
    const next = approach(drone, goal, this.keepM(), turn);
    this.turn = next.round ? turn : null;
    const setpoint = setpointAt(fromVec(bear, next.to), s.altitudeAglM);
    const how = next.round ? 'going round the bear' : 'behind the bear';
    let text: string;
    if (s.kind === 'push') {
      const progress =
        towardM === null
          ? `bear moved ${Math.round(bearMovedM)} m of ${s.successDistanceM} m`
          : `bear ${Math.round(towardM)} m of ${s.successDistanceM} m toward ` +
            `${compassLabel(s.safeBearingDeg)} (${Math.round(bearMovedM)} m moved)`;
      text = `pushing toward ${angleLabel(this.safeDeg(bear, ctx.safeZone))}: ${how}, ${progress}`;
    } else {
      text =
        `shadowing at ${Math.round(s.offsetM)} m, ${angleLabel(s.offsetBearingDeg)} from ` +
        `the bear${next.round ? ', going round it' : ''}`;
    }
    return {
      setpoint,
      text,
      outcome: null,
      ...(s.kind === 'push' ? { bearMovedM } : {}),
      ...(towardM !== null ? { bearTowardM: towardM } : {}),
    };
  }

  /**
   * Push toward a bearing: the bear's way from where it started, along the safe bearing as
   * nudged. Null for a shadow, or a push into a safe zone (there, success is inside the zone).
   */
  private bearTowardM(bear: LatLon, safeZone: LatLon[] | null): number | null {
    const s = this.current;
    if (s.kind !== 'push' || !this.bearFirst) return null;
    if (s.safeZoneId !== null && safeZone && safeZone.length >= 3) return null;
    const moved = toVec(this.bearFirst, bear);
    const way = unitToward(s.safeBearingDeg);
    return moved.x * way.x + moved.y * way.y;
  }

  nudge(nudge: PatternNudge): PatternSettings {
    const turnDeg = nudge.bearingDeltaDeg ?? 0;
    const stretchM = nudge.distanceDeltaM ?? 0;
    if (!Number.isFinite(turnDeg) || Math.abs(turnDeg) > 180) {
      throw new Error(`nudge bearingDeltaDeg ${turnDeg} is not a turn of -180 to 180 deg`);
    }
    if (!Number.isFinite(stretchM))
      throw new Error(`nudge distanceDeltaM ${stretchM} is not a number`);
    const s = this.current;
    if (s.kind === 'push') {
      const standoffM = s.standoffM + stretchM;
      const { min, max } = PATTERN_RANGES.push.standoffM;
      if (standoffM < min || standoffM > max) {
        throw new Error(`push standoffM ${standoffM} would be outside ${min}-${max} m`);
      }
      if (s.safeZoneId !== null) this.zoneTurnDeg = normalizeDeg(this.zoneTurnDeg + turnDeg);
      this.current = { ...s, standoffM, safeBearingDeg: normalizeDeg(s.safeBearingDeg + turnDeg) };
    } else {
      const offsetM = s.offsetM + stretchM;
      const { min, max } = PATTERN_RANGES.shadow.offsetM;
      if (offsetM < min || offsetM > max) {
        throw new Error(`shadow offsetM ${offsetM} would be outside ${min}-${max} m`);
      }
      this.current = {
        ...s,
        offsetM,
        offsetBearingDeg: normalizeDeg(s.offsetBearingDeg + turnDeg),
      };
    }
    this.turn = null;
    return this.current;
  }

  preview(ctx: PatternContext): LatLon[] {
    const bear = ctx.bear;
    if (!bear || !isFinitePoint(bear)) return [];
    const s = this.current;
    const dronePoint = destination(bear, this.droneSideDeg(bear, ctx.safeZone), this.keepM());
    if (s.kind === 'shadow') return [dronePoint, { latDeg: bear.latDeg, lonDeg: bear.lonDeg }];
    const movedM =
      this.bearTowardM(bear, ctx.safeZone) ??
      (this.bearFirst ? distanceM(this.bearFirst, bear) : 0);
    const aheadM = Math.max(s.successDistanceM - movedM, s.standoffM);
    return [
      dronePoint,
      { latDeg: bear.latDeg, lonDeg: bear.lonDeg },
      destination(bear, this.safeDeg(bear, ctx.safeZone), aheadM),
    ];
  }
}

function scale(v: Vec, factor: number): Vec {
  return { x: v.x * factor, y: v.y * factor };
}

/** The polygon's nearest edge point to `from` (its own position when inside). */
function nearestPointOf(from: LatLon, polygon: readonly LatLon[]): LatLon {
  if (pointInPolygon(from, polygon)) return from;
  const corners = polygon.map((corner) => toVec(from, corner));
  let best: Vec = corners[0];
  let bestM = Infinity;
  for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
    const a = corners[j];
    const b = corners[i];
    const dx = b.x - a.x;
    const dy = b.y - a.y;
    const lengthSq = dx * dx + dy * dy;
    const t = lengthSq === 0 ? 0 : Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / lengthSq));
    const p = { x: a.x + t * dx, y: a.y + t * dy };
    const m = Math.hypot(p.x, p.y);
    if (m < bestM) {
      bestM = m;
      best = p;
    }
  }
  return fromVec(from, best);
}

class OrbitPattern implements Pattern {
  private current: Settings<'orbit'>;
  private readonly watch: BearWatch;

  constructor(settings: Settings<'orbit'>, start: PatternContext) {
    this.current = settings;
    this.watch = new BearWatch(start.nowMs, start.bear);
  }

  get settings(): PatternSettings {
    return this.current;
  }

  /**
   * Lead along the tangent: about 2 s of flight, but short enough that the straight path bulges
   * at most ORBIT_BULGE_M outside the circle (sqrt(R^2 + L^2) - R <= bulge).
   */
  private leadM(): number {
    const { radiusM, speedMps } = this.current;
    const maxLeadM = Math.sqrt((radiusM + ORBIT_BULGE_M) ** 2 - radiusM ** 2);
    return Math.min(Math.max(speedMps * 2, 2), maxLeadM);
  }

  step(ctx: PatternContext): PatternStep {
    const seen = this.watch.look(ctx);
    if (!('bear' in seen)) return lostStep(seen);
    const bear = seen.bear;
    const s = this.current;
    const drone = toVec(bear, ctx.drone);
    const turn: Turn = s.clockwise ? -1 : 1;
    const next = roundStep(drone, s.radiusM + CLEAR_MARGIN_M, turn, this.leadM());
    const offM = Math.abs(Math.hypot(drone.x, drone.y) - s.radiusM);
    return {
      setpoint: setpointAt(fromVec(bear, next), s.altitudeAglM),
      text:
        `orbiting ${s.clockwise ? 'clockwise' : 'counter-clockwise'} at ${s.radiusM} m` +
        (offM > 5 ? `, ${Math.round(offM)} m off the circle` : ''),
      outcome: null,
    };
  }

  nudge(nudge: PatternNudge): PatternSettings {
    if (nudge.bearingDeltaDeg !== undefined && nudge.bearingDeltaDeg !== 0) {
      throw new Error('orbit has no bearing to turn; nudge its radius (distanceDeltaM)');
    }
    const stretchM = nudge.distanceDeltaM ?? 0;
    if (!Number.isFinite(stretchM))
      throw new Error(`nudge distanceDeltaM ${stretchM} is not a number`);
    const radiusM = this.current.radiusM + stretchM;
    const { min, max } = PATTERN_RANGES.orbit.radiusM;
    if (radiusM < min || radiusM > max) {
      throw new Error(`orbit radiusM ${radiusM} would be outside ${min}-${max} m`);
    }
    this.current = { ...this.current, radiusM };
    return this.current;
  }

  preview(ctx: PatternContext): LatLon[] {
    const bear = ctx.bear;
    if (!bear || !isFinitePoint(bear)) return [];
    return circle(bear, this.current.radiusM);
  }
}

/** A closed ring of points (the first repeated last), for drawing. */
function circle(centre: LatLon, radiusM: number, corners = 72): LatLon[] {
  const points: LatLon[] = [];
  for (let i = 0; i <= corners; i++) points.push(destination(centre, (i * 360) / corners, radiusM));
  return points;
}

/** Flies a list of corners in order, each once reached within VERTEX_REACHED_M. */
class VertexPattern implements Pattern {
  private index: number;
  private forward = true;

  constructor(
    readonly settings: Settings<'zigzag'> | Settings<'search'>,
    private readonly vertices: LatLon[],
    /** Zigzag goes back and forth for ever; a survey finishes at its last corner. */
    private readonly bounce: boolean,
    start: PatternContext,
  ) {
    this.index = 0;
    if (bounce) {
      // Start at the nearest corner, heading toward the farther end of the line.
      let bestM = Infinity;
      vertices.forEach((vertex, i) => {
        const m = distanceM(start.drone, vertex);
        if (m < bestM) {
          bestM = m;
          this.index = i;
        }
      });
      this.forward = this.index < (vertices.length - 1) / 2;
    }
  }

  step(ctx: PatternContext): PatternStep {
    const s = this.settings;
    const last = this.vertices.length - 1;
    if (distanceM(ctx.drone, this.vertices[this.index]) <= VERTEX_REACHED_M) {
      if (!this.bounce && this.index === last) {
        return {
          setpoint: null,
          text: `search finished: ${this.vertices.length} corners flown`,
          outcome: 'finished',
        };
      }
      if (this.bounce && this.forward && this.index === last) this.forward = false;
      else if (this.bounce && !this.forward && this.index === 0) this.forward = true;
      this.index += this.forward ? 1 : -1;
    }
    const target = this.vertices[this.index];
    const text =
      s.kind === 'zigzag'
        ? `zigzag: corner ${this.index + 1} of ${this.vertices.length}, toward ` +
          (this.forward ? 'the line end' : 'the line start')
        : `search: leg ${Math.floor(this.index / 2) + 1} of ${Math.ceil(this.vertices.length / 2)}`;
    return { setpoint: setpointAt(target, s.altitudeAglM), text, outcome: null };
  }

  nudge(): PatternSettings {
    throw new Error(`${this.settings.kind} cannot be nudged; stop it and plan it again`);
  }

  preview(): LatLon[] {
    return this.vertices.map((vertex) => ({ ...vertex }));
  }
}

/** Corners across the line, alternating sides, legSpacingM apart along it. */
function zigzagVertices(s: Settings<'zigzag'>): LatLon[] {
  const [a, b] = s.line;
  const lengthM = distanceM(a, b);
  const along = bearingDeg(a, b);
  const count = Math.max(1, Math.ceil(lengthM / s.legSpacingM - 1e-9));
  const vertices: LatLon[] = [];
  for (let i = 0; i <= count; i++) {
    const onLine = destination(a, along, Math.min(i * s.legSpacingM, lengthM));
    const side = i % 2 === 0 ? 90 : -90;
    vertices.push(destination(onLine, normalizeDeg(along + side), s.halfWidthM));
  }
  return vertices;
}

/**
 * A lawnmower over the polygon: legs along its longest edge, legSpacingM apart, each clipped
 * to the polygon (a concave polygon gives several pieces per line), flown boustrophedon.
 */
function searchVertices(s: Settings<'search'>, start: PatternContext): LatLon[] {
  const { legSpacingM } = groundResolution(
    s.altitudeAglM,
    start.camera,
    start.camera.imageWidthPx,
    s.overlapPct,
  );
  const origin = s.polygon[0];
  const corners = s.polygon.map((corner) => toVec(origin, corner));
  let longest = 0;
  let angleRad = 0;
  for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
    const lengthM = Math.hypot(corners[i].x - corners[j].x, corners[i].y - corners[j].y);
    if (lengthM > longest) {
      longest = lengthM;
      angleRad = Math.atan2(corners[i].y - corners[j].y, corners[i].x - corners[j].x);
    }
  }
  // Work with the longest edge along x.
  const local = corners.map((corner) => rotate(corner, -angleRad));
  const ys = local.map((p) => p.y);
  const minY = Math.min(...ys);
  const maxY = Math.max(...ys);
  const lines = Math.max(1, Math.ceil((maxY - minY) / legSpacingM));
  if (lines > MAX_SEARCH_LEGS) {
    throw new Error(
      `search: ${lines} legs ${legSpacingM.toFixed(1)} m apart is too many (at most ` +
        `${MAX_SEARCH_LEGS}); fly higher, lower the overlap, or search a smaller area`,
    );
  }
  const spacing = (maxY - minY) / lines;
  const legs: Array<[Vec, Vec]> = [];
  for (let k = 0; k < lines; k++) {
    const y = minY + spacing * (k + 0.5);
    const xs: number[] = [];
    for (let i = 0, j = local.length - 1; i < local.length; j = i++) {
      const p = local[j];
      const q = local[i];
      if (p.y > y !== q.y > y) xs.push(p.x + ((y - p.y) * (q.x - p.x)) / (q.y - p.y));
    }
    xs.sort((m, n) => m - n);
    const pieces: Array<[Vec, Vec]> = [];
    for (let i = 0; i + 1 < xs.length; i += 2)
      pieces.push([
        { x: xs[i], y },
        { x: xs[i + 1], y },
      ]);
    if (k % 2 === 1) {
      pieces.reverse();
      for (const piece of pieces) piece.reverse();
    }
    legs.push(...pieces);
  }
  const vertices = legs.flat().map((p) => fromVec(origin, rotate(p, angleRad)));
  if (vertices.length === 0) throw new Error('search: the polygon has no area to survey');
  const first = distanceM(start.drone, vertices[0]);
  const lastM = distanceM(start.drone, vertices[vertices.length - 1]);
  return lastM < first ? vertices.reverse() : vertices;
}

/**
 * Starts a pattern from the moment `start` describes (where the bear was then is where a push
 * measures from). Throws an Error naming what is wrong with the settings.
 */
export function createPattern(settings: PatternSettings, start: PatternContext): Pattern {
  const checked = checkPatternSettings(settings);
  switch (checked.kind) {
    case 'push':
    case 'shadow':
      return new FollowPattern(checked, start);
    case 'orbit':
      return new OrbitPattern(checked, start);
    case 'zigzag':
      return new VertexPattern(checked, zigzagVertices(checked), true, start);
    case 'search':
      return new VertexPattern(checked, searchVertices(checked, start), false, start);
  }
}

/** The path to draw for settings not yet flown; throws like createPattern. */
export function previewPattern(settings: PatternSettings, ctx: PatternContext): LatLon[] {
  return createPattern(settings, ctx).preview(ctx);
}

/** The distance a push, orbit or shadow keeps from the bear; null for the others. */
export function patternDistanceM(settings: PatternSettings): number | null {
  switch (settings.kind) {
    case 'push':
      return settings.standoffM;
    case 'orbit':
      return settings.radiusM;
    case 'shadow':
      return settings.offsetM;
    default:
      return null;
  }
}
