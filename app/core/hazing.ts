// The hazing planner. A push puts the drone on the far side of the bear from where the bear
// should go, so that the bear moves away from the drone, toward the safe direction.

import { bearingDeg, destination, normalizeDeg } from './geodesy';
import type { LatLon } from './types';

export interface PushRequest {
  bear: LatLon;
  /** Where the bear should go: bearing from the bear, degrees clockwise from north. */
  safeBearingDeg: number;
  standoffM: number;
  /** Above home. */
  altitudeM: number;
}

export interface PushPlan extends PushRequest {
  /** Where the drone flies to: standoffM from the bear, opposite the safe direction. */
  droneTarget: LatLon;
  /** The heading that faces the bear from droneTarget. */
  droneHeadingDeg: number;
  /** A point ahead of the bear along the safe direction, for drawing the intent. */
  safeArrowEnd: LatLon;
}

export const PUSH_LIMITS = {
  minStandoffM: 10,
  maxStandoffM: 150,
  minAltitudeM: 10,
  maxAltitudeM: 120,
} as const;

/** Returns the plan, or the reason the request cannot be flown. */
export function planPush(request: PushRequest): PushPlan | { error: string } {
  const { standoffM, altitudeM, safeBearingDeg, bear } = request;
  const bearValid =
    Number.isFinite(bear.latDeg) &&
    Number.isFinite(bear.lonDeg) &&
    Math.abs(bear.latDeg) <= 90 &&
    Math.abs(bear.lonDeg) <= 180;
  if (!bearValid) {
    return { error: `bear position ${bear.latDeg},${bear.lonDeg} is not a position` };
  }
  if (!Number.isFinite(safeBearingDeg) || Math.abs(safeBearingDeg) > 720) {
    return { error: `safe direction ${safeBearingDeg} is not a bearing from -720 to 720 deg` };
  }
  if (!(standoffM >= PUSH_LIMITS.minStandoffM && standoffM <= PUSH_LIMITS.maxStandoffM)) {
    return {
      error:
        `standoff ${standoffM} m is outside ` +
        `${PUSH_LIMITS.minStandoffM}-${PUSH_LIMITS.maxStandoffM} m`,
    };
  }
  if (!(altitudeM >= PUSH_LIMITS.minAltitudeM && altitudeM <= PUSH_LIMITS.maxAltitudeM)) {
    return {
      error:
        `altitude ${altitudeM} m is outside ` +
        `${PUSH_LIMITS.minAltitudeM}-${PUSH_LIMITS.maxAltitudeM} m above home`,
    };
  }

  const safe = normalizeDeg(safeBearingDeg);
  const droneTarget = destination(request.bear, normalizeDeg(safe + 180), standoffM);
  return {
    ...request,
    safeBearingDeg: safe,
    droneTarget,
    droneHeadingDeg: bearingDeg(droneTarget, request.bear),
    safeArrowEnd: destination(request.bear, safe, Math.max(standoffM, 50)),
  };
}
