// The report as KML 2.2 for Google Earth and GIS tools: the same features as the GeoJSON, in
// folders, the drone path at absolute (MSL) altitude, times as TimeStamp and TimeSpan.

import { zoneKind, ZONE_KIND_VALUES, type ZoneKind } from '../../core/zones';
import { escapeXml, isoTime } from './format';
import { counterClockwiseRing, type GeoReportInput } from './geojson';
import { PATH_RAMP, trackColour, TRACK_COLOURS, ZONE_STYLES } from './map-svg';
import { pathLegs, type TimedPosition } from './span';

/** KML writes colours as aabbggrr. */
function kmlColour(hex: string, alpha: number): string {
  const [r, g, b] = [hex.slice(1, 3), hex.slice(3, 5), hex.slice(5, 7)];
  return `${Math.round(alpha * 255)
    .toString(16)
    .padStart(2, '0')}${b}${g}${r}`;
}

const ZONE_LINE_COLOURS: Record<ZoneKind, string> = {
  protected: ZONE_STYLES.protected.stroke,
  'no-fly': ZONE_STYLES['no-fly'].stroke,
  fence: ZONE_STYLES.fence.stroke,
  safe: ZONE_STYLES.safe.stroke,
};

const coordinate = (point: { lonDeg: number; latDeg: number }): string =>
  `${point.lonDeg.toFixed(7)},${point.latDeg.toFixed(7)}`;

const coordinateAlt = (point: TimedPosition): string =>
  `${coordinate(point)},${point.altitudeMslM.toFixed(2)}`;

function timeSpan(fromMs: number, toMs: number): string {
  return `<TimeSpan><begin>${isoTime(fromMs)}</begin><end>${isoTime(toMs)}</end></TimeSpan>`;
}

function extendedData(fields: Record<string, string | number | null>): string {
  const data = Object.entries(fields)
    .filter(([, value]) => value !== null)
    .map(
      ([name, value]) => `<Data name="${name}"><value>${escapeXml(String(value))}</value></Data>`,
    )
    .join('');
  return `<ExtendedData>${data}</ExtendedData>`;
}

function styles(): string {
  const trackStyles = [...Object.keys(TRACK_COLOURS), 'other'].map(
    (className) =>
      `<Style id="track-${className}"><LineStyle><color>` +
      `${kmlColour(trackColour(className), 1)}</color><width>2</width></LineStyle></Style>`,
  );
  const zoneStyles = ZONE_KIND_VALUES.map((kind) => {
    const line = ZONE_LINE_COLOURS[kind];
    return (
      `<Style id="zone-${kind}"><LineStyle><color>${kmlColour(line, 1)}</color>` +
      `<width>2</width></LineStyle><PolyStyle><color>${kmlColour(line, 0.3)}</color>` +
      `</PolyStyle></Style>`
    );
  });
  return (
    `<Style id="vehicle-path"><LineStyle><color>${kmlColour(PATH_RAMP[0], 1)}</color>` +
    `<width>3</width></LineStyle></Style>` +
    [...trackStyles, ...zoneStyles].join('')
  );
}

function legGeometry(leg: readonly TimedPosition[]): string {
  return leg.length === 1
    ? `<Point><altitudeMode>absolute</altitudeMode>` +
        `<coordinates>${coordinateAlt(leg[0])}</coordinates></Point>`
    : `<LineString><tessellate>0</tessellate><altitudeMode>absolute</altitudeMode>` +
        `<coordinates>${leg.map(coordinateAlt).join(' ')}</coordinates></LineString>`;
}

/** One line per leg (see pathLegs): never one joined across a clock jump back or a hole. */
function pathGeometry(path: readonly TimedPosition[]): string {
  const legs = pathLegs(path);
  if (legs.length === 1) return legGeometry(path);
  return `<MultiGeometry>${legs.map(legGeometry).join('')}</MultiGeometry>`;
}

export function buildKml(input: GeoReportInput): string {
  const path = input.vehiclePath;
  const pathPlacemark =
    path.length === 0
      ? ''
      : `<Placemark><name>Drone path</name>` +
        timeSpan(path[0].timeMs, path[path.length - 1].timeMs) +
        `<styleUrl>#vehicle-path</styleUrl>` +
        pathGeometry(path) +
        `</Placemark>`;
  const tracks = input.tracks.map((track) => {
    const points = track.points;
    const last = points[points.length - 1];
    const style = track.className in TRACK_COLOURS ? track.className : 'other';
    const geometry =
      points.length === 1
        ? `<Point><coordinates>${coordinate(points[0])}</coordinates></Point>`
        : `<LineString><tessellate>1</tessellate>` +
          `<coordinates>${points.map(coordinate).join(' ')}</coordinates></LineString>`;
    return (
      `<Placemark><name>${escapeXml(`#${track.trackId} ${track.className}`)}</name>` +
      timeSpan(points[0].timeMs, last.timeMs) +
      `<styleUrl>#track-${style}</styleUrl>` +
      extendedData({
        trackId: track.trackId,
        className: track.className,
        lastSeenTime: isoTime(last.timeMs),
        lastPosition: `${last.latDeg.toFixed(7)}, ${last.lonDeg.toFixed(7)}`,
      }) +
      `${geometry}</Placemark>`
    );
  });
  const zones = input.zones.map((zone) => {
    const kind = zoneKind(zone);
    const ring = counterClockwiseRing(zone.polygon).map(coordinate).join(' ');
    return (
      `<Placemark><name>${escapeXml(zone.name)}</name><styleUrl>#zone-${kind}</styleUrl>` +
      extendedData({ zoneId: zone.id, zoneKind: kind, alertDistanceM: zone.alertDistanceM }) +
      `<Polygon><tessellate>1</tessellate><outerBoundaryIs><LinearRing>` +
      `<coordinates>${ring}</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>`
    );
  });
  const events = input.events
    .filter((event) => event.position !== null)
    .map(
      (event) =>
        `<Placemark><name>${escapeXml(event.label)}</name>` +
        `<TimeStamp><when>${isoTime(event.timeMs)}</when></TimeStamp>` +
        extendedData({ eventKind: event.kind, positionOf: 'drone' }) +
        `<Point><altitudeMode>absolute</altitudeMode>` +
        `<coordinates>${coordinateAlt(event.position as TimedPosition)}</coordinates>` +
        `</Point></Placemark>`,
    );
  const hazing = input.hazingEvents
    .filter((event) => event.bearStart !== null)
    .map(
      (event) =>
        `<Placemark><name>${escapeXml(`Hazing ${event.pattern.kind} ${event.id}`)}</name>` +
        (event.endedMs === null
          ? `<TimeStamp><when>${isoTime(event.startedMs)}</when></TimeStamp>`
          : timeSpan(event.startedMs, event.endedMs)) +
        extendedData({
          hazingId: event.id,
          trackId: event.trackId,
          operator: event.operator.operatorName,
          agencyOrPermitId: event.operator.agencyOrPermitId,
          outcome: event.outcome,
          bearMovedM: event.bearMovedM,
          positionOf: 'bear at the start',
        }) +
        `<Point><coordinates>${coordinate(event.bearStart as { lonDeg: number; latDeg: number })}` +
        `</coordinates></Point></Placemark>`,
    );
  const folder = (name: string, items: string[]): string =>
    `<Folder><name>${name}</name>${items.join('')}</Folder>\n`;
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>` +
    `<name>${escapeXml(input.title)}</name>` +
    `<description>${escapeXml(
      `Ursa incident report, ${isoTime(input.fromMs)} to ${isoTime(input.toMs)}`,
    )}</description>` +
    timeSpan(input.fromMs, input.toMs) +
    `${styles()}\n` +
    folder(
      'Drone path',
      [pathPlacemark].filter((item) => item !== ''),
    ) +
    folder('Tracks', tracks) +
    folder('Zones', zones) +
    folder('Events', events) +
    folder('Hazing', hazing) +
    `</Document>\n</kml>\n`
  );
}
