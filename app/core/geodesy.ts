// Spherical-earth geodesy. Over the few kilometres a hazing flight covers, the error against
// the WGS-84 ellipsoid is a few parts in a thousand: well inside GPS and detection error.

import type { LatLon } from './types';

export const EARTH_RADIUS_M = 6_371_008.8;

const toRad = (deg: number): number => (deg * Math.PI) / 180;
const toDeg = (rad: number): number => (rad * 180) / Math.PI;

export function normalizeDeg(deg: number): number {
  return ((deg % 360) + 360) % 360;
}

export function distanceM(from: LatLon, to: LatLon): number {
  const dLat = toRad(to.latDeg - from.latDeg);
  const dLon = toRad(to.lonDeg - from.lonDeg);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(toRad(from.latDeg)) * Math.cos(toRad(to.latDeg)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from one point to another, degrees clockwise from north, 0..360. */
export function bearingDeg(from: LatLon, to: LatLon): number {
  const lat1 = toRad(from.latDeg);
  const lat2 = toRad(to.latDeg);
  const dLon = toRad(to.lonDeg - from.lonDeg);
  const y = Math.sin(dLon) * Math.cos(lat2);
  const x = Math.cos(lat1) * Math.sin(lat2) - Math.sin(lat1) * Math.cos(lat2) * Math.cos(dLon);
  return normalizeDeg(toDeg(Math.atan2(y, x)));
}

export function destination(from: LatLon, bearing: number, distance: number): LatLon {
  const angular = distance / EARTH_RADIUS_M;
  const lat1 = toRad(from.latDeg);
  const lon1 = toRad(from.lonDeg);
  const theta = toRad(bearing);
  const lat2 = Math.asin(
    Math.sin(lat1) * Math.cos(angular) + Math.cos(lat1) * Math.sin(angular) * Math.cos(theta),
  );
  const lon2 =
    lon1 +
    Math.atan2(
      Math.sin(theta) * Math.sin(angular) * Math.cos(lat1),
      Math.cos(angular) - Math.sin(lat1) * Math.sin(lat2),
    );
  return { latDeg: toDeg(lat2), lonDeg: ((toDeg(lon2) + 540) % 360) - 180 };
}

/** Moves a point by metres north and east (local tangent plane). */
export function offsetNorthEast(from: LatLon, northM: number, eastM: number): LatLon {
  const distance = Math.hypot(northM, eastM);
  if (distance === 0) return { ...from };
  return destination(from, toDeg(Math.atan2(eastM, northM)), distance);
}

/** Metres north and east of `origin` (local tangent plane). */
export function northEastOf(origin: LatLon, point: LatLon): { northM: number; eastM: number } {
  const distance = distanceM(origin, point);
  const bearing = toRad(bearingDeg(origin, point));
  return { northM: distance * Math.cos(bearing), eastM: distance * Math.sin(bearing) };
}

/** A position from outside (a file, a client): on the globe, or an Error naming where. */
export function checkLatLon(value: unknown, where: string): LatLon {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where} is not an object with latDeg and lonDeg`);
  }
  const { latDeg, lonDeg } = value as Record<string, unknown>;
  if (typeof latDeg !== 'number' || !Number.isFinite(latDeg) || Math.abs(latDeg) > 90) {
    throw new Error(`${where}: latDeg ${JSON.stringify(latDeg)} is not a number in -90..90`);
  }
  if (typeof lonDeg !== 'number' || !Number.isFinite(lonDeg) || Math.abs(lonDeg) > 180) {
    throw new Error(`${where}: lonDeg ${JSON.stringify(lonDeg)} is not a number in -180..180`);
  }
  return { latDeg, lonDeg };
}
