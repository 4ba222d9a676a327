// The map: Leaflet driven imperatively from React state. Markers are created once and then
// moved or relabelled in place, so that they never flicker and tests can hold on to them.

import L from 'leaflet';
import { useEffect, useRef, useState, type RefObject } from 'react';
import { destination } from '../../core/geodesy';
import { STANDING_BELOW_MPS, uncertaintyPolygon } from '../../core/targets';
import { offsetPolygon, type ProtectedZone, type ZoneAlert } from '../../core/zones';
import type { KnownPerson, VehicleSummary } from '../../core/protocol';
import type { LastKnown, TrackLastKnown } from '../../core/replay';
import type { LatLon, MapTarget, VehicleState } from '../../core/types';
import type { HelloMessage } from '../api/client';
import { compassName, escapeHtml, formatAgeS, formatPct, htmlNumber } from './format';
import { useNow } from './hooks';
import { lastSeenText, staleSightings } from './ReplayBar';

const TRAIL_POINTS = 600;
const TRAIL_MIN_STEP_DEG = 0.000005;
// About 0.4 m a pixel: a 30 m standoff spans a thumb's width and more.
const START_ZOOM = 18;
/** Half-width of the middle of the view, as a fraction of the view, where the drone may roam. */
const FOLLOW_DEADBAND = 0.25;
/** Room kept between the drone and whatever covers the map, in pixels. */
const COVER_MARGIN_PX = 16;
/** Plans draw above the markers: a target's label must never hide where the drone will go. */
const PLAN_PANE = 'ursa-plan';
/** Zone names: above the map's shapes (400), below every marker (600). */
const ZONE_LABEL_PANE = 'ursa-zone-labels';
/** The drone draws above everything on the map: it is what the operator must never lose. */
const DRONE_PANE = 'ursa-drone';
const DRONE_ICON_PX = 64;
/** Raises bear markers over others near them (Leaflet stacks markers by screen row). */
const BEAR_Z_OFFSET = 500;
/** Length of the push's safe-direction arrow drawn from the bear. */
const SAFE_ARROW_M = 60;

/** A pattern drawn on the map: the draft's preview, or the path of the one under way. */
export interface MapPlan {
  /** The path the drone will fly, first point first. */
  path: LatLon[];
  /** The bear it follows, with the standoff circle around it. */
  bear: LatLon | null;
  standoffM: number | null;
  /** Push along a direction: the arrow from the bear. */
  safeBearingDeg: number | null;
  /** Points the operator tapped: a zigzag's line, a search area's corners. */
  points: LatLon[];
  /** The tapped points close into a polygon (a search area). */
  closed: boolean;
  /** The newest setpoint sent (a pattern under way only). */
  setpoint: LatLon | null;
}

export interface MapViewProps {
  hello: HelloMessage;
  vehicle: VehicleState | null;
  /** The vehicle state is last known, not live (station or vehicle link lost). */
  vehicleStale: boolean;
  /** Something over the map (the video panel): following keeps the drone out from under it. */
  coverRef?: RefObject<HTMLElement | null>;
  targets: MapTarget[];
  /** Vehicles heard that are not the active one: shown, never followed. */
  others?: VehicleSummary[];
  selectedTargetId: number | null;
  /** The plan being prepared (not yet sent). */
  preview: MapPlan | null;
  /** The pattern under way, drawn until it ends. */
  actionPlan?: MapPlan | null;
  picking: boolean;
  /**
   * The operator is choosing a point (the map menu is open, say): following must not slide
   * the map under the finger, or the point lands metres off.
   */
  holdStill?: boolean;
  onTargetClick(targetId: number): void;
  onMapClick(point: LatLon): void;
  /** People the envelope keeps clear of, each with its radius drawn. */
  people?: KnownPerson[];
  personRadiusM?: number;
  /** Right-click or long-press: where, on the ground and in map container pixels. */
  onMapMenu?(point: LatLon, pixel: { x: number; y: number }): void;
  zones?: ProtectedZone[];
  /** Zones with an open alert are drawn in alarm colours. */
  alerts?: ZoneAlert[];
  /** Corners of the zone being drawn; while set, a tap on the map adds a corner. */
  zoneDraft?: LatLon[] | null;
  onZonePoint?(point: LatLon): void;
  /** A path to draw instead of the one the live position leaves (a replay's), oldest first. */
  trail?: LatLon[];
  /**
   * Where the vehicle and each track were last seen, as of timeMs (a replay's playhead): drawn
   * hollow, with their time, once they are older than LAST_KNOWN_AFTER_MS (see ReplayBar).
   */
  lastKnown?: { vehicle: LastKnown | null; tracks: TrackLastKnown[]; timeMs: number };
}

/** Digits of a latitude or longitude written into an icon: far under a millimetre. */
const HTML_DEG_DIGITS = 9;

/**
 * @param attributes already escaped: built by the caller from escapeHtml and htmlNumber
 */
function lastKnownIcon(kind: string, testId: string, attributes: string, text: string): L.DivIcon {
  return L.divIcon({
    className: 'ursa-last-known-icon',
    iconSize: [28, 28],
    iconAnchor: [14, 14],
    html:
      `<div class="ursa-last-known kind-${escapeHtml(kind)}" ` +
      `data-testid="${escapeHtml(testId)}" ${attributes}>` +
      `<div class="ursa-last-known-ring"></div>` +
      `<div class="ursa-last-known-label">${escapeHtml(text)}</div></div>`,
  });
}

const toLatLng = (point: LatLon): L.LatLngExpression => [point.latDeg, point.lonDeg];

// A white halo under a black outline: the arrow stands out on dark forest and bright snow.
const DRONE_PATH = 'M24 4 L40 41 L24 32 L8 41 Z';
const DRONE_SVG =
  `<svg viewBox="0 0 48 48" width="${DRONE_ICON_PX}" height="${DRONE_ICON_PX}" ` +
  'aria-hidden="true">' +
  `<path d="${DRONE_PATH}" fill="none" stroke="#fff" stroke-width="8" ` +
  'stroke-linejoin="round"/>' +
  `<path class="ursa-drone-body" d="${DRONE_PATH}" stroke="#000" stroke-width="3.5" ` +
  'stroke-linejoin="round"/></svg>';

const OTHER_ICON_PX = 40;
const OTHER_SVG =
  `<svg viewBox="0 0 48 48" width="${OTHER_ICON_PX}" height="${OTHER_ICON_PX}" ` +
  'aria-hidden="true">' +
  `<path class="ursa-other-body" d="${DRONE_PATH}" stroke="#000" stroke-width="3" ` +
  'stroke-linejoin="round"/></svg>';

function otherIcon(vehicle: VehicleSummary): L.DivIcon {
  return L.divIcon({
    className: 'ursa-other-icon',
    iconSize: [OTHER_ICON_PX, OTHER_ICON_PX],
    iconAnchor: [OTHER_ICON_PX / 2, OTHER_ICON_PX / 2],
    html:
      `<div class="ursa-other" data-testid="map-other-vehicle" ` +
      `data-system-id="${htmlNumber(vehicle.systemId, 0)}">` +
      `<div class="ursa-other-arrow">${OTHER_SVG}</div>` +
      `<div class="ursa-other-label">#${htmlNumber(vehicle.systemId, 0)}</div></div>`,
  });
}

const ARROW_HEAD_SVG =
  '<svg viewBox="0 0 32 32" width="32" height="32" aria-hidden="true">' +
  '<path d="M16 2 L29 29 L16 22 L3 29 Z"/></svg>';

function motionText(target: MapTarget): string {
  const speedMps = target.speedMps;
  if (speedMps === null || speedMps === undefined) return '';
  if (
    speedMps < STANDING_BELOW_MPS ||
    target.courseDeg === null ||
    target.courseDeg === undefined
  ) {
    return ' · standing';
  }
  return ` · ${speedMps.toFixed(1)} m/s ${compassName(target.courseDeg)}`;
}

function targetLabel(target: MapTarget, nowMs: number): string {
  const ageText = formatAgeS(nowMs - target.lastSeenMs);
  return (
    `${target.className} #${target.id} ${formatPct(target.score)}${motionText(target)}` +
    ` · ${ageText}`
  );
}

function targetKind(className: string): string {
  return ['bear', 'person'].includes(className) ? className : 'other';
}

/** A track's recent path and its position's uncertainty, drawn under its marker. */
interface TrackLayers {
  path: L.Polyline;
  ellipse: L.Polygon;
}

/** The middle of the zone's northernmost edge: its label sits there, clear of the inside. */
function zoneTopEdge(zone: ProtectedZone): LatLon {
  let best: LatLon = zone.polygon[0];
  zone.polygon.forEach((corner, index) => {
    const next = zone.polygon[(index + 1) % zone.polygon.length];
    const middle = {
      latDeg: (corner.latDeg + next.latDeg) / 2,
      lonDeg: (corner.lonDeg + next.lonDeg) / 2,
    };
    if (index === 0 || middle.latDeg > best.latDeg) best = middle;
  });
  return best;
}

function zoneLayers(zone: ProtectedZone, alerting: boolean): L.Layer[] {
  const kind = zone.kind ?? 'protected';
  const state = `${alerting ? ' alerting' : ''} kind-${kind}`;
  const layers: L.Layer[] = [];
  if (zone.alertDistanceM > 0) {
    // Where a bear raises the alert.
    layers.push(
      L.polygon(offsetPolygon(zone.polygon, zone.alertDistanceM).map(toLatLng), {
        className: `ursa-zone-alert-line${state}`,
        weight: 3,
        dashArray: '8 8',
        fill: false,
        interactive: false,
      }),
    );
  }
  layers.push(
    L.polygon(zone.polygon.map(toLatLng), {
      className: `ursa-zone${state}`,
      weight: 4,
      fillOpacity: alerting ? 0.3 : 0.15,
      // Taps go through to the map: corners of a new zone, a push's safe direction.
      interactive: false,
    }),
    // In its own pane under the markers: a zone's name never hides the bear inside it.
    L.marker(toLatLng(zoneTopEdge(zone)), {
      pane: ZONE_LABEL_PANE,
      interactive: false,
      keyboard: false,
      icon: L.divIcon({
        className: 'ursa-zone-label-icon',
        iconSize: [0, 0],
        html:
          `<div class="ursa-zone-label${escapeHtml(state)}" data-testid="map-zone" ` +
          `data-zone-id="${escapeHtml(zone.id)}" data-alerting="${alerting}" ` +
          `data-kind="${escapeHtml(kind)}">` +
          `${escapeHtml(zone.name)}</div>`,
      }),
    }),
  );
  return layers;
}

function targetIcon(target: MapTarget, nowMs: number): L.DivIcon {
  const kind = targetKind(target.className);
  return L.divIcon({
    className: 'ursa-target-icon',
    iconSize: [56, 56],
    iconAnchor: [28, 28],
    html:
      `<div class="ursa-target kind-${kind}" data-target-id="${htmlNumber(target.id, 0)}" ` +
      `data-class="${escapeHtml(target.className)}">` +
      '<div class="ursa-target-ring"></div>' +
      `<div class="ursa-target-label">${escapeHtml(targetLabel(target, nowMs))}</div></div>`,
  });
}

function arrowHead(at: LatLon, bearingDeg: number, className: string): L.Marker {
  return L.marker(toLatLng(at), {
    pane: PLAN_PANE,
    interactive: false,
    keyboard: false,
    icon: L.divIcon({
      className: `ursa-arrowhead ${className}`,
      iconSize: [32, 32],
      iconAnchor: [16, 16],
      html:
        `<div style="transform: rotate(${htmlNumber(bearingDeg, 1)}deg)">` +
        `${ARROW_HEAD_SVG}</div>`,
    }),
  });
}

function pointMarker(at: LatLon, className: string, html: string, sizePx: number): L.Marker {
  return L.marker(toLatLng(at), {
    pane: PLAN_PANE,
    interactive: false,
    keyboard: false,
    icon: L.divIcon({
      className,
      iconSize: [sizePx, sizePx],
      iconAnchor: [sizePx / 2, sizePx / 2],
      html,
    }),
  });
}

/** The path, where the drone goes first, the standoff circle, the arrow and tapped points. */
function planLayers(plan: MapPlan, variant: 'preview' | 'action'): L.Layer[] {
  const layers: L.Layer[] = [];
  if (plan.bear && plan.standoffM !== null && plan.standoffM > 0) {
    layers.push(
      L.circle(toLatLng(plan.bear), {
        pane: PLAN_PANE,
        radius: plan.standoffM,
        className: `ursa-standoff ursa-${variant}`,
        weight: 3,
        dashArray: '6 6',
        fill: false,
        interactive: false,
      }),
    );
  }
  if (plan.points.length >= 2) {
    const points = plan.points.map(toLatLng);
    const style = {
      pane: PLAN_PANE,
      className: `ursa-pattern-area ursa-${variant}`,
      weight: 3,
      interactive: false,
    };
    layers.push(
      plan.closed && plan.points.length >= 3
        ? L.polygon(points, { ...style, fillOpacity: 0.08 })
        : L.polyline(points, style),
    );
  }
  plan.points.forEach((point, index) => {
    layers.push(
      pointMarker(
        point,
        'ursa-pattern-point-icon',
        `<div class="ursa-pattern-point" data-testid="pattern-point-${variant}" ` +
          `data-index="${htmlNumber(index, 0)}"></div>`,
        24,
      ),
    );
  });
  if (plan.path.length >= 2) {
    layers.push(
      L.polyline(plan.path.map(toLatLng), {
        pane: PLAN_PANE,
        className: `ursa-plan-path ursa-${variant}`,
        weight: 4,
        dashArray: variant === 'preview' ? '10 8' : undefined,
        interactive: false,
      }),
    );
  }
  const first = variant === 'preview' ? (plan.path[0] ?? null) : plan.setpoint;
  if (first) {
    layers.push(
      pointMarker(
        first,
        'ursa-plan-target-icon',
        `<div class="ursa-plan-target ursa-${variant}" data-testid="plan-target-${variant}" ` +
          `data-lat="${htmlNumber(first.latDeg, HTML_DEG_DIGITS)}" ` +
          `data-lon="${htmlNumber(first.lonDeg, HTML_DEG_DIGITS)}" ` +
          `data-path-points="${htmlNumber(plan.path.length, 0)}"></div>`,
        36,
      ),
    );
  }
  if (plan.bear && plan.safeBearingDeg !== null) {
    const end = destination(plan.bear, plan.safeBearingDeg, SAFE_ARROW_M);
    layers.push(
      L.polyline([toLatLng(plan.bear), toLatLng(end)], {
        pane: PLAN_PANE,
        className: `ursa-safe-arrow ursa-${variant}`,
        weight: 6,
        interactive: false,
      }),
      arrowHead(end, plan.safeBearingDeg, `ursa-${variant}`),
    );
  }
  return layers;
}

function personIcon(person: KnownPerson): L.DivIcon {
  return L.divIcon({
    className: 'ursa-person-icon',
    iconSize: [36, 36],
    iconAnchor: [18, 18],
    html:
      `<div class="ursa-person source-${escapeHtml(person.source)}" data-testid="map-person" ` +
      `data-person-id="${escapeHtml(person.id)}" data-source="${escapeHtml(person.source)}" ` +
      `data-lat="${htmlNumber(person.position.latDeg, HTML_DEG_DIGITS)}" ` +
      `data-lon="${htmlNumber(person.position.lonDeg, HTML_DEG_DIGITS)}">` +
      `${person.source === 'marked' ? 'M' : 'P'}</div>`,
  });
}

interface PixelRect {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const area = (rect: PixelRect): number =>
  Math.max(0, rect.right - rect.left) * Math.max(0, rect.bottom - rect.top);

/**
 * The largest strip of the map that `cover` leaves in sight, in map container pixels: beside
 * the video panel or above it, whichever is bigger.
 */
function visibleMapRect(width: number, height: number, cover: PixelRect | null): PixelRect {
  const whole = { left: 0, top: 0, right: width, bottom: height };
  if (!cover) return whole;
  const left = cover.left - COVER_MARGIN_PX;
  const top = cover.top - COVER_MARGIN_PX;
  const right = cover.right + COVER_MARGIN_PX;
  const bottom = cover.bottom + COVER_MARGIN_PX;
  if (right <= 0 || bottom <= 0 || left >= width || top >= height) return whole;
  const strips: PixelRect[] = [
    { left: Math.max(0, right), top: 0, right: width, bottom: height },
    { left: 0, top: 0, right: Math.min(width, left), bottom: height },
    { left: 0, top: 0, right: width, bottom: Math.min(height, top) },
    { left: 0, top: Math.max(0, bottom), right: width, bottom: height },
  ];
  return strips.reduce((best, strip) => (area(strip) > area(best) ? strip : best));
}

function coverRect(map: L.Map, cover: HTMLElement | null | undefined): PixelRect | null {
  if (!cover || cover.offsetParent === null) return null;
  const mapBox = map.getContainer().getBoundingClientRect();
  const box = cover.getBoundingClientRect();
  if (box.width === 0 || box.height === 0) return null;
  return {
    left: box.left - mapBox.left,
    top: box.top - mapBox.top,
    right: box.right - mapBox.left,
    bottom: box.bottom - mapBox.top,
  };
}

/**
 * How far to pan (in pixels) to bring the drone back into the middle of the part of the map
 * in sight, or null while it is still in there. Following pans only once the drone leaves
 * that middle: a map that slides under a gloved finger at every telemetry update makes
 * targets impossible to tap.
 */
function followOffset(
  map: L.Map,
  point: L.LatLng,
  cover: HTMLElement | null | undefined,
  always: boolean,
): L.Point | null {
  const size = map.getSize();
  const seen = visibleMapRect(size.x, size.y, coverRect(map, cover));
  const pixel = map.latLngToContainerPoint(point);
  const centreX = (seen.left + seen.right) / 2;
  const centreY = (seen.top + seen.bottom) / 2;
  const inMiddle =
    Math.abs(pixel.x - centreX) < (seen.right - seen.left) * FOLLOW_DEADBAND &&
    Math.abs(pixel.y - centreY) < (seen.bottom - seen.top) * FOLLOW_DEADBAND;
  if (inMiddle && !always) return null;
  return L.point(pixel.x - centreX, pixel.y - centreY);
}

/** After the operator touches the map, following waits this long before it pans again. */
const TOUCH_QUIET_MS = 4_000;

/** Which label wins a place where two would overlap: the bear first, then people. */
function labelPriority(element: HTMLElement): number {
  const target = element.closest<HTMLElement>('.ursa-target');
  if (!target) return 1;
  if (target.classList.contains('kind-bear')) return 4;
  if (target.classList.contains('kind-person')) return 3;
  return 2;
}

const rectsOverlap = (a: DOMRect, b: DOMRect): boolean =>
  a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

/**
 * Keeps map labels readable where markers crowd: each label, highest priority first, moves
 * down a line or two to clear those already placed and the drone, or hides (never the bear's).
 */
export function declutterLabels(container: HTMLElement): void {
  const labels = [
    ...container.querySelectorAll<HTMLElement>('.ursa-target-label, .ursa-other-label'),
  ];
  for (const label of labels) {
    label.style.translate = '';
    label.style.visibility = '';
    delete label.dataset.hidden;
    delete label.dataset.shiftPx;
  }
  labels.sort((a, b) => labelPriority(b) - labelPriority(a));
  const placed: DOMRect[] = [];
  const drone = container.querySelector<HTMLElement>('.ursa-drone');
  if (drone) placed.push(drone.getBoundingClientRect());
  for (const label of labels) {
    const rect = label.getBoundingClientRect();
    if (rect.width === 0) continue;
    const stepPx = rect.height + 2;
    let shiftPx: number | null = null;
    for (const tryPx of [0, stepPx, -stepPx, 2 * stepPx, -2 * stepPx]) {
      const moved = new DOMRect(rect.x, rect.y + tryPx, rect.width, rect.height);
      if (!placed.some((other) => rectsOverlap(moved, other))) {
        shiftPx = tryPx;
        break;
      }
    }
    const isBear = labelPriority(label) === 4;
    if (shiftPx === null && !isBear) {
      label.style.visibility = 'hidden';
      label.dataset.hidden = 'true';
      continue;
    }
    const usedPx = shiftPx ?? 0;
    if (usedPx !== 0) {
      label.style.translate = `0 ${usedPx}px`;
      label.dataset.shiftPx = String(usedPx);
    }
    placed.push(new DOMRect(rect.x, rect.y + usedPx, rect.width, rect.height));
  }
}

export function MapView(props: MapViewProps) {
  const containerRef = useRef<HTMLDivElement | null>(null);
  const mapRef = useRef<L.Map | null>(null);
  const droneRef = useRef<L.Marker | null>(null);
  const homeRef = useRef<L.Marker | null>(null);
  const trailRef = useRef<L.Polyline | null>(null);
  const targetsRef = useRef(new Map<number, L.Marker>());
  const tracksRef = useRef(new Map<number, TrackLayers>());
  const zonesRef = useRef<L.LayerGroup | null>(null);
  const zoneDraftRef = useRef<L.LayerGroup | null>(null);
  const othersRef = useRef(new Map<number, L.Marker>());
  const previewRef = useRef<L.LayerGroup | null>(null);
  const actionRef = useRef<L.LayerGroup | null>(null);
  const peopleRef = useRef<L.LayerGroup | null>(null);
  const lastKnownRef = useRef<L.LayerGroup | null>(null);
  const trailGivenRef = useRef(props.trail !== undefined);
  trailGivenRef.current = props.trail !== undefined;
  const callbacksRef = useRef({
    onTargetClick: props.onTargetClick,
    onMapClick: props.onMapClick,
    onZonePoint: props.onZonePoint,
    onMapMenu: props.onMapMenu,
  });
  callbacksRef.current = {
    onTargetClick: props.onTargetClick,
    onMapClick: props.onMapClick,
    onZonePoint: props.onZonePoint,
    onMapMenu: props.onMapMenu,
  };
  const drawingZone = props.zoneDraft !== null && props.zoneDraft !== undefined;
  const drawingRef = useRef(drawingZone);
  drawingRef.current = drawingZone;
  const pickingRef = useRef(props.picking);
  pickingRef.current = props.picking;
  const stillRef = useRef(false);
  stillRef.current = props.picking || drawingZone || (props.holdStill ?? false);
  const touchedMsRef = useRef(0);
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(following);
  followingRef.current = following;
  const wallNowMs = useNow(1000);
  // A replay's targets age from its playhead, not from today.
  const nowMs = props.lastKnown?.timeMs ?? wallNowMs;

  const { tiles } = props.hello;
  const { latDeg: centerLatDeg, lonDeg: centerLonDeg } = props.hello.mapCenter;

  // A reconnect brings a new hello; the map is rebuilt only if what it shows changed.
  useEffect(() => {
    const container = containerRef.current;
    if (!container) return undefined;
    const map = L.map(container, {
      center: [centerLatDeg, centerLonDeg],
      zoom: Math.min(START_ZOOM, tiles.maxZoom + 1),
      maxZoom: tiles.maxZoom + 2,
      zoomSnap: 0.5,
    });
    L.tileLayer(tiles.urlTemplate, {
      attribution: tiles.attribution,
      maxNativeZoom: tiles.maxZoom,
      maxZoom: tiles.maxZoom + 2,
    }).addTo(map);
    L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
    const zoneLabelPane = map.createPane(ZONE_LABEL_PANE);
    zoneLabelPane.style.zIndex = '450';
    zoneLabelPane.style.pointerEvents = 'none';
    const planPane = map.createPane(PLAN_PANE);
    planPane.style.zIndex = '650';
    planPane.style.pointerEvents = 'none';
    // Above the plans, below Leaflet's popups (700) and controls (800).
    const dronePane = map.createPane(DRONE_PANE);
    dronePane.style.zIndex = '690';
    dronePane.style.pointerEvents = 'none';
    trailRef.current = L.polyline([], {
      className: 'ursa-trail',
      weight: 4,
      interactive: false,
    }).addTo(map);
    zonesRef.current = L.layerGroup().addTo(map);
    zoneDraftRef.current = L.layerGroup().addTo(map);
    previewRef.current = L.layerGroup().addTo(map);
    actionRef.current = L.layerGroup().addTo(map);
    peopleRef.current = L.layerGroup().addTo(map);
    lastKnownRef.current = L.layerGroup().addTo(map);
    map.on('dragstart', () => setFollowing(false));
    // A touch, click or wheel on the map: the operator is aiming at something there.
    const touched = () => {
      touchedMsRef.current = Date.now();
    };
    for (const kind of ['pointerdown', 'wheel', 'contextmenu'] as const) {
      container.addEventListener(kind, touched, { passive: true });
    }
    const declutter = () => declutterLabels(container);
    map.on('zoomend moveend', declutter);
    // Leaflet turns a right-click, and a long press on touch screens, into contextmenu.
    map.on('contextmenu', (event: L.LeafletMouseEvent) => {
      callbacksRef.current.onMapMenu?.(
        { latDeg: event.latlng.lat, lonDeg: event.latlng.lng },
        { x: event.containerPoint.x, y: event.containerPoint.y },
      );
    });
    map.on('click', (event: L.LeafletMouseEvent) => {
      const point = { latDeg: event.latlng.lat, lonDeg: event.latlng.lng };
      if (drawingRef.current) {
        callbacksRef.current.onZonePoint?.(point);
        return;
      }
      if (!pickingRef.current) return;
      callbacksRef.current.onMapClick({ latDeg: event.latlng.lat, lonDeg: event.latlng.lng });
    });
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(container);
    mapRef.current = map;
    const targetMarkers = targetsRef.current;
    const trackLayers = tracksRef.current;
    const otherMarkers = othersRef.current;
    return () => {
      for (const kind of ['pointerdown', 'wheel', 'contextmenu'] as const) {
        container.removeEventListener(kind, touched);
      }
      resize.disconnect();
      map.remove();
      mapRef.current = null;
      droneRef.current = null;
      homeRef.current = null;
      trailRef.current = null;
      previewRef.current = null;
      actionRef.current = null;
      peopleRef.current = null;
      lastKnownRef.current = null;
      targetMarkers.clear();
      trackLayers.clear();
      zonesRef.current = null;
      zoneDraftRef.current = null;
      otherMarkers.clear();
    };
  }, [tiles.urlTemplate, tiles.attribution, tiles.maxZoom, centerLatDeg, centerLonDeg]);

  const position = props.vehicle?.position ?? null;
  const headingDeg = props.vehicle?.attitude?.yawDeg ?? 0;
  const coverRef = props.coverRef;
  const follow = (always: boolean): void => {
    const map = mapRef.current;
    if (!map || !position) return;
    const offset = followOffset(
      map,
      L.latLng(position.latDeg, position.lonDeg),
      coverRef?.current,
      always,
    );
    if (offset) map.panBy(offset, { animate: true, duration: 0.5 });
  };
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    if (!position) {
      droneRef.current?.remove();
      droneRef.current = null;
      return;
    }
    const latLng = L.latLng(position.latDeg, position.lonDeg);
    let drone = droneRef.current;
    if (!drone) {
      drone = L.marker(latLng, {
        pane: DRONE_PANE,
        interactive: false,
        keyboard: false,
        zIndexOffset: 1000,
        icon: L.divIcon({
          className: 'ursa-drone-icon',
          iconSize: [DRONE_ICON_PX, DRONE_ICON_PX],
          iconAnchor: [DRONE_ICON_PX / 2, DRONE_ICON_PX / 2],
          html: `<div class="ursa-drone" data-testid="map-drone">${DRONE_SVG}</div>`,
        }),
      }).addTo(map);
      droneRef.current = drone;
    } else {
      drone.setLatLng(latLng);
    }
    const element = drone.getElement()?.querySelector<HTMLElement>('.ursa-drone');
    if (element) {
      element.dataset.lat = position.latDeg.toFixed(7);
      element.dataset.lon = position.lonDeg.toFixed(7);
      element.dataset.headingDeg = headingDeg.toFixed(0);
      element.dataset.altitudeRelM = position.altitudeRelM.toFixed(1);
      element.style.transform = `rotate(${headingDeg}deg)`;
    }
    const trail = trailGivenRef.current ? null : trailRef.current;
    if (trail) {
      const points = trail.getLatLngs() as L.LatLng[];
      const last = points[points.length - 1];
      const moved =
        !last ||
        Math.abs(last.lat - latLng.lat) > TRAIL_MIN_STEP_DEG ||
        Math.abs(last.lng - latLng.lng) > TRAIL_MIN_STEP_DEG;
      if (moved) {
        points.push(latLng);
        if (points.length > TRAIL_POINTS) points.splice(0, points.length - TRAIL_POINTS);
        trail.setLatLngs(points);
      }
    }
    const quiet = Date.now() - touchedMsRef.current > TOUCH_QUIET_MS;
    if (followingRef.current && !stillRef.current && quiet) follow(false);
  }, [position, headingDeg]);

  // Every render may move a marker or change a label's text: place the labels again, on the
  // next frame, once every effect of this render (the markers' among them) has run.
  useEffect(() => {
    const container = containerRef.current;
    if (!container) return undefined;
    const frame = requestAnimationFrame(() => declutterLabels(container));
    return () => cancelAnimationFrame(frame);
  });

  useEffect(() => {
    if (following) follow(true);
    // Only when following is switched back on; position updates pan in the effect above.
  }, [following]);

  const stale = props.vehicleStale;
  useEffect(() => {
    const element = droneRef.current?.getElement()?.querySelector<HTMLElement>('.ursa-drone');
    if (!element) return;
    element.classList.toggle('stale', stale);
    element.dataset.stale = stale ? 'true' : 'false';
  }, [stale, position]);

  const home = props.vehicle?.home ?? null;
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    if (!home) {
      homeRef.current?.remove();
      homeRef.current = null;
      return;
    }
    if (!homeRef.current) {
      homeRef.current = L.marker(toLatLng(home), {
        interactive: false,
        keyboard: false,
        icon: L.divIcon({
          className: 'ursa-home-icon',
          iconSize: [36, 36],
          iconAnchor: [18, 18],
          html:
            '<div class="ursa-home" data-testid="map-home" ' +
            `data-lat="${htmlNumber(home.latDeg, HTML_DEG_DIGITS)}" ` +
            `data-lon="${htmlNumber(home.lonDeg, HTML_DEG_DIGITS)}">H</div>`,
        }),
      }).addTo(map);
    } else {
      homeRef.current.setLatLng(toLatLng(home));
    }
  }, [home?.latDeg, home?.lonDeg]);

  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const markers = targetsRef.current;
    const seen = new Set<number>();
    for (const target of props.targets) {
      seen.add(target.id);
      let marker = markers.get(target.id);
      if (!marker) {
        marker = L.marker(toLatLng(target.position), {
          icon: targetIcon(target, nowMs),
          // A bear is what the operator taps to haze: a person walking by must not cover it.
          zIndexOffset: target.className === 'bear' ? BEAR_Z_OFFSET : 0,
          keyboard: true,
          title: `${target.className} #${target.id}`,
          riseOnHover: true,
        }).addTo(map);
        const targetId = target.id;
        marker.on('click', () => callbacksRef.current.onTargetClick(targetId));
        markers.set(target.id, marker);
      } else {
        marker.setLatLng(toLatLng(target.position));
      }
      drawTrack(map, target);
      const element = marker.getElement()?.querySelector<HTMLElement>('.ursa-target');
      if (element) {
        element.classList.toggle('selected', target.id === props.selectedTargetId);
        element.dataset.lat = target.position.latDeg.toFixed(7);
        element.dataset.lon = target.position.lonDeg.toFixed(7);
        element.dataset.speedMps = target.speedMps?.toFixed(2) ?? '';
        element.dataset.courseDeg = target.courseDeg?.toFixed(0) ?? '';
        element.dataset.pathPoints = String(target.path?.length ?? 0);
        const label = element.querySelector('.ursa-target-label');
        if (label) label.textContent = targetLabel(target, nowMs);
      }
    }
    for (const [id, marker] of markers) {
      if (seen.has(id)) continue;
      marker.remove();
      markers.delete(id);
    }
    for (const [id, layers] of tracksRef.current) {
      if (seen.has(id)) continue;
      layers.path.remove();
      layers.ellipse.remove();
      tracksRef.current.delete(id);
    }
  }, [props.targets, props.selectedTargetId, nowMs]);

  function drawTrack(map: L.Map, target: MapTarget): void {
    let layers = tracksRef.current.get(target.id);
    const kind = targetKind(target.className);
    if (!layers) {
      layers = {
        path: L.polyline([], {
          className: `ursa-track-path kind-${kind}`,
          weight: 4,
          interactive: false,
        }).addTo(map),
        ellipse: L.polygon([], {
          className: `ursa-uncertainty kind-${kind}`,
          weight: 2,
          fillOpacity: 0.18,
          interactive: false,
        }).addTo(map),
      };
      tracksRef.current.set(target.id, layers);
    }
    layers.path.setLatLngs((target.path ?? []).map(toLatLng));
    const ellipse = target.uncertainty
      ? uncertaintyPolygon(target.position, target.uncertainty)
      : [];
    layers.ellipse.setLatLngs(ellipse.map(toLatLng));
    // Handles for tests and tools: the same numbers the map draws.
    const pathElement = layers.path.getElement();
    if (pathElement instanceof SVGElement) {
      pathElement.dataset.trackId = String(target.id);
      pathElement.dataset.points = String(target.path?.length ?? 0);
    }
    const ellipseElement = layers.ellipse.getElement();
    if (ellipseElement instanceof SVGElement) {
      ellipseElement.dataset.trackId = String(target.id);
      ellipseElement.dataset.alongRangeM = target.uncertainty?.alongRangeM.toFixed(1) ?? '';
      ellipseElement.dataset.crossRangeM = target.uncertainty?.crossRangeM.toFixed(1) ?? '';
    }
  }

  const zones = props.zones;
  const alerts = props.alerts;
  useEffect(() => {
    const group = zonesRef.current;
    if (!group) return;
    group.clearLayers();
    const alerting = new Set(
      (alerts ?? []).filter((a) => a.acknowledgedMs === null).map((a) => a.zoneId),
    );
    for (const zone of zones ?? []) {
      for (const layer of zoneLayers(zone, alerting.has(zone.id))) group.addLayer(layer);
    }
  }, [zones, alerts]);

  const zoneDraft = props.zoneDraft;
  useEffect(() => {
    const group = zoneDraftRef.current;
    if (!group) return;
    group.clearLayers();
    if (!zoneDraft || zoneDraft.length === 0) return;
    const points = zoneDraft.map(toLatLng);
    const style = { className: 'ursa-zone-draft', weight: 4, interactive: false };
    const outline =
      zoneDraft.length >= 3
        ? L.polygon(points, { ...style, fillOpacity: 0.1 })
        : L.polyline(points, style);
    group.addLayer(outline);
    zoneDraft.forEach((corner, index) => {
      group.addLayer(
        L.marker(toLatLng(corner), {
          interactive: false,
          keyboard: false,
          icon: L.divIcon({
            className: 'ursa-zone-corner-icon',
            iconSize: [28, 28],
            iconAnchor: [14, 14],
            html:
              '<div class="ursa-zone-corner" data-testid="zone-corner" ' +
              `data-index="${htmlNumber(index, 0)}"></div>`,
          }),
        }),
      );
    });
  }, [zoneDraft]);

  const others = props.others;
  useEffect(() => {
    const map = mapRef.current;
    if (!map) return;
    const markers = othersRef.current;
    const seen = new Set<number>();
    for (const vehicle of others ?? []) {
      if (!vehicle.position) continue;
      seen.add(vehicle.systemId);
      let marker = markers.get(vehicle.systemId);
      if (!marker) {
        marker = L.marker(toLatLng(vehicle.position), {
          icon: otherIcon(vehicle),
          interactive: false,
          keyboard: false,
        }).addTo(map);
        markers.set(vehicle.systemId, marker);
      } else {
        marker.setLatLng(toLatLng(vehicle.position));
      }
      const element = marker.getElement()?.querySelector<HTMLElement>('.ursa-other');
      if (element) {
        element.dataset.lat = vehicle.position.latDeg.toFixed(7);
        element.dataset.lon = vehicle.position.lonDeg.toFixed(7);
        element.dataset.link = vehicle.link;
        const arrow = element.querySelector<HTMLElement>('.ursa-other-arrow');
        if (arrow) arrow.style.transform = `rotate(${vehicle.headingDeg ?? 0}deg)`;
      }
    }
    for (const [systemId, marker] of markers) {
      if (seen.has(systemId)) continue;
      marker.remove();
      markers.delete(systemId);
    }
  }, [others]);

  useEffect(() => {
    const group = previewRef.current;
    if (!group) return;
    group.clearLayers();
    if (props.preview) {
      for (const layer of planLayers(props.preview, 'preview')) group.addLayer(layer);
    }
  }, [props.preview]);

  const actionPlan = props.actionPlan ?? null;
  useEffect(() => {
    const group = actionRef.current;
    if (!group) return;
    group.clearLayers();
    if (actionPlan) {
      for (const layer of planLayers(actionPlan, 'action')) group.addLayer(layer);
    }
  }, [actionPlan]);

  const givenTrail = props.trail;
  useEffect(() => {
    if (givenTrail) trailRef.current?.setLatLngs(givenTrail.map(toLatLng));
    const element = trailRef.current?.getElement();
    if (element instanceof SVGElement) {
      element.dataset.points = String(givenTrail?.length ?? '');
    }
  }, [givenTrail]);

  const lastKnown = props.lastKnown;
  useEffect(() => {
    const group = lastKnownRef.current;
    if (!group) return;
    group.clearLayers();
    if (!lastKnown) return;
    const stale = staleSightings(lastKnown);
    const at = (seen: LastKnown) =>
      `data-lat="${htmlNumber(seen.position.latDeg, HTML_DEG_DIGITS)}" ` +
      `data-lon="${htmlNumber(seen.position.lonDeg, HTML_DEG_DIGITS)}" ` +
      `data-time-ms="${htmlNumber(seen.timeMs, 0)}"`;
    if (stale.vehicle) {
      const text = `Drone ${lastSeenText(stale.vehicle.timeMs, lastKnown.timeMs)}`;
      group.addLayer(
        L.marker(toLatLng(stale.vehicle.position), {
          interactive: false,
          keyboard: false,
          icon: lastKnownIcon('drone', 'map-vehicle-last-known', at(stale.vehicle), text),
        }),
      );
    }
    for (const track of stale.tracks) {
      const text =
        `${track.className} #${track.trackId} ` + lastSeenText(track.timeMs, lastKnown.timeMs);
      const attributes = `${at(track)} data-track-id="${htmlNumber(track.trackId, 0)}"`;
      group.addLayer(
        L.marker(toLatLng(track.position), {
          interactive: false,
          keyboard: false,
          icon: lastKnownIcon(
            targetKind(track.className),
            'map-track-last-known',
            attributes,
            text,
          ),
        }),
      );
    }
  }, [lastKnown]);

  const people = props.people;
  const personRadiusM = props.personRadiusM ?? 0;
  useEffect(() => {
    const group = peopleRef.current;
    if (!group) return;
    group.clearLayers();
    for (const person of people ?? []) {
      if (personRadiusM > 0) {
        group.addLayer(
          L.circle(toLatLng(person.position), {
            radius: personRadiusM,
            className: `ursa-person-radius source-${person.source}`,
            weight: 3,
            fillOpacity: 0.12,
            interactive: false,
          }),
        );
      }
      group.addLayer(
        L.marker(toLatLng(person.position), {
          icon: personIcon(person),
          interactive: false,
          keyboard: false,
        }),
      );
    }
  }, [people, personRadiusM]);

  return (
    <div
      className={`map-wrap${props.picking ? ' picking' : ''}${drawingZone ? ' drawing-zone' : ''}`}
    >
      <div ref={containerRef} className="map" data-testid="map" />
      {position ? (
        <button
          type="button"
          className={`map-follow${following ? ' on' : ''}`}
          data-testid="map-follow"
          data-on={following ? 'true' : 'false'}
          aria-pressed={following}
          onClick={() => setFollowing((current) => !current)}
        >
          Follow drone: {following ? 'on' : 'off'}
        </button>
      ) : null}
    </div>
  );
}
