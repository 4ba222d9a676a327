// The map: Leaflet driven imperatively from React state. Markers are created once and then
// moved or relabelled in place, so that they never flicker and tests can hold on to them.

import L from 'leaflet';
import { useEffect, useRef, useState } from 'react';
import type { PushPlan } from '../../core/hazing';
import type { ActionStatus } from '../../core/protocol';
import type { LatLon, MapTarget, VehicleState } from '../../core/types';
import type { HelloMessage } from '../api/client';
import { formatAgeS, formatPct } from './format';
import { useNow } from './hooks';

const TRAIL_POINTS = 600;
const TRAIL_MIN_STEP_DEG = 0.000005;
// About 0.4 m a pixel: a 30 m standoff spans a thumb's width and more.
const START_ZOOM = 18;
/** Half-width of the middle of the view, as a fraction of the view, where the drone may roam. */
const FOLLOW_DEADBAND = 0.25;
/** Plans draw above the markers: a target's label must never hide where the drone will go. */
const PLAN_PANE = 'ursa-plan';

export interface MapViewProps {
  hello: HelloMessage;
  vehicle: VehicleState | null;
  targets: MapTarget[];
  action: ActionStatus | null;
  selectedTargetId: number | null;
  /** The plan being prepared (not yet sent). */
  preview: PushPlan | null;
  picking: boolean;
  onTargetClick(targetId: number): void;
  onMapClick(point: LatLon): void;
}

const toLatLng = (point: LatLon): L.LatLngExpression => [point.latDeg, point.lonDeg];

const DRONE_SVG =
  '<svg viewBox="0 0 48 48" width="48" height="48" aria-hidden="true">' +
  '<path d="M24 3 L41 42 L24 33 L7 42 Z" fill="#ffd400" stroke="#111" stroke-width="3" ' +
  'stroke-linejoin="round"/></svg>';

const ARROW_HEAD_SVG =
  '<svg viewBox="0 0 32 32" width="32" height="32" aria-hidden="true">' +
  '<path d="M16 2 L29 29 L16 22 L3 29 Z"/></svg>';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function targetLabel(target: MapTarget, nowMs: number): string {
  const ageText = formatAgeS(nowMs - target.lastSeenMs);
  return `${target.className} ${formatPct(target.score)} · ${ageText}`;
}

function targetIcon(target: MapTarget, nowMs: number): L.DivIcon {
  const kind = ['bear', 'person'].includes(target.className) ? target.className : 'other';
  return L.divIcon({
    className: 'ursa-target-icon',
    iconSize: [56, 56],
    iconAnchor: [28, 28],
    html:
      `<div class="ursa-target kind-${kind}" data-target-id="${target.id}" ` +
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
      html: `<div style="transform: rotate(${bearingDeg}deg)">${ARROW_HEAD_SVG}</div>`,
    }),
  });
}

/** Drone line, drone target marker and the bear's safe-direction arrow. */
function planLayers(plan: PushPlan, from: LatLon | null, variant: 'preview' | 'action'): L.Layer[] {
  const layers: L.Layer[] = [];
  if (from) {
    layers.push(
      L.polyline([toLatLng(from), toLatLng(plan.droneTarget)], {
        pane: PLAN_PANE,
        className: `ursa-plan-path ursa-${variant}`,
        weight: 4,
        dashArray: variant === 'preview' ? '10 8' : undefined,
        interactive: false,
      }),
    );
  }
  layers.push(
    L.marker(toLatLng(plan.droneTarget), {
      pane: PLAN_PANE,
      interactive: false,
      keyboard: false,
      icon: L.divIcon({
        className: 'ursa-plan-target-icon',
        iconSize: [36, 36],
        iconAnchor: [18, 18],
        html:
          `<div class="ursa-plan-target ursa-${variant}" data-testid="plan-target-${variant}" ` +
          `data-lat="${plan.droneTarget.latDeg}" data-lon="${plan.droneTarget.lonDeg}">` +
          '</div>',
      }),
    }),
    L.polyline([toLatLng(plan.bear), toLatLng(plan.safeArrowEnd)], {
      pane: PLAN_PANE,
      className: `ursa-safe-arrow ursa-${variant}`,
      weight: 6,
      interactive: false,
    }),
    arrowHead(plan.safeArrowEnd, plan.safeBearingDeg, `ursa-${variant}`),
  );
  return layers;
}

/**
 * Following pans only once the drone leaves the middle of the view: a map that slides under
 * a gloved finger at every telemetry update makes targets impossible to tap.
 */
function nearCentre(map: L.Map, point: L.LatLng): boolean {
  const size = map.getSize();
  const pixel = map.latLngToContainerPoint(point);
  return (
    Math.abs(pixel.x - size.x / 2) < size.x * FOLLOW_DEADBAND &&
    Math.abs(pixel.y - size.y / 2) < size.y * FOLLOW_DEADBAND
  );
}

export function MapView(props: MapViewProps) {
  const containerRef = useRef<HTMLDivElement | null>(null);
  const mapRef = useRef<L.Map | null>(null);
  const droneRef = useRef<L.Marker | null>(null);
  const homeRef = useRef<L.Marker | null>(null);
  const trailRef = useRef<L.Polyline | null>(null);
  const targetsRef = useRef(new Map<number, L.Marker>());
  const previewRef = useRef<L.LayerGroup | null>(null);
  const actionRef = useRef<L.LayerGroup | null>(null);
  const callbacksRef = useRef({ onTargetClick: props.onTargetClick, onMapClick: props.onMapClick });
  callbacksRef.current = { onTargetClick: props.onTargetClick, onMapClick: props.onMapClick };
  const pickingRef = useRef(props.picking);
  pickingRef.current = props.picking;
  const [following, setFollowing] = useState(true);
  const followingRef = useRef(following);
  followingRef.current = following;
  const nowMs = useNow(1000);

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
    const planPane = map.createPane(PLAN_PANE);
    planPane.style.zIndex = '650';
    planPane.style.pointerEvents = 'none';
    trailRef.current = L.polyline([], {
      className: 'ursa-trail',
      weight: 4,
      interactive: false,
    }).addTo(map);
    previewRef.current = L.layerGroup().addTo(map);
    actionRef.current = L.layerGroup().addTo(map);
    map.on('dragstart', () => setFollowing(false));
    map.on('click', (event: L.LeafletMouseEvent) => {
      if (!pickingRef.current) return;
      callbacksRef.current.onMapClick({ latDeg: event.latlng.lat, lonDeg: event.latlng.lng });
    });
    const resize = new ResizeObserver(() => map.invalidateSize());
    resize.observe(container);
    mapRef.current = map;
    const targetMarkers = targetsRef.current;
    return () => {
      resize.disconnect();
      map.remove();
      mapRef.current = null;
      droneRef.current = null;
      homeRef.current = null;
      trailRef.current = null;
      previewRef.current = null;
      actionRef.current = null;
      targetMarkers.clear();
    };
  }, [tiles.urlTemplate, tiles.attribution, tiles.maxZoom, centerLatDeg, centerLonDeg]);

  const position = props.vehicle?.position ?? null;
  const headingDeg = props.vehicle?.attitude?.yawDeg ?? 0;
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
        interactive: false,
        keyboard: false,
        zIndexOffset: 1000,
        icon: L.divIcon({
          className: 'ursa-drone-icon',
          iconSize: [48, 48],
          iconAnchor: [24, 24],
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
    const trail = trailRef.current;
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
    if (followingRef.current && !nearCentre(map, latLng)) {
      map.panTo(latLng, { animate: true, duration: 0.5 });
    }
  }, [position, headingDeg]);

  useEffect(() => {
    if (following && position && mapRef.current) {
      mapRef.current.panTo([position.latDeg, position.lonDeg]);
    }
    // Only when following is switched back on; position updates pan in the effect above.
  }, [following]);

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
            `<div class="ursa-home" data-testid="map-home" data-lat="${home.latDeg}" ` +
            `data-lon="${home.lonDeg}">H</div>`,
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
      const element = marker.getElement()?.querySelector<HTMLElement>('.ursa-target');
      if (element) {
        element.classList.toggle('selected', target.id === props.selectedTargetId);
        element.dataset.lat = target.position.latDeg.toFixed(7);
        element.dataset.lon = target.position.lonDeg.toFixed(7);
        const label = element.querySelector('.ursa-target-label');
        if (label) label.textContent = targetLabel(target, nowMs);
      }
    }
    for (const [id, marker] of markers) {
      if (seen.has(id)) continue;
      marker.remove();
      markers.delete(id);
    }
  }, [props.targets, props.selectedTargetId, nowMs]);

  useEffect(() => {
    const group = previewRef.current;
    if (!group) return;
    group.clearLayers();
    if (props.preview) {
      for (const layer of planLayers(props.preview, position, 'preview')) group.addLayer(layer);
    }
  }, [props.preview, position]);

  const action = props.action;
  useEffect(() => {
    const group = actionRef.current;
    if (!group) return;
    group.clearLayers();
    if (action && ['starting', 'flying', 'holding'].includes(action.phase)) {
      for (const layer of planLayers(action.plan, position, 'action')) group.addLayer(layer);
    }
  }, [action, position]);

  return (
    <div className={`map-wrap${props.picking ? ' picking' : ''}`}>
      <div ref={containerRef} className="map" data-testid="map" />
      {!following && position ? (
        <button
          type="button"
          className="map-follow"
          data-testid="map-follow"
          onClick={() => setFollowing(true)}
        >
          Follow drone
        </button>
      ) : null}
    </div>
  );
}
