// The report's map: an inline SVG in a local metric projection (metres east and north of the
// middle of what is drawn, north up), so distances on paper are true and the scale bar holds
// everywhere on it. Over a few kilometres the flat-earth error is far below GPS error.

import { EARTH_RADIUS_M } from '../../core/geodesy';
import { createLogger } from '../../core/log';
import type { LatLon } from '../../core/types';
import { zoneKind, type ProtectedZone, type ZoneKind } from '../../core/zones';
import type { TileProvider } from '../server';
import { latLonToTile, tileToLatLon } from '../tiles/xyz';
import { escapeMarkup } from './format';
import { pathLegs, positionAt, type TimedPosition } from './span';

const log = createLogger('report');

export const MAP_WIDTH_PX = 1000;
const MAP_MIN_HEIGHT_PX = 420;
const MAP_MAX_HEIGHT_PX = 900;
const MAP_MARGIN_PX = 40;
/** Less than this across and the map would zoom into GPS noise. */
const MAP_MIN_SPAN_M = 200;
const METRES_PER_DEG = (EARTH_RADIUS_M * Math.PI) / 180;
const EQUATOR_M = 2 * Math.PI * 6_378_137;
const TILE_PX = 256;
const MAX_TILE_ZOOM = 19;
/** Tiles inlined at most: each is a data: URI in the HTML, so the file stays printable. */
const MAX_TILES = 120;
/** Zooms below the ideal one tried when the provider lacks tiles there. */
const TILE_ZOOM_FALLBACK = 6;
const TILE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);
/** Drawn as this many coloured pieces: enough for a smooth ramp, few enough to stay small. */
const PATH_COLOUR_PIECES = 60;
const TICK_STEPS_S = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600];
const MAX_TICKS = 8;

/** Blue at the start of the span, through purple, to red at its end. */
export const PATH_RAMP = ['#1f4e9c', '#8e44ad', '#d7301f'] as const;

export const ZONE_STYLES: Record<ZoneKind, { fill: string; stroke: string; label: string }> = {
  protected: { fill: '#f39c12', stroke: '#b9770e', label: 'Protected' },
  'no-fly': { fill: 'url(#no-fly-hatch)', stroke: '#c0392b', label: 'No-fly' },
  fence: { fill: '#3498db', stroke: '#1f618d', label: 'Fence (stay inside)' },
  safe: { fill: '#27ae60', stroke: '#1e8449', label: 'Safe area' },
};

// A fence holds the whole flight: a light fill keeps what is inside it readable.
const ZONE_FILL_OPACITY: Record<ZoneKind, number> = {
  protected: 0.3,
  'no-fly': 1,
  fence: 0.08,
  safe: 0.3,
};

export const TRACK_COLOURS: Record<string, string> = { bear: '#6e2c00', person: '#0e6655' };
const OTHER_TRACK_COLOUR = '#555555';

export function trackColour(className: string): string {
  return TRACK_COLOURS[className] ?? OTHER_TRACK_COLOUR;
}

export interface MapTrack {
  trackId: number;
  className: string;
  points: Array<LatLon & { timeMs: number }>;
}

export interface MapInput {
  fromMs: number;
  toMs: number;
  vehiclePath: TimedPosition[];
  tracks: MapTrack[];
  zones: ProtectedZone[];
  tiles: { provider: TileProvider; attribution: string } | null;
}

export interface MapTilesUsed {
  zoom: number;
  count: number;
  attribution: string;
}

export interface MapSvg {
  svg: string;
  widthPx: number;
  heightPx: number;
  /** Null when no tiles were asked for or none covered the area. */
  tiles: MapTilesUsed | null;
  /** Ground length of the scale bar. */
  scaleBarM: number;
}

interface Projection {
  toPx(point: LatLon): [number, number];
  toLatLon(xPx: number, yPx: number): LatLon;
  metresPerPx: number;
}

function hexToRgb(hex: string): [number, number, number] {
  const value = Number.parseInt(hex.slice(1), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

/** The path colour at a fraction 0..1 of the span. */
export function rampColour(fraction: number): string {
  const f = Math.max(0, Math.min(1, fraction)) * (PATH_RAMP.length - 1);
  const index = Math.min(PATH_RAMP.length - 2, Math.floor(f));
  const from = hexToRgb(PATH_RAMP[index]);
  const to = hexToRgb(PATH_RAMP[index + 1]);
  const t = f - index;
  const rgb = from.map((c, i) => Math.round(c + (to[i] - c) * t));
  return `#${rgb.map((c) => c.toString(16).padStart(2, '0')).join('')}`;
}

function allPoints(input: MapInput): LatLon[] {
  return [
    ...input.vehiclePath,
    ...input.tracks.flatMap((track) => track.points),
    ...input.zones.flatMap((zone) => zone.polygon),
  ];
}

function makeProjection(points: readonly LatLon[]): {
  projection: Projection;
  widthPx: number;
  heightPx: number;
} {
  const lats = points.map((p) => p.latDeg);
  const lons = points.map((p) => p.lonDeg);
  const lat0 = (Math.min(...lats) + Math.max(...lats)) / 2;
  const lon0 = (Math.min(...lons) + Math.max(...lons)) / 2;
  const cosLat = Math.cos((lat0 * Math.PI) / 180);
  const eastM = (p: LatLon): number => (p.lonDeg - lon0) * METRES_PER_DEG * cosLat;
  const northM = (p: LatLon): number => (p.latDeg - lat0) * METRES_PER_DEG;
  const easts = points.map(eastM);
  const norths = points.map(northM);
  const spanEastM = Math.max(MAP_MIN_SPAN_M, Math.max(...easts) - Math.min(...easts));
  const spanNorthM = Math.max(MAP_MIN_SPAN_M, Math.max(...norths) - Math.min(...norths));
  const widthPx = MAP_WIDTH_PX;
  const heightPx = Math.round(
    Math.max(MAP_MIN_HEIGHT_PX, Math.min(MAP_MAX_HEIGHT_PX, (widthPx * spanNorthM) / spanEastM)),
  );
  const pxPerM = Math.min(
    (widthPx - 2 * MAP_MARGIN_PX) / spanEastM,
    (heightPx - 2 * MAP_MARGIN_PX) / spanNorthM,
  );
  const middleEastM = (Math.max(...easts) + Math.min(...easts)) / 2;
  const middleNorthM = (Math.max(...norths) + Math.min(...norths)) / 2;
  const projection: Projection = {
    toPx: (p) => [
      widthPx / 2 + (eastM(p) - middleEastM) * pxPerM,
      heightPx / 2 - (northM(p) - middleNorthM) * pxPerM,
    ],
    toLatLon: (xPx, yPx) => ({
      latDeg: lat0 + ((heightPx / 2 - yPx) / pxPerM + middleNorthM) / METRES_PER_DEG,
      lonDeg: lon0 + ((xPx - widthPx / 2) / pxPerM + middleEastM) / (METRES_PER_DEG * cosLat),
    }),
    metresPerPx: 1 / pxPerM,
  };
  return { projection, widthPx, heightPx };
}

const num = (value: number): string => String(Math.round(value * 10) / 10);

function pointsAttr(projection: Projection, points: readonly LatLon[]): string {
  return points
    .map((p) => projection.toPx(p))
    .map(([x, y]) => `${num(x)},${num(y)}`)
    .join(' ');
}

/**
 * Tiles at the zoom whose pixels are about as fine as the map's, lower where the provider has
 * none there, as data: URIs placed by their corners in the local projection.
 */
function tileImagesAt(
  tiles: NonNullable<MapInput['tiles']>,
  projection: Projection,
  widthPx: number,
  heightPx: number,
): { images: string; used: MapTilesUsed } | null {
  const northWest = projection.toLatLon(0, 0);
  const southEast = projection.toLatLon(widthPx, heightPx);
  const middleLatRad = (((northWest.latDeg + southEast.latDeg) / 2) * Math.PI) / 180;
  const tileMetresPerPx = (EQUATOR_M * Math.cos(middleLatRad)) / TILE_PX;
  const ideal = Math.ceil(Math.log2(tileMetresPerPx / projection.metresPerPx));
  const topZoom = Math.max(0, Math.min(MAX_TILE_ZOOM, ideal));
  for (let zoom = topZoom; zoom >= Math.max(0, topZoom - TILE_ZOOM_FALLBACK); zoom--) {
    const from = latLonToTile(northWest, zoom);
    const to = latLonToTile(southEast, zoom);
    const count = (to.x - from.x + 1) * (to.y - from.y + 1);
    if (count > MAX_TILES) continue;
    const images: string[] = [];
    for (let x = from.x; x <= to.x; x++) {
      for (let y = from.y; y <= to.y; y++) {
        const tile = tiles.provider.getTile(zoom, x, y);
        if (!tile || !TILE_TYPES.has(tile.contentType)) continue;
        const [left, top] = projection.toPx(tileToLatLon(zoom, x, y));
        const [right, bottom] = projection.toPx(tileToLatLon(zoom, x + 1, y + 1));
        images.push(
          `<image href="data:${tile.contentType};base64,${tile.data.toString('base64')}"` +
            ` x="${num(left)}" y="${num(top)}" width="${num(right - left)}"` +
            ` height="${num(bottom - top)}" preserveAspectRatio="none"/>`,
        );
      }
    }
    if (images.length > 0) {
      return {
        images: images.join(''),
        used: { zoom, count: images.length, attribution: tiles.attribution },
      };
    }
  }
  return null;
}

/** A tile store that fails (a damaged MBTiles file) costs the map its tiles, not the report. */
function tileImages(
  tiles: NonNullable<MapInput['tiles']>,
  projection: Projection,
  widthPx: number,
  heightPx: number,
): { images: string; used: MapTilesUsed } | null {
  try {
    return tileImagesAt(tiles, projection, widthPx, heightPx);
  } catch (error) {
    log.warn(`report map drawn without tiles: ${error instanceof Error ? error.message : error}`);
    return null;
  }
}

/** 1, 2 or 5 times a power of ten, about a fifth of the map's width. */
function scaleBarLengthM(metresPerPx: number, widthPx: number): number {
  const targetM = (widthPx / 5) * metresPerPx;
  const power = 10 ** Math.floor(Math.log10(targetM));
  const step = [5, 2, 1].find((s) => s * power <= targetM) ?? 1;
  return step * power;
}

function scaleBar(projection: Projection, heightPx: number, widthPx: number): [string, number] {
  const lengthM = scaleBarLengthM(projection.metresPerPx, widthPx);
  const lengthPx = lengthM / projection.metresPerPx;
  const x = 20;
  const y = heightPx - 22;
  const label = lengthM >= 1000 ? `${lengthM / 1000} km` : `${lengthM} m`;
  const svg =
    `<g class="scale-bar" data-length-m="${lengthM}">` +
    `<rect x="${x - 6}" y="${y - 22}" width="${num(lengthPx + 12)}" height="32"` +
    ` fill="#ffffff" fill-opacity="0.8"/>` +
    `<path d="M${x},${y - 6}v6h${num(lengthPx)}v-6" fill="none" stroke="#000" stroke-width="2"/>` +
    `<text x="${num(x + lengthPx / 2)}" y="${y - 9}" text-anchor="middle" font-size="13">` +
    `${label}</text></g>`;
  return [svg, lengthM];
}

function northArrow(widthPx: number): string {
  const x = widthPx - 34;
  return (
    `<g class="north-arrow"><circle cx="${x}" cy="42" r="22" fill="#ffffff"` +
    ` fill-opacity="0.8"/><path d="M${x},24l9,26l-9,-7l-9,7z" fill="#000"/>` +
    `<text x="${x}" y="60" text-anchor="middle" font-size="12" font-weight="bold">N</text></g>`
  );
}

function zoneShapes(projection: Projection, zones: readonly ProtectedZone[]): string {
  return zones
    .map((zone) => {
      const kind = zoneKind(zone);
      const style = ZONE_STYLES[kind];
      const [x, y] = projection.toPx(zone.polygon[0]);
      return (
        `<g class="zone zone-${kind}" data-zone-id="${zone.id}">` +
        `<polygon points="${pointsAttr(projection, zone.polygon)}" fill="${style.fill}"` +
        ` fill-opacity="${ZONE_FILL_OPACITY[kind]}" stroke="${style.stroke}"` +
        ` stroke-width="2"${kind === 'fence' ? ' stroke-dasharray="10 6"' : ''}/>` +
        `<text x="${num(x + 4)}" y="${num(y - 4)}" font-size="12" fill="${style.stroke}"` +
        ` stroke="#fff" stroke-width="3" paint-order="stroke">` +
        `${escapeMarkup(zone.name)}</text></g>`
      );
    })
    .join('');
}

function trackShapes(projection: Projection, tracks: readonly MapTrack[]): string {
  return tracks
    .map((track) => {
      const colour = trackColour(track.className);
      const last = track.points[track.points.length - 1];
      const [x, y] = projection.toPx(last);
      const line =
        track.points.length > 1
          ? `<polyline points="${pointsAttr(projection, track.points)}" fill="none"` +
            ` stroke="${colour}" stroke-width="2.5" stroke-dasharray="6 4"/>`
          : '';
      const label = `#${track.trackId} ${track.className}`;
      return (
        `<g class="track" data-track-id="${track.trackId}"` +
        ` data-class="${escapeMarkup(track.className)}">${line}` +
        `<circle class="track-last" cx="${num(x)}" cy="${num(y)}" r="6" fill="${colour}"` +
        ` stroke="#fff" stroke-width="2"/>` +
        `<text x="${num(x + 9)}" y="${num(y + 4)}" font-size="13" font-weight="bold"` +
        ` fill="${colour}" stroke="#fff" stroke-width="3" paint-order="stroke">` +
        `${escapeMarkup(label)}</text></g>`
      );
    })
    .join('');
}

function clockText(timeMs: number, withSeconds: boolean): string {
  return new Date(timeMs).toISOString().slice(11, withSeconds ? 19 : 16);
}

function pathShapes(projection: Projection, input: MapInput): string {
  const path = input.vehiclePath;
  if (path.length === 0) return '';
  const spanMs = input.toMs - input.fromMs;
  // Each leg (a session between clock jumps back, or a stretch between holes) is its own line:
  // a line joining two of them would show a flight that never happened.
  const legs = pathLegs(path);
  const pieceSize = Math.max(1, Math.ceil((path.length - 1) / PATH_COLOUR_PIECES));
  const pieces: string[] = [];
  const casings: string[] = [];
  for (const leg of legs) {
    // A white casing keeps the path visible over dark map tiles.
    casings.push(
      `<polyline class="path-casing" points="${pointsAttr(projection, leg)}" fill="none"` +
        ` stroke="#fff" stroke-width="6.5" stroke-opacity="0.8" stroke-linejoin="round"/>`,
    );
    for (let start = 0; start < leg.length - 1; start += pieceSize) {
      const piece = leg.slice(start, Math.min(leg.length, start + pieceSize + 1));
      const middleMs = (piece[0].timeMs + piece[piece.length - 1].timeMs) / 2;
      pieces.push(
        `<polyline points="${pointsAttr(projection, piece)}" fill="none"` +
          ` stroke="${rampColour((middleMs - input.fromMs) / spanMs)}" stroke-width="3.5"` +
          ` stroke-linecap="round" stroke-linejoin="round"/>`,
      );
    }
  }
  const coveredMs = legs.reduce((sum, leg) => sum + leg[leg.length - 1].timeMs - leg[0].timeMs, 0);
  const stepS =
    TICK_STEPS_S.find((s) => coveredMs / (s * 1000) <= MAX_TICKS) ??
    TICK_STEPS_S[TICK_STEPS_S.length - 1];
  const stepMs = stepS * 1000;
  const ticks: string[] = [];
  for (const leg of legs) {
    const firstMs = leg[0].timeMs;
    const lastMs = leg[leg.length - 1].timeMs;
    for (let t = Math.floor(firstMs / stepMs) * stepMs + stepMs; t < lastMs; t += stepMs) {
      const at = positionAt(leg, t, [leg]);
      if (!at) continue;
      const [x, y] = projection.toPx(at);
      ticks.push(
        `<circle cx="${num(x)}" cy="${num(y)}" r="3.5" fill="#fff" stroke="#000"/>` +
          `<text x="${num(x + 6)}" y="${num(y - 6)}" font-size="11" stroke="#fff"` +
          ` stroke-width="3" paint-order="stroke">${clockText(t, stepS < 60)}</text>`,
      );
    }
  }
  const [startX, startY] = projection.toPx(path[0]);
  const [endX, endY] = projection.toPx(path[path.length - 1]);
  return (
    `<g class="vehicle-path" data-points="${path.length}" data-legs="${legs.length}">` +
    `${casings.join('')}${pieces.join('')}</g>` +
    `<g class="time-ticks">${ticks.join('')}</g>` +
    `<g class="path-start"><circle cx="${num(startX)}" cy="${num(startY)}" r="9"` +
    ` fill="#1e8449" stroke="#fff" stroke-width="2"/><text x="${num(startX)}"` +
    ` y="${num(startY + 4)}" text-anchor="middle" font-size="11" fill="#fff"` +
    ` font-weight="bold">S</text></g>` +
    `<g class="path-end"><rect x="${num(endX - 8)}" y="${num(endY - 8)}" width="16"` +
    ` height="16" fill="#922b21" stroke="#fff" stroke-width="2"/><text x="${num(endX)}"` +
    ` y="${num(endY + 4)}" text-anchor="middle" font-size="11" fill="#fff"` +
    ` font-weight="bold">E</text></g>`
  );
}

/** Null when there is nothing with a position to draw. */
export function renderMapSvg(input: MapInput): MapSvg | null {
  const points = allPoints(input);
  if (points.length === 0) return null;
  const { projection, widthPx, heightPx } = makeProjection(points);
  const tiles = input.tiles ? tileImages(input.tiles, projection, widthPx, heightPx) : null;
  const [bar, scaleBarM] = scaleBar(projection, heightPx, widthPx);
  const attribution = tiles?.used.attribution
    ? `<text class="attribution" x="${widthPx - 6}" y="${heightPx - 6}" text-anchor="end"` +
      ` font-size="11" stroke="#fff" stroke-width="3" paint-order="stroke">` +
      `${escapeMarkup(tiles.used.attribution)}</text>`
    : '';
  const svg =
    `<svg class="report-map" viewBox="0 0 ${widthPx} ${heightPx}" role="img"` +
    ` aria-label="Map of the drone's path, the tracks and the zones"` +
    ` font-family="Helvetica, Arial, sans-serif">` +
    `<defs><clipPath id="map-clip"><rect width="${widthPx}" height="${heightPx}"/></clipPath>` +
    `<pattern id="no-fly-hatch" width="10" height="10" patternUnits="userSpaceOnUse"` +
    ` patternTransform="rotate(45)"><rect width="10" height="10" fill="#c0392b"` +
    ` fill-opacity="0.12"/><line x1="0" y1="0" x2="0" y2="10" stroke="#c0392b"` +
    ` stroke-width="3" stroke-opacity="0.5"/></pattern></defs>` +
    `<g clip-path="url(#map-clip)"><rect class="map-background" width="${widthPx}"` +
    ` height="${heightPx}" fill="#f4f1ea"/>` +
    `<g class="tiles" data-zoom="${tiles?.used.zoom ?? ''}">${tiles?.images ?? ''}</g>` +
    `<g class="zones">${zoneShapes(projection, input.zones)}</g>` +
    `<g class="tracks">${trackShapes(projection, input.tracks)}</g>` +
    pathShapes(projection, input) +
    `${bar}${northArrow(widthPx)}${attribution}</g></svg>`;
  return { svg, widthPx, heightPx, tiles: tiles?.used ?? null, scaleBarM };
}
