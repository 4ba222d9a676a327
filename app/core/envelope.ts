// The safety envelope: the rules every single setpoint must keep before the station sends it.
// Pure: no Node or DOM. Horizontal geometry works in a local plane around the setpoint (the
// envelope spans at most a few kilometres, where the flat-earth error is far below GPS error).

import { distanceM, northEastOf, offsetNorthEast } from './geodesy';
import type { LatLon } from './types';
import { distanceToEdgesM, pointInPolygon } from './zones';

export interface EnvelopeLimits {
  /** Lowest height above the ground under the setpoint. */
  floorAglM: number;
  /** Highest height above the ground: 120 m is the US Part 107 limit of 400 ft. */
  ceilingAglM: number;
  /** No setpoint, and no straight path to one, nearer than this to any tracked bear. */
  bearStandoffM: number;
  /** No setpoint, and no straight path to one, over or within this of any person. */
  personRadiusM: number;
  /** Battery that must be left on landing at home after flying back from the setpoint. */
  batteryReservePct: number;
}

export const DEFAULT_ENVELOPE: EnvelopeLimits = {
  floorAglM: 10,
  ceilingAglM: 120,
  bearStandoffM: 20,
  personRadiusM: 30,
  batteryReservePct: 20,
};

/** What the operator or a config may set each limit to. */
export const ENVELOPE_RANGES: Record<keyof EnvelopeLimits, { min: number; max: number }> = {
  floorAglM: { min: 5, max: 60 },
  ceilingAglM: { min: 20, max: 120 },
  bearStandoffM: { min: 10, max: 100 },
  personRadiusM: { min: 10, max: 200 },
  batteryReservePct: { min: 10, max: 60 },
};

/** The rules, in the order they are checked; the first broken one is the one reported. */
export type EnvelopeRule =
  | 'position'
  | 'link'
  | 'altitude-floor'
  | 'altitude-ceiling'
  | 'geofence'
  | 'no-fly-zone'
  | 'person'
  | 'bear-standoff'
  | 'battery';

export interface Violation {
  rule: EnvelopeRule;
  /** Words for the operator: which rule, and by how much, e.g. "person 12 m from the path". */
  text: string;
}

/** Where the station asks the drone to be. */
export interface Setpoint extends LatLon {
  /** Height above the ground under the setpoint (flat ground at home where no terrain). */
  altitudeAglM: number;
}

/**
 * What the battery allows: remainingPct now, the measured (or, before there is a measure, an
 * assumed) drain while flying, and how fast the vehicle flies home and descends.
 */
export interface BatteryBudget {
  remainingPct: number;
  drainPctPerS: number;
  returnSpeedMps: number;
  descentSpeedMps: number;
}

/** Everything the rules look at, as the station knows it at the moment of the setpoint. */
export interface EnvelopeWorld {
  /** The drone now: the straight path from here to the setpoint is checked as well. */
  drone: LatLon & { altitudeAglM: number };
  home: LatLon;
  /** Every tracked bear, not just the one being hazed. */
  bears: LatLon[];
  /** Every person known: detected tracks (remembered a while) and people the operator marked. */
  people: LatLon[];
  /** Inclusion polygons: when any exist, the setpoint and path stay inside one of them. */
  fences: LatLon[][];
  /** Exclusion polygons (school buildings, roads): never entered, never crossed. */
  noFlyZones: LatLon[][];
  /** Null where the vehicle reports no battery: the battery rule then does not apply. */
  battery: BatteryBudget | null;
  linkUp: boolean;
  /**
   * Height of the ground above home's ground at a point, null where the elevation model has no
   * data. When present, the floor and ceiling hold all along the straight path, not only at the
   * setpoint; absent, the ground is flat at home's height and the setpoint's own height is enough.
   */
  groundAboveHomeM?: (point: LatLon) => number | null;
}

/**
 * Distances that agree to a millimetre count as equal: a pattern that puts the drone exactly
 * at the standoff must not be refused for the geometry's own rounding.
 */
const ROUNDING_M = 0.001;

/**
 * Terrain is sampled along the path at most this far apart: well under the 30 m of common
 * elevation models, so a ridge in the model cannot slip between two samples.
 */
const GROUND_SAMPLE_M = 2;

interface PlanePoint {
  x: number;
  y: number;
}

/** The straight path in a local plane around the drone: east x, north y. */
interface PlanePath {
  origin: LatLon;
  from: PlanePoint;
  to: PlanePoint;
}

function toPlane(origin: LatLon, point: LatLon): PlanePoint {
  const { northM, eastM } = northEastOf(origin, point);
  return { x: eastM, y: northM };
}

function isLatLon(point: LatLon | null | undefined): boolean {
  return (
    point !== null &&
    point !== undefined &&
    Number.isFinite(point.latDeg) &&
    Number.isFinite(point.lonDeg) &&
    Math.abs(point.latDeg) <= 90 &&
    Math.abs(point.lonDeg) <= 180
  );
}

function pointToSegmentM(p: PlanePoint, a: PlanePoint, b: PlanePoint): number {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const lengthSq = dx * dx + dy * dy;
  const t =
    lengthSq === 0 ? 0 : Math.max(0, Math.min(1, ((p.x - a.x) * dx + (p.y - a.y) * dy) / lengthSq));
  return Math.hypot(a.x + t * dx - p.x, a.y + t * dy - p.y);
}

function orientation(a: PlanePoint, b: PlanePoint, c: PlanePoint): number {
  return (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
}

function onSegment(a: PlanePoint, b: PlanePoint, p: PlanePoint): boolean {
  return (
    Math.min(a.x, b.x) <= p.x &&
    p.x <= Math.max(a.x, b.x) &&
    Math.min(a.y, b.y) <= p.y &&
    p.y <= Math.max(a.y, b.y)
  );
}

/** True when the segments cross or touch: touching counts, so the test errs toward refusing. */
function segmentsMeet(a: PlanePoint, b: PlanePoint, c: PlanePoint, d: PlanePoint): boolean {
  const o1 = orientation(a, b, c);
  const o2 = orientation(a, b, d);
  const o3 = orientation(c, d, a);
  const o4 = orientation(c, d, b);
  if (((o1 > 0 && o2 < 0) || (o1 < 0 && o2 > 0)) && ((o3 > 0 && o4 < 0) || (o3 < 0 && o4 > 0))) {
    return true;
  }
  return (
    (o1 === 0 && onSegment(a, b, c)) ||
    (o2 === 0 && onSegment(a, b, d)) ||
    (o3 === 0 && onSegment(c, d, a)) ||
    (o4 === 0 && onSegment(c, d, b))
  );
}

function pathMeetsEdges(path: PlanePath, polygon: readonly LatLon[]): boolean {
  const corners = polygon.map((corner) => toPlane(path.origin, corner));
  for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
    if (segmentsMeet(path.from, path.to, corners[j], corners[i])) return true;
  }
  return false;
}

/** Whole path inside: both ends inside and no edge crossed or touched. */
function pathInside(path: PlanePath, ends: [LatLon, LatLon], polygon: readonly LatLon[]): boolean {
  if (polygon.length < 3) return false;
  return (
    pointInPolygon(ends[0], polygon) &&
    pointInPolygon(ends[1], polygon) &&
    !pathMeetsEdges(path, polygon)
  );
}

/** Any point of the path inside: an end inside, or an edge crossed or touched. */
function pathEnters(path: PlanePath, ends: [LatLon, LatLon], polygon: readonly LatLon[]): boolean {
  if (polygon.length < 3) return false;
  return (
    pointInPolygon(ends[0], polygon) ||
    pointInPolygon(ends[1], polygon) ||
    pathMeetsEdges(path, polygon)
  );
}

/**
 * Where along the path (0 at the drone, 1 at the setpoint) it meets the polygon's edges, each
 * place once; null when it runs along an edge, which cannot be told from going in and out.
 */
function edgeMeetings(path: PlanePath, polygon: readonly LatLon[]): number[] | null {
  const corners = polygon.map((corner) => toPlane(path.origin, corner));
  const rx = path.to.x - path.from.x;
  const ry = path.to.y - path.from.y;
  const lengthM = Math.hypot(rx, ry);
  const meetings: number[] = [];
  for (let i = 0, j = corners.length - 1; i < corners.length; j = i++) {
    const c = corners[j];
    const d = corners[i];
    if (!segmentsMeet(path.from, path.to, c, d)) continue;
    const sx = d.x - c.x;
    const sy = d.y - c.y;
    const denominator = rx * sy - ry * sx;
    if (denominator === 0) return null;
    const t = ((c.x - path.from.x) * sy - (c.y - path.from.y) * sx) / denominator;
    meetings.push(Math.max(0, Math.min(1, t)));
  }
  meetings.sort((a, b) => a - b);
  // Through a corner, the path meets both of its edges at one place.
  const sameT = lengthM > 0 ? ROUNDING_M / lengthM : Infinity;
  return meetings.filter((t, k) => k === 0 || t - meetings[k - 1] > sameT);
}

/** The drone is inside the zone or on its edge. */
function droneIn(drone: LatLon, zone: readonly LatLon[]): boolean {
  return (
    zone.length >= 3 && (pointInPolygon(drone, zone) || distanceToEdgesM(drone, zone) <= ROUNDING_M)
  );
}

/**
 * From inside the zone (or its edge) straight out: the setpoint outside and off the edge, the
 * path meeting the edge at one place only, so that it never comes back in. From the edge
 * itself, that place is the drone's own (within rounding, to either side).
 */
function pathLeaves(
  path: PlanePath,
  drone: LatLon,
  setpoint: LatLon,
  zone: readonly LatLon[],
): boolean {
  if (pointInPolygon(setpoint, zone) || distanceToEdgesM(setpoint, zone) <= ROUNDING_M) {
    return false;
  }
  const meetings = edgeMeetings(path, zone);
  if (meetings === null) return false;
  if (distanceToEdgesM(drone, zone) > ROUNDING_M) return meetings.length === 1;
  const lengthM = Math.hypot(path.to.x - path.from.x, path.to.y - path.from.y);
  return meetings.every((t) => t * lengthM <= ROUNDING_M);
}

const round = (value: number): string => String(Math.round(value));
const round1 = (value: number): string => String(Math.round(value * 10) / 10);

/**
 * Keeps the path clear of each thing by limitM. A drone already nearer may move away but not
 * come any nearer than it is now (else a bear walking up to a hovering drone would pin it).
 */
function clearanceViolation(
  rule: 'person' | 'bear-standoff',
  things: readonly LatLon[],
  path: PlanePath,
  limitM: number,
): Violation | null {
  for (const thing of things) {
    const where = toPlane(path.origin, thing);
    const startM = Math.hypot(where.x - path.from.x, where.y - path.from.y);
    const closestM = pointToSegmentM(where, path.from, path.to);
    const allowedM = Math.min(limitM, startM);
    if (closestM + ROUNDING_M >= allowedM) continue;
    const prefix = rule === 'person' ? 'person' : 'bear-standoff: bear';
    const text =
      startM < limitM
        ? `${prefix} ${round1(closestM)} m from the path, nearer than the drone's ` +
          `${round1(startM)} m now; keep ${round(limitM)} m`
        : `${prefix} ${round1(closestM)} m from the path; keep ${round(limitM)} m`;
    return { rule, text };
  }
  return null;
}

/** Latitude and longitude to about 10 cm, for the operator to find the place. */
const place = (point: LatLon): string => `${point.latDeg.toFixed(6)}, ${point.lonDeg.toFixed(6)}`;

interface PathHeights {
  floor: Violation | null;
  ceiling: Violation | null;
}

/**
 * The floor and ceiling along the straight path over the elevation model, the drone's height
 * above home changing linearly from where it is to the setpoint's. A drone already under the
 * floor (or over the ceiling) may climb (or descend) but not go further out of the band, as
 * with people and bears: else a drone blown low could never be sent up again.
 */
function pathHeights(
  setpoint: Setpoint,
  world: EnvelopeWorld,
  path: PlanePath,
  limits: EnvelopeLimits,
  groundAboveHomeM: (point: LatLon) => number | null,
): PathHeights {
  const noData = (where: LatLon, what: string): PathHeights => ({
    floor: {
      rule: 'altitude-floor',
      text: `altitude-floor: no elevation data at ${place(where)}, ${what}`,
    },
    ceiling: null,
  });
  const groundAt = (point: LatLon): number | null => {
    const aboveM = groundAboveHomeM(point);
    return aboveM !== null && Number.isFinite(aboveM) ? aboveM : null;
  };
  const droneGroundM = groundAt(world.drone);
  if (droneGroundM === null) return noData(world.drone, 'under the drone');
  const setpointGroundM = groundAt(setpoint);
  if (setpointGroundM === null) return noData(setpoint, 'the setpoint');
  const droneAglM = world.drone.altitudeAglM;
  if (!Number.isFinite(droneAglM)) {
    return {
      floor: {
        rule: 'altitude-floor',
        text: `altitude-floor: the drone's height ${droneAglM} is not a number`,
      },
      ceiling: null,
    };
  }
  const startRelM = droneAglM + droneGroundM;
  const endRelM = setpoint.altitudeAglM + setpointGroundM;
  const lengthM = Math.hypot(path.to.x, path.to.y);
  // A hair under a whole number of steps stays that number: a sample falls on each step.
  const samples = Math.ceil(lengthM / GROUND_SAMPLE_M - 1e-6);
  let lowest = { aglM: Infinity, alongM: 0 };
  let highest = { aglM: -Infinity, alongM: 0 };
  // The ends are the drone (allowed where it is) and the setpoint (checked on its own).
  for (let i = 1; i < samples; i++) {
    const t = i / samples;
    const point = offsetNorthEast(path.origin, path.to.y * t, path.to.x * t);
    const groundM = groundAt(point);
    if (groundM === null) return noData(point, `${round(lengthM * t)} m from the drone`);
    const aglM = startRelM + (endRelM - startRelM) * t - groundM;
    if (aglM < lowest.aglM) lowest = { aglM, alongM: lengthM * t };
    if (aglM > highest.aglM) highest = { aglM, alongM: lengthM * t };
  }
  const passes = (at: { aglM: number; alongM: number }): string =>
    (at.aglM < 0
      ? `the path runs ${round1(-at.aglM)} m into the ground`
      : `the path passes ${round1(at.aglM)} m above ground`) +
    `, ${round(at.alongM)} m from the drone`;
  const heights: PathHeights = { floor: null, ceiling: null };
  if (lowest.aglM + ROUNDING_M < Math.min(limits.floorAglM, droneAglM)) {
    const below =
      droneAglM < limits.floorAglM ? `, lower than the drone's ${round1(droneAglM)} m now,` : ',';
    heights.floor = {
      rule: 'altitude-floor',
      text:
        `altitude-floor: ${passes(lowest)}${below} ` +
        `under the ${round(limits.floorAglM)} m floor`,
    };
  }
  if (highest.aglM - ROUNDING_M > Math.max(limits.ceilingAglM, droneAglM)) {
    const above =
      droneAglM > limits.ceilingAglM
        ? `, higher than the drone's ${round1(droneAglM)} m now,`
        : ',';
    heights.ceiling = {
      rule: 'altitude-ceiling',
      text:
        `altitude-ceiling: ${passes(highest)}${above} ` +
        `over the ${round(limits.ceilingAglM)} m ceiling`,
    };
  }
  return heights;
}

/**
 * Battery needed to fly home from a point, descend and land with the reserve left, in %:
 * (distance home / return speed + altitude / descent speed) x drain + reserve. Infinity when
 * the budget's speeds or drain are not usable numbers, so that the battery rule refuses.
 */
export function batteryNeededPct(
  from: LatLon,
  home: LatLon,
  altitudeAglM: number,
  budget: BatteryBudget,
  limits: EnvelopeLimits = DEFAULT_ENVELOPE,
): number {
  const { returnSpeedMps, descentSpeedMps, drainPctPerS } = budget;
  if (!(returnSpeedMps > 0) || !(descentSpeedMps > 0) || !(drainPctPerS >= 0)) return Infinity;
  if (!Number.isFinite(drainPctPerS) || !isLatLon(from) || !isLatLon(home)) return Infinity;
  const flightS =
    distanceM(from, home) / returnSpeedMps + Math.max(0, altitudeAglM) / descentSpeedMps;
  return flightS * drainPctPerS + limits.batteryReservePct;
}

function* violations(
  setpoint: Setpoint,
  world: EnvelopeWorld,
  limits: EnvelopeLimits,
): Generator<Violation> {
  if (!isLatLon(setpoint)) {
    yield {
      rule: 'position',
      text: `position ${setpoint.latDeg}, ${setpoint.lonDeg} is not a latitude and longitude`,
    };
    return;
  }
  if (!Number.isFinite(setpoint.altitudeAglM)) {
    yield { rule: 'position', text: `position altitude ${setpoint.altitudeAglM} is not a number` };
    return;
  }
  if (!isLatLon(world.drone)) {
    yield { rule: 'position', text: 'position of the drone is unknown: no path to check' };
    return;
  }
  if (!world.linkUp) yield { rule: 'link', text: 'link lost: no setpoints until it is back' };
  const path: PlanePath = {
    origin: world.drone,
    from: { x: 0, y: 0 },
    to: toPlane(world.drone, setpoint),
  };
  const heights = world.groundAboveHomeM
    ? pathHeights(setpoint, world, path, limits, world.groundAboveHomeM)
    : { floor: null, ceiling: null };
  if (setpoint.altitudeAglM < limits.floorAglM) {
    yield {
      rule: 'altitude-floor',
      text:
        `altitude-floor: ${round1(setpoint.altitudeAglM)} m above ground is under the ` +
        `${round(limits.floorAglM)} m floor`,
    };
  } else if (heights.floor) yield heights.floor;
  if (setpoint.altitudeAglM > limits.ceilingAglM) {
    yield {
      rule: 'altitude-ceiling',
      text:
        `altitude-ceiling: ${round1(setpoint.altitudeAglM)} m above ground is over the ` +
        `${round(limits.ceilingAglM)} m ceiling`,
    };
  } else if (heights.ceiling) yield heights.ceiling;
  const ends: [LatLon, LatLon] = [world.drone, setpoint];
  if (world.fences.length > 0 && !world.fences.some((fence) => pathInside(path, ends, fence))) {
    const setpointInside = world.fences.some((fence) => pointInPolygon(setpoint, fence));
    const outsideM = Math.min(...world.fences.map((fence) => distanceToEdgesM(setpoint, fence)));
    const droneInside = world.fences.some((fence) => pointInPolygon(world.drone, fence));
    let text = 'geofence: the path from the drone leaves the fence';
    if (!setpointInside) text = `geofence: the setpoint is ${round1(outsideM)} m outside the fence`;
    // A drone outside every fence gets no setpoint at all: return home is the way back.
    else if (!droneInside) text = 'geofence: the drone is outside the fence';
    yield { rule: 'geofence', text };
  }
  // A drone inside a zone (put there by wind, or by a zone drawn around it) may fly out, as it
  // may move away from people and bears: else it would hold inside for good.
  const zoneIndex = world.noFlyZones.findIndex((zone) =>
    droneIn(world.drone, zone)
      ? !pathLeaves(path, world.drone, setpoint, zone)
      : pathEnters(path, ends, zone),
  );
  if (zoneIndex >= 0) {
    const zone = world.noFlyZones[zoneIndex];
    const name = `no-fly-zone ${zoneIndex + 1}`;
    let text = `${name}: the path crosses it`;
    if (droneIn(world.drone, zone)) {
      text =
        `${name}: the drone is inside no-fly zone ${zoneIndex + 1}, ` +
        `${round1(distanceToEdgesM(world.drone, zone))} m from its edge; ` +
        'only a straight path out of it is allowed';
    } else if (pointInPolygon(setpoint, zone)) {
      text = `${name}: the setpoint is ${round1(distanceToEdgesM(setpoint, zone))} m inside it`;
    }
    yield { rule: 'no-fly-zone', text };
  }
  const person = clearanceViolation('person', world.people, path, limits.personRadiusM);
  if (person) yield person;
  const bear = clearanceViolation('bear-standoff', world.bears, path, limits.bearStandoffM);
  if (bear) yield bear;
  if (world.battery) {
    const neededPct = batteryNeededPct(
      setpoint,
      world.home,
      setpoint.altitudeAglM,
      world.battery,
      limits,
    );
    const remainingPct = world.battery.remainingPct;
    if (!Number.isFinite(neededPct)) {
      yield {
        rule: 'battery',
        text: 'battery need unknown: no usable return speed, descent speed or drain',
      };
    } else if (!(remainingPct >= neededPct)) {
      yield {
        rule: 'battery',
        text:
          `battery ${round(remainingPct)}% left; ${round(neededPct)}% needed to fly home ` +
          `from the setpoint and land with the ${round(limits.batteryReservePct)}% reserve`,
      };
    }
  }
}

/** The first rule the setpoint (or the straight path to it) breaks, in EnvelopeRule order. */
export function checkSetpoint(
  setpoint: Setpoint,
  world: EnvelopeWorld,
  limits: EnvelopeLimits = DEFAULT_ENVELOPE,
): Violation | null {
  for (const violation of violations(setpoint, world, limits)) return violation;
  return null;
}

/** Every rule the setpoint breaks, in EnvelopeRule order (position stops the rest). */
export function checkSetpointAll(
  setpoint: Setpoint,
  world: EnvelopeWorld,
  limits: EnvelopeLimits = DEFAULT_ENVELOPE,
): Violation[] {
  return [...violations(setpoint, world, limits)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const UNITS: Record<keyof EnvelopeLimits, string> = {
  floorAglM: 'm',
  ceilingAglM: 'm',
  bearStandoffM: 'm',
  personRadiusM: 'm',
  batteryReservePct: '%',
};

/** Checks limits from a config or the operator; throws an Error naming the field. */
export function checkEnvelopeLimits(value: unknown, what = 'envelope'): EnvelopeLimits {
  if (!isRecord(value)) throw new Error(`${what} is not an object`);
  const fields = Object.keys(ENVELOPE_RANGES) as Array<keyof EnvelopeLimits>;
  for (const key of Object.keys(value)) {
    if (!(fields as string[]).includes(key)) {
      throw new Error(`${what}: unknown field ${key}; the fields are ${fields.join(', ')}`);
    }
  }
  const limits = {} as EnvelopeLimits;
  for (const field of fields) {
    const fieldValue = value[field];
    const { min, max } = ENVELOPE_RANGES[field];
    if (typeof fieldValue !== 'number' || !Number.isFinite(fieldValue)) {
      throw new Error(`${what} ${field} ${JSON.stringify(fieldValue)} is not a number`);
    }
    if (fieldValue < min || fieldValue > max) {
      throw new Error(`${what} ${field} ${fieldValue} is outside ${min}-${max} ${UNITS[field]}`);
    }
    limits[field] = fieldValue;
  }
  if (limits.floorAglM >= limits.ceilingAglM) {
    throw new Error(
      `${what} floorAglM ${limits.floorAglM} m is not below ceilingAglM ${limits.ceilingAglM} m`,
    );
  }
  return limits;
}
