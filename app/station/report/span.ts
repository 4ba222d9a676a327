// What the report says about its span: where the drone was at a given time, and the summary
// figures (time in the air, distance flown, heights, bears, hazing outcomes).

import { distanceM } from '../../core/geodesy';
import type { HazingEvent } from '../../core/hazing-log';
import type { GlobalPosition, LatLon } from '../../core/types';

export type TimedPosition = GlobalPosition & { timeMs: number };

/** Above this height over home the drone counts as flying (a drone on the ground reads ~0). */
export const AIRBORNE_MIN_REL_M = 1;
/**
 * A step between path points longer than this (or than five typical steps, for a thinned
 * path) is a hole in the record: its time is not counted as flight time.
 */
export const PATH_GAP_MIN_MS = 30_000;
/** How far from its nearest path point an event may be and still take the drone's position. */
export const EVENT_POSITION_MAX_MS = 5_000;

/** The typical step forward in time; steps back (clock jumps) say nothing about it. */
function medianStepMs(path: readonly TimedPosition[]): number {
  const steps: number[] = [];
  for (let i = 1; i < path.length; i++) {
    const stepMs = path[i].timeMs - path[i - 1].timeMs;
    if (stepMs >= 0) steps.push(stepMs);
  }
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

export function pathGapMs(path: readonly TimedPosition[]): number {
  return Math.max(PATH_GAP_MIN_MS, 5 * medianStepMs(path));
}

/**
 * The path cut into legs, in the order given (file order, never sorted by time): a leg ends
 * where the clock jumps back (a point older than the one before) or at a hole, so that no
 * distance, flight time or position is ever taken across either.
 */
export function pathLegs(path: readonly TimedPosition[]): TimedPosition[][] {
  const gapMs = pathGapMs(path);
  const legs: TimedPosition[][] = [];
  let leg: TimedPosition[] = [];
  for (const point of path) {
    const previous = leg.at(-1);
    if (previous) {
      const stepMs = point.timeMs - previous.timeMs;
      if (stepMs < 0 || stepMs > gapMs) {
        legs.push(leg);
        leg = [];
      }
    }
    leg.push(point);
  }
  if (leg.length > 0) legs.push(leg);
  return legs;
}

/** Inside one leg (times never going back), interpolated; null outside it. */
function positionInLeg(leg: readonly TimedPosition[], timeMs: number): TimedPosition | null {
  if (leg.length === 0 || timeMs < leg[0].timeMs || timeMs > leg[leg.length - 1].timeMs) {
    return null;
  }
  let low = 0;
  let high = leg.length - 1;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (leg[middle].timeMs <= timeMs) low = middle;
    else high = middle;
  }
  const before = leg[low];
  const after = leg[high];
  const stepMs = after.timeMs - before.timeMs;
  const t = stepMs === 0 ? 0 : (timeMs - before.timeMs) / stepMs;
  const mix = (a: number, b: number): number => a + (b - a) * t;
  return {
    latDeg: mix(before.latDeg, after.latDeg),
    lonDeg: mix(before.lonDeg, after.lonDeg),
    altitudeMslM: mix(before.altitudeMslM, after.altitudeMslM),
    altitudeRelM: mix(before.altitudeRelM, after.altitudeRelM),
    timeMs,
  };
}

/**
 * The drone's position at a time, interpolated inside the first leg (see pathLegs) that covers
 * it; else the nearest leg end within EVENT_POSITION_MAX_MS; else null (outside the path or
 * deep in a hole). After a clock jump back two legs may cover one time: the earlier in the
 * record wins.
 */
export function positionAt(
  path: readonly TimedPosition[],
  timeMs: number,
  legs: readonly TimedPosition[][] = pathLegs(path),
): TimedPosition | null {
  for (const leg of legs) {
    const inside = positionInLeg(leg, timeMs);
    if (inside) return inside;
  }
  let nearest: TimedPosition | null = null;
  let nearestMs = EVENT_POSITION_MAX_MS;
  for (const leg of legs) {
    for (const end of [leg[0], leg[leg.length - 1]]) {
      const awayMs = Math.abs(end.timeMs - timeMs);
      if (awayMs <= nearestMs && (nearest === null || awayMs < nearestMs)) {
        nearest = end;
        nearestMs = awayMs;
      }
    }
  }
  return nearest ? { ...nearest, timeMs } : null;
}

export function pathLengthM(points: readonly LatLon[]): number {
  let totalM = 0;
  for (let i = 1; i < points.length; i++) totalM += distanceM(points[i - 1], points[i]);
  return totalM;
}

export interface ReportSummary {
  spanMs: number;
  /** Time with the drone above AIRBORNE_MIN_REL_M, holes and clock jumps left out. */
  flightMs: number;
  /** Horizontal, along the recorded path leg by leg: never across a hole or a clock jump. */
  distanceFlownM: number;
  maxAltitudeRelM: number | null;
  maxAltitudeMslM: number | null;
  bearTracks: number;
  /** Tracks of other classes (people, dogs) by class name. */
  otherTracks: Record<string, number>;
  hazingEvents: number;
  /** Outcome ("success", "aborted", ... or "in progress") to count. */
  hazingOutcomes: Record<string, number>;
}

export function summarize(
  spanMs: number,
  path: readonly TimedPosition[],
  tracks: ReadonlyArray<{ className: string }>,
  hazingEvents: readonly HazingEvent[],
): ReportSummary {
  const legs = pathLegs(path);
  let flightMs = 0;
  let distanceFlownM = 0;
  for (const leg of legs) {
    distanceFlownM += pathLengthM(leg);
    for (let i = 1; i < leg.length; i++) {
      const flying =
        leg[i].altitudeRelM > AIRBORNE_MIN_REL_M || leg[i - 1].altitudeRelM > AIRBORNE_MIN_REL_M;
      if (flying) flightMs += leg[i].timeMs - leg[i - 1].timeMs;
    }
  }
  const otherTracks: Record<string, number> = {};
  let bearTracks = 0;
  for (const track of tracks) {
    if (track.className === 'bear') bearTracks++;
    else otherTracks[track.className] = (otherTracks[track.className] ?? 0) + 1;
  }
  const hazingOutcomes: Record<string, number> = {};
  for (const event of hazingEvents) {
    const outcome = event.outcome ?? 'in progress';
    hazingOutcomes[outcome] = (hazingOutcomes[outcome] ?? 0) + 1;
  }
  const maxOf = (values: number[]): number | null =>
    values.length === 0 ? null : values.reduce((a, b) => Math.max(a, b));
  return {
    spanMs,
    flightMs,
    distanceFlownM,
    maxAltitudeRelM: maxOf(path.map((point) => point.altitudeRelM)),
    maxAltitudeMslM: maxOf(path.map((point) => point.altitudeMslM)),
    bearTracks,
    otherTracks,
    hazingEvents: hazingEvents.length,
    hazingOutcomes,
  };
}
