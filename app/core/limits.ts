// Limits every part of the app agrees on. Altitudes are above home.

/** 120 m (400 ft) is the US Part 107 ceiling; below 1 m a take-off is no take-off. */
export const TAKEOFF_ALTITUDE_RANGE_M = { min: 1, max: 120 } as const;

export function checkTakeoffAltitude(altitudeM: number): string | null {
  const { min, max } = TAKEOFF_ALTITUDE_RANGE_M;
  if (Number.isFinite(altitudeM) && altitudeM >= min && altitudeM <= max) return null;
  return `take-off altitude ${altitudeM} m is outside ${min}-${max} m above home`;
}
