// The report for GIS tools as RFC 7946 GeoJSON: [lon, lat(, altitude)] in WGS 84, polygon
// rings closed and counter-clockwise, times as ISO 8601 text in properties.

import type { HazingEvent } from '../../core/hazing-log';
import type { LatLon } from '../../core/types';
import { zoneKind, type ProtectedZone } from '../../core/zones';
import { isoTime } from './format';
import type { MapTrack } from './map-svg';
import { pathLegs, type TimedPosition } from './span';

export interface PlacedEvent {
  timeMs: number;
  kind: string;
  label: string;
  /** Where the drone was then; null when the path does not cover the time. */
  position: TimedPosition | null;
}

export interface GeoReportInput {
  title: string;
  fromMs: number;
  toMs: number;
  vehiclePath: TimedPosition[];
  tracks: MapTrack[];
  zones: ProtectedZone[];
  events: PlacedEvent[];
  hazingEvents: HazingEvent[];
}

type Position = number[];

interface Feature {
  type: 'Feature';
  geometry:
    | { type: 'Point'; coordinates: Position }
    | { type: 'LineString'; coordinates: Position[] }
    | { type: 'MultiLineString'; coordinates: Position[][] }
    | { type: 'Polygon'; coordinates: Position[][] };
  properties: Record<string, unknown>;
}

// 1e-7 degrees is about a centimetre: finer is noise, coarser would bend short tracks.
const round = (value: number, decimals: number): number => Number(value.toFixed(decimals));

export function lonLat(point: LatLon): Position {
  return [round(point.lonDeg, 7), round(point.latDeg, 7)];
}

function lonLatAlt(point: TimedPosition): Position {
  return [...lonLat(point), round(point.altitudeMslM, 2)];
}

/** Twice the signed area in degrees, x = lon: positive when the ring runs counter-clockwise. */
export function signedArea2(ring: readonly LatLon[]): number {
  let sum = 0;
  for (let i = 0; i < ring.length; i++) {
    const a = ring[i];
    const b = ring[(i + 1) % ring.length];
    sum += a.lonDeg * b.latDeg - b.lonDeg * a.latDeg;
  }
  return sum;
}

/** The zone's corners as a closed ring, counter-clockwise (the right-hand rule of RFC 7946). */
export function counterClockwiseRing(polygon: readonly LatLon[]): LatLon[] {
  const open = [...polygon];
  const first = open[0];
  const last = open[open.length - 1];
  if (open.length > 1 && first.latDeg === last.latDeg && first.lonDeg === last.lonDeg) open.pop();
  if (signedArea2(open) < 0) open.reverse();
  return [...open, open[0]];
}

function lineOrPoint(coordinates: Position[]): Feature['geometry'] {
  return coordinates.length === 1
    ? { type: 'Point', coordinates: coordinates[0] }
    : { type: 'LineString', coordinates };
}

/**
 * One line per leg (see pathLegs): a record with a clock jump back or a hole is several lines,
 * never one joined across it. A leg of one point is a line that stays where it is.
 */
function pathGeometry(path: readonly TimedPosition[]): Feature['geometry'] {
  const legs = pathLegs(path);
  if (legs.length === 1) return lineOrPoint(path.map(lonLatAlt));
  return {
    type: 'MultiLineString',
    coordinates: legs.map((leg) => (leg.length === 1 ? [leg[0], leg[0]] : leg).map(lonLatAlt)),
  };
}

export function buildGeoJson(input: GeoReportInput): object {
  const features: Feature[] = [];
  const path = input.vehiclePath;
  if (path.length > 0) {
    features.push({
      type: 'Feature',
      geometry: pathGeometry(path),
      properties: {
        kind: 'vehicle-path',
        name: 'Drone path',
        altitudeReference: 'MSL',
        startTime: isoTime(path[0].timeMs),
        endTime: isoTime(path[path.length - 1].timeMs),
        times: path.map((point) => isoTime(point.timeMs)),
        altitudesRelM: path.map((point) => round(point.altitudeRelM, 2)),
      },
    });
  }
  for (const track of input.tracks) {
    const points = track.points;
    features.push({
      type: 'Feature',
      geometry: lineOrPoint(points.map(lonLat)),
      properties: {
        kind: 'track',
        name: `#${track.trackId} ${track.className}`,
        trackId: track.trackId,
        className: track.className,
        firstSeenTime: isoTime(points[0].timeMs),
        lastSeenTime: isoTime(points[points.length - 1].timeMs),
        lastPosition: lonLat(points[points.length - 1]),
        times: points.map((point) => isoTime(point.timeMs)),
      },
    });
  }
  for (const zone of input.zones) {
    features.push({
      type: 'Feature',
      geometry: { type: 'Polygon', coordinates: [counterClockwiseRing(zone.polygon).map(lonLat)] },
      properties: {
        kind: 'zone',
        name: zone.name,
        zoneId: zone.id,
        zoneKind: zoneKind(zone),
        alertDistanceM: zone.alertDistanceM,
      },
    });
  }
  for (const event of input.events) {
    if (!event.position) continue;
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: lonLatAlt(event.position) },
      properties: {
        kind: 'event',
        eventKind: event.kind,
        name: event.label,
        time: isoTime(event.timeMs),
        positionOf: 'drone',
      },
    });
  }
  for (const hazing of input.hazingEvents) {
    if (!hazing.bearStart) continue;
    features.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: lonLat(hazing.bearStart) },
      properties: {
        kind: 'hazing',
        name: `Hazing ${hazing.pattern.kind} ${hazing.id}`,
        hazingId: hazing.id,
        trackId: hazing.trackId,
        pattern: hazing.pattern.kind,
        operator: hazing.operator.operatorName,
        agencyOrPermitId: hazing.operator.agencyOrPermitId,
        startTime: isoTime(hazing.startedMs),
        endTime: hazing.endedMs === null ? null : isoTime(hazing.endedMs),
        outcome: hazing.outcome,
        bearMovedM: hazing.bearMovedM,
        positionOf: 'bear at the start',
      },
    });
  }
  return {
    type: 'FeatureCollection',
    name: input.title,
    startTime: isoTime(input.fromMs),
    endTime: isoTime(input.toMs),
    features,
  };
}
