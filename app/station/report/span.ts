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

function medianStepMs(path: readonly TimedPosition[]): number {
  const steps: number[] = [];
  for (let i = 1; i < path.length; i++) steps.push(path[i].timeMs - path[i - 1].timeMs);
  if (steps.length === 0) return 0;
  steps.sort((a, b) => a - b);
  return steps[Math.floor(steps.length / 2)];
}

export function pathGapMs(path: readonly TimedPosition[]): number {
  return Math.max(PATH_GAP_MIN_MS, 5 * medianStepMs(path));
}

/**
 * The drone's position at a time, interpolated between the path points either side; null
 * outside the path, inside a hole in it, or farther than EVENT_POSITION_MAX_MS from a point
 * when only one side exists.
 */
export function positionAt(path: readonly TimedPosition[], timeMs: number): TimedPosition | null {
  if (path.length === 0) return null;
  let low = 0;
  let high = path.length - 1;
  if (timeMs <= path[0].timeMs) {
    return path[0].timeMs - timeMs <= EVENT_POSITION_MAX_MS ? { ...path[0], timeMs } : null;
  }
  if (timeMs >= path[high].timeMs) {
    return timeMs - path[high].timeMs <= EVENT_POSITION_MAX_MS ? { ...path[high], timeMs } : null;
  }
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (path[middle].timeMs <= timeMs) low = middle;
    else high = middle;
  }
  const before = path[low];
  const after = path[high];
  const stepMs = after.timeMs - before.timeMs;
  if (stepMs > pathGapMs(path)) {
    if (timeMs - before.timeMs <= EVENT_POSITION_MAX_MS) return { ...before, timeMs };
    if (after.timeMs - timeMs <= EVENT_POSITION_MAX_MS) return { ...after, timeMs };
    return null;
  }
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

export function pathLengthM(points: readonly LatLon[]): number {
  let totalM = 0;
  for (let i = 1; i < points.length; i++) totalM += distanceM(points[i - 1], points[i]);
  return totalM;
}

export interface ReportSummary {
  spanMs: number;
  /** Time with the drone above AIRBORNE_MIN_REL_M, holes in the record left out. */
  flightMs: number;
  /** Horizontal, along the recorded path. */
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
  const gapMs = pathGapMs(path);
  let flightMs = 0;
  for (let i = 1; i < path.length; i++) {
    const stepMs = path[i].timeMs - path[i - 1].timeMs;
    const flying =
      path[i].altitudeRelM > AIRBORNE_MIN_REL_M || path[i - 1].altitudeRelM > AIRBORNE_MIN_REL_M;
    if (flying && stepMs <= gapMs) flightMs += stepMs;
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
    distanceFlownM: pathLengthM(path),
    maxAltitudeRelM: maxOf(path.map((point) => point.altitudeRelM)),
    maxAltitudeMslM: maxOf(path.map((point) => point.altitudeMslM)),
    bearTracks,
    otherTracks,
    hazingEvents: hazingEvents.length,
    hazingOutcomes,
  };
}
