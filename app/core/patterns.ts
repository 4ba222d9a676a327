// Hazing patterns, flown from the station as a stream of guided setpoints (ArduCopter has no
// orbit command), re-aimed at the bear's live track on every step. Pure: no Node or DOM. The
// station checks each setpoint against the safety envelope before it sends it.

import type { Setpoint } from './envelope';
import type { CameraModel, LatLon } from './types';

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
      /** The push succeeds once the bear is this far from where it started. */
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
  /** Push: how far the bear is from where it started. */
  bearMovedM?: number;
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
