// Protected zones (farm yard, silo, school grounds) and the alerts a bear track raises near
// them. Pure: no Node or DOM.
//
// Geometry works in a local plane (metres north and east of the point asked about): zones are
// at most a few kilometres across, where the flat-earth error is far below GPS error.

import { checkLatLon, northEastOf, offsetNorthEast } from './geodesy';
import type { LatLon } from './types';

/**
 * protected: a bear near it raises an alert (a silo, a school yard); no-fly: the drone never
 * enters or crosses it, and a bear near it alerts too; fence: the drone stays inside it
 * (an inclusion geofence); safe: where a push drives the bear.
 */
export type ZoneKind = 'protected' | 'no-fly' | 'fence' | 'safe';

export const ZONE_KIND_VALUES: readonly ZoneKind[] = ['protected', 'no-fly', 'fence', 'safe'];

/** Kinds whose zones raise an alert when a bear comes near: not fences nor safe areas. */
export const ALERTING_ZONE_KINDS: readonly ZoneKind[] = ['protected', 'no-fly'];

export interface ProtectedZone {
  /** Given by the station; stable while the zone exists. */
  id: number;
  name: string;
  /** Absent in files written before zones had kinds: protected. */
  kind?: ZoneKind;
  /** A bear this close to the zone's edge (or inside) raises an alert. */
  alertDistanceM: number;
  /** Corners in order, at least three; the last joins the first. */
  polygon: LatLon[];
}

/** A zone as the operator drew it: the station gives new zones their id. */
export interface ZoneInput {
  /** Present to replace an existing zone, absent for a new one. */
  id?: number;
  name: string;
  /** Absent: protected. */
  kind?: ZoneKind;
  alertDistanceM: number;
  polygon: LatLon[];
}

/** One track coming near one zone. */
export interface ZoneAlert {
  id: number;
  trackId: number;
  className: string;
  zoneId: number;
  zoneName: string;
  /** From the zone's edge when the alert was raised; 0 inside. */
  distanceM: number;
  inside: boolean;
  position: LatLon;
  raisedMs: number;
  /** Null until someone acknowledges it. */
  acknowledgedMs: number | null;
}

export const ZONE_LIMITS = {
  maxNameLength: 60,
  maxAlertDistanceM: 2_000,
  minVertices: 3,
  // Keeps a zone within one client message and the flat-earth geometry honest.
  maxVertices: 100,
  maxSpanM: 20_000,
  minAreaM2: 1,
  maxZones: 200,
} as const;

export const ZONES_FILE_VERSION = 1;

interface PlanePoint {
  x: number;
  y: number;
}

function toPlane(origin: LatLon, polygon: readonly LatLon[]): PlanePoint[] {
  return polygon.map((vertex) => {
    const { northM, eastM } = northEastOf(origin, vertex);
    return { x: eastM, y: northM };
  });
}

/** Even-odd rule: a ray from the origin along +x crosses the boundary an odd number of times. */
function originInside(points: readonly PlanePoint[]): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const a = points[i];
    const b = points[j];
    if (a.y > 0 !== b.y > 0) {
      const crossX = a.x + ((0 - a.y) * (b.x - a.x)) / (b.y - a.y);
      if (crossX > 0) inside = !inside;
    }
  }
  return inside;
}

function originToSegmentM(a: PlanePoint, b: PlanePoint): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  const t = lengthSq === 0 ? 0 : Math.max(0, Math.min(1, -(a.x * dx + a.y * dy) / lengthSq));
  return Math.hypot(a.x + t * dx, a.y + t * dy);
}

/** What a zone is for; zones saved before kinds existed are protected zones. */
export function zoneKind(zone: { kind?: ZoneKind }): ZoneKind {
  return zone.kind ?? 'protected';
}

export function pointInPolygon(point: LatLon, polygon: readonly LatLon[]): boolean {
  if (polygon.length < 3) return false;
  return originInside(toPlane(point, polygon));
}

/** Distance from a point to the polygon's nearest edge, metres, whether inside or out. */
export function distanceToEdgesM(point: LatLon, polygon: readonly LatLon[]): number {
  const points = toPlane(point, polygon);
  let best = Infinity;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    best = Math.min(best, originToSegmentM(points[j], points[i]));
  }
  return best;
}

/** 0 inside the zone, else the distance to its nearest edge, metres. */
export function distanceToZoneM(point: LatLon, polygon: readonly LatLon[]): number {
  if (pointInPolygon(point, polygon)) return 0;
  return distanceToEdgesM(point, polygon);
}

/** Miters longer than this many times the distance are cut short, so spikes stay sane. */
const MITER_LIMIT = 3;

/**
 * The zone grown outward by a distance, for drawing its alert line: each corner moves along
 * its bisector so both edges move by the distance (mitered, a little wider than the true line
 * at sharp outer corners).
 */
export function offsetPolygon(polygon: readonly LatLon[], distanceM: number): LatLon[] {
  if (polygon.length < 3 || !(distanceM > 0)) return polygon.map((corner) => ({ ...corner }));
  const origin = polygon[0];
  const points = toPlane(origin, polygon);
  // Outward is to the right of each edge for corners in counter-clockwise order.
  const outwardSign = signedAreaM2(points) > 0 ? 1 : -1;
  const n = points.length;
  const normal = (a: PlanePoint, b: PlanePoint): PlanePoint => {
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    return { x: (outwardSign * (b.y - a.y)) / length, y: (-outwardSign * (b.x - a.x)) / length };
  };
  return points.map((point, i) => {
    const before = normal(points[(i + n - 1) % n], point);
    const after = normal(point, points[(i + 1) % n]);
    const sum = { x: before.x + after.x, y: before.y + after.y };
    const sumLength = Math.hypot(sum.x, sum.y);
    const bisector = sumLength > 1e-9 ? { x: sum.x / sumLength, y: sum.y / sumLength } : before;
    const cosHalf = bisector.x * before.x + bisector.y * before.y;
    const lengthM = Math.min(distanceM / Math.max(cosHalf, 1e-9), distanceM * MITER_LIMIT);
    return offsetNorthEast(origin, point.y + bisector.y * lengthM, point.x + bisector.x * lengthM);
  });
}

function signedAreaM2(points: readonly PlanePoint[]): number {
  let twice = 0;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    twice += points[j].x * points[i].y - points[i].x * points[j].y;
  }
  return twice / 2;
}

function cross(o: PlanePoint, a: PlanePoint, b: PlanePoint): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

function segmentsCross(a: PlanePoint, b: PlanePoint, c: PlanePoint, d: PlanePoint): boolean {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  return d1 > 0 !== d2 > 0 && d3 > 0 !== d4 > 0 && d1 !== 0 && d2 !== 0 && d3 !== 0 && d4 !== 0;
}

/** The first pair of edges that cross, as 1-based edge numbers, or null. */
function crossingEdges(points: readonly PlanePoint[]): [number, number] | null {
  const n = points.length;
  for (let i = 0; i < n; i++) {
    for (let j = i + 2; j < n; j++) {
      // The last edge and the first share a corner.
      if (i === 0 && j === n - 1) continue;
      const crossed = segmentsCross(points[i], points[(i + 1) % n], points[j], points[(j + 1) % n]);
      if (crossed) return [i + 1, j + 1];
    }
  }
  return null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks a zone field by field and returns a clean copy; throws an Error that names the zone
 * and what is wrong with it. `what` says where it came from ("zone 2 of zones.json").
 */
export function checkZoneInput(value: unknown, what = 'zone'): ZoneInput {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  const { id, name, kind, alertDistanceM, polygon } = value;
  if (id !== undefined && (typeof id !== 'number' || !Number.isInteger(id) || id < 1)) {
    throw new Error(`${what}: id ${JSON.stringify(id)} is not a whole number from 1`);
  }
  if (typeof name !== 'string' || name.trim() === '') {
    throw new Error(`${what}: name must be a non-empty text`);
  }
  const trimmed = name.trim();
  if (trimmed.length > ZONE_LIMITS.maxNameLength) {
    throw new Error(`${what}: name is longer than ${ZONE_LIMITS.maxNameLength} characters`);
  }
  const named = `${what} "${trimmed}"`;
  if (kind !== undefined && !ZONE_KIND_VALUES.includes(kind as ZoneKind)) {
    throw new Error(
      `${named}: kind ${JSON.stringify(kind)} is not one of ${ZONE_KIND_VALUES.join(', ')}`,
    );
  }
  if (
    typeof alertDistanceM !== 'number' ||
    !Number.isFinite(alertDistanceM) ||
    alertDistanceM < 0 ||
    alertDistanceM > ZONE_LIMITS.maxAlertDistanceM
  ) {
    throw new Error(
      `${named}: alertDistanceM ${JSON.stringify(alertDistanceM)} is not a number from 0 to ` +
        `${ZONE_LIMITS.maxAlertDistanceM}`,
    );
  }
  if (!Array.isArray(polygon)) throw new Error(`${named}: polygon is not a list of corners`);
  if (polygon.length < ZONE_LIMITS.minVertices || polygon.length > ZONE_LIMITS.maxVertices) {
    throw new Error(
      `${named}: polygon has ${polygon.length} corners; a zone needs ` +
        `${ZONE_LIMITS.minVertices} to ${ZONE_LIMITS.maxVertices}`,
    );
  }
  const corners = polygon.map((corner, index) =>
    checkLatLon(corner, `${named}: corner ${index + 1}`),
  );
  const points = toPlane(corners[0], corners);
  const spanM = Math.max(
    ...points.map((p) => Math.max(...points.map((q) => Math.hypot(p.x - q.x, p.y - q.y)))),
  );
  if (spanM > ZONE_LIMITS.maxSpanM) {
    throw new Error(
      `${named}: polygon spans ${Math.round(spanM)} m; at most ${ZONE_LIMITS.maxSpanM} m`,
    );
  }
  const crossing = crossingEdges(points);
  if (crossing) {
    throw new Error(`${named}: polygon edges ${crossing[0]} and ${crossing[1]} cross each other`);
  }
  if (Math.abs(signedAreaM2(points)) < ZONE_LIMITS.minAreaM2) {
    throw new Error(`${named}: polygon has no area (its corners are in a line or the same)`);
  }
  return {
    ...(id !== undefined ? { id } : {}),
    name: trimmed,
    ...(kind !== undefined ? { kind: kind as ZoneKind } : {}),
    alertDistanceM,
    polygon: corners,
  };
}

export function checkZone(value: unknown, what = 'zone'): ProtectedZone {
  const zone = checkZoneInput(value, what);
  if (zone.id === undefined) throw new Error(`${what} "${zone.name}" has no id`);
  return { ...zone, id: zone.id };
}

/** Reads a zones file's text; throws an Error naming the file and what is wrong with it. */
export function parseZonesFile(text: string, source: string): ProtectedZone[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${source} is not JSON (${reason})`);
  }
  if (!isRecord(value)) throw new Error(`${source} is not a JSON object with a zones list`);
  if (value.version !== ZONES_FILE_VERSION) {
    throw new Error(
      `${source}: version ${JSON.stringify(value.version)} is not ${ZONES_FILE_VERSION}`,
    );
  }
  if (!Array.isArray(value.zones)) throw new Error(`${source}: zones is not a list`);
  if (value.zones.length > ZONE_LIMITS.maxZones) {
    throw new Error(`${source}: ${value.zones.length} zones; at most ${ZONE_LIMITS.maxZones}`);
  }
  const zones = value.zones.map((zone, index) => checkZone(zone, `zone ${index + 1} of ${source}`));
  const ids = new Set<number>();
  for (const zone of zones) {
    if (ids.has(zone.id)) throw new Error(`${source}: zone id ${zone.id} is used twice`);
    ids.add(zone.id);
  }
  return zones;
}

export function formatZonesFile(zones: readonly ProtectedZone[]): string {
  return `${JSON.stringify({ version: ZONES_FILE_VERSION, zones }, null, 2)}\n`;
}

/** Something on the map that may come near a zone: a track's latest ground position. */
export interface AlertSubject {
  trackId: number;
  className: string;
  position: LatLon;
  timeMs: number;
}

/** A track newly near a zone: what an alert is made of. */
export type ZoneEntry = Omit<ZoneAlert, 'id' | 'acknowledgedMs'>;

export interface ZoneAlerterOptions {
  /** Classes that raise alerts. */
  classes?: string[];
  /**
   * A track counts as gone from a zone only this far beyond the alert distance, so that a bear
   * pacing along the line, or georeferencing noise, raises one alert and not one per frame.
   */
  leaveMarginM?: number;
}

export const ZONE_ALERTER_DEFAULTS = { classes: ['bear'], leaveMarginM: 10 } as const;

/** Decides when a track enters (or comes near) a zone: once per entering, with hysteresis. */
export class ZoneAlerter {
  private readonly classes: ReadonlySet<string>;
  private readonly leaveMarginM: number;
  /** Keys `${trackId}:${zoneId}` of tracks near zones now. */
  private readonly near = new Set<string>();

  constructor(options: ZoneAlerterOptions = {}) {
    this.classes = new Set(options.classes ?? ZONE_ALERTER_DEFAULTS.classes);
    const margin = options.leaveMarginM ?? ZONE_ALERTER_DEFAULTS.leaveMarginM;
    if (!Number.isFinite(margin) || margin < 0) {
      throw new Error(`zone alerts: leaveMarginM must be a number >= 0, got ${margin}`);
    }
    this.leaveMarginM = margin;
  }

  /** Folds in the subjects' latest positions; returns the zones each one newly came near. */
  update(subjects: readonly AlertSubject[], zones: readonly ProtectedZone[]): ZoneEntry[] {
    const entries: ZoneEntry[] = [];
    // A zone turned into a fence or safe area is forgotten like a deleted one.
    const alerting = zones.filter((zone) => ALERTING_ZONE_KINDS.includes(zoneKind(zone)));
    const zoneIds = new Set(alerting.map((zone) => zone.id));
    for (const key of this.near) {
      if (!zoneIds.has(Number(key.split(':')[1]))) this.near.delete(key);
    }
    for (const subject of subjects) {
      if (!this.classes.has(subject.className)) continue;
      // A fence is where the drone may fly and a safe area where the bear should go: a bear
      // there is no cause for alarm.
      for (const zone of alerting) {
        const key = `${subject.trackId}:${zone.id}`;
        const distanceM = distanceToZoneM(subject.position, zone.polygon);
        if (this.near.has(key)) {
          if (distanceM > zone.alertDistanceM + this.leaveMarginM) this.near.delete(key);
          continue;
        }
        if (distanceM > zone.alertDistanceM) continue;
        this.near.add(key);
        entries.push({
          trackId: subject.trackId,
          className: subject.className,
          zoneId: zone.id,
          zoneName: zone.name,
          distanceM,
          inside: distanceM === 0,
          position: { ...subject.position },
          raisedMs: subject.timeMs,
        });
      }
    }
    return entries;
  }

  /** A track that ended can never leave: forget it. */
  forgetTrack(trackId: number): void {
    for (const key of this.near) {
      if (key.startsWith(`${trackId}:`)) this.near.delete(key);
    }
  }

  isNear(trackId: number, zoneId: number): boolean {
    return this.near.has(`${trackId}:${zoneId}`);
  }
}
