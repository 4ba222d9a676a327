// A hazing pattern as the operator prepares it: the numbers as typed, the points tapped on the
// map, and the words that say what will be flown. Pure: the panels and the map draw from it.

import { bearingDeg, distanceM, northEastOf } from '../../core/geodesy';
import {
  checkPatternSettings,
  PATTERN_DEFAULTS,
  PATTERN_RANGES,
  type PatternKind,
  type PatternSettings,
} from '../../core/patterns';
import type { EnvelopeLimits } from '../../core/envelope';
import type { StationDefaults } from '../../core/protocol';
import type { LatLon } from '../../core/types';
import { compassName } from './format';

export interface PatternDraft {
  kind: PatternKind;
  /** The bear it follows: push, orbit and shadow; null for zigzag and search. */
  targetId: number | null;
  /** Each numeric setting as typed, by its name in PatternSettings. */
  fields: Record<string, string>;
  /** Push: null until the operator taps the safe direction or picks a safe area. */
  safeBearingDeg: number | null;
  safeZoneId: number | null;
  onSuccess: 'hold' | 'return';
  clockwise: boolean;
  /** Zigzag: the two ends of the line; search: the polygon's corners, as tapped. */
  points: LatLon[];
  /** Search over a drawn zone instead of tapped corners. */
  areaZoneId: number | null;
}

export interface FieldSpec {
  key: string;
  label: string;
  unit: string;
}

export const PATTERN_FIELDS: Record<PatternKind, FieldSpec[]> = {
  push: [
    { key: 'standoffM', label: 'Standoff behind', unit: 'm' },
    { key: 'altitudeAglM', label: 'Height above ground', unit: 'm' },
    { key: 'successDistanceM', label: 'Succeeds when moved', unit: 'm' },
  ],
  orbit: [
    { key: 'radiusM', label: 'Radius', unit: 'm' },
    { key: 'speedMps', label: 'Speed', unit: 'm/s' },
    { key: 'altitudeAglM', label: 'Height above ground', unit: 'm' },
  ],
  zigzag: [
    { key: 'halfWidthM', label: 'Reach each side', unit: 'm' },
    { key: 'legSpacingM', label: 'Leg spacing', unit: 'm' },
    { key: 'altitudeAglM', label: 'Height above ground', unit: 'm' },
    { key: 'speedMps', label: 'Speed', unit: 'm/s' },
  ],
  search: [
    { key: 'altitudeAglM', label: 'Height above ground', unit: 'm' },
    { key: 'overlapPct', label: 'Side overlap', unit: '%' },
    { key: 'speedMps', label: 'Speed', unit: 'm/s' },
  ],
  shadow: [
    { key: 'offsetM', label: 'Distance from bear', unit: 'm' },
    { key: 'offsetBearingDeg', label: 'Side of the bear', unit: 'deg' },
    { key: 'altitudeAglM', label: 'Height above ground', unit: 'm' },
  ],
};

export const PATTERN_NAMES: Record<PatternKind, string> = {
  push: 'Push',
  orbit: 'Orbit',
  zigzag: 'Zigzag',
  search: 'Search',
  shadow: 'Shadow',
};

function coreDefault(kind: PatternKind, key: string): unknown {
  const defaults: Record<string, unknown> = PATTERN_DEFAULTS[kind];
  return defaults[key];
}

export interface FieldRange {
  min: number;
  max: number;
  /** Words for where the envelope narrowed the core's range: "envelope floor 30 m". */
  narrowedBy: string | null;
}

/**
 * The range the core allows for one setting, shown beside its field; heights narrowed to the
 * envelope's floor and ceiling, since the station holds at any setpoint outside them.
 */
export function fieldRange(
  kind: PatternKind,
  key: string,
  envelope?: Pick<EnvelopeLimits, 'floorAglM' | 'ceilingAglM'>,
): FieldRange | null {
  const ranges: Record<string, { min: number; max: number } | undefined> = PATTERN_RANGES[kind];
  const range = ranges[key];
  if (!range) return null;
  if (key !== 'altitudeAglM' || !envelope) return { ...range, narrowedBy: null };
  const min = Math.max(range.min, envelope.floorAglM);
  const max = Math.min(range.max, envelope.ceilingAglM);
  const why: string[] = [];
  if (min > range.min) why.push(`envelope floor ${envelope.floorAglM} m`);
  if (max < range.max) why.push(`envelope ceiling ${envelope.ceilingAglM} m`);
  // A floor above the pattern's top leaves no height at all: say so rather than invert.
  if (min > max) return { min, max: min, narrowedBy: `${why.join(', ')}: no height fits` };
  return { min, max, narrowedBy: why.length > 0 ? why.join(', ') : null };
}

export function newPatternDraft(
  kind: PatternKind,
  targetId: number | null,
  defaults: StationDefaults,
): PatternDraft {
  const fields: Record<string, string> = {};
  for (const { key } of PATTERN_FIELDS[kind]) {
    const value = coreDefault(kind, key);
    fields[key] = typeof value === 'number' ? String(value) : '';
  }
  // The station's configured push standoff and height win over the core's defaults.
  if (kind === 'push') {
    fields.standoffM = String(defaults.standoffM);
    fields.altitudeAglM = String(defaults.pushAltitudeM);
  }
  // A default height under the envelope's floor would only hold: start inside it.
  const height = fieldRange(kind, 'altitudeAglM', defaults.envelope);
  const heightM = Number(fields.altitudeAglM);
  if (height && Number.isFinite(heightM)) {
    fields.altitudeAglM = String(Math.min(height.max, Math.max(height.min, heightM)));
  }
  const onSuccess = coreDefault('push', 'onSuccess');
  const clockwise = coreDefault('orbit', 'clockwise');
  return {
    kind,
    targetId,
    fields,
    safeBearingDeg: null,
    safeZoneId: null,
    onSuccess: onSuccess === 'return' ? 'return' : 'hold',
    clockwise: clockwise !== false,
    points: [],
    areaZoneId: null,
  };
}

/** A tap on the map while the draft is open: what it sets depends on the pattern. */
export function tapDraft(draft: PatternDraft, point: LatLon, bear: LatLon | null): PatternDraft {
  switch (draft.kind) {
    case 'push':
      if (!bear) return draft;
      return { ...draft, safeBearingDeg: bearingDeg(bear, point), safeZoneId: null };
    case 'shadow':
      if (!bear) return draft;
      return {
        ...draft,
        fields: { ...draft.fields, offsetBearingDeg: bearingDeg(bear, point).toFixed(0) },
      };
    case 'zigzag':
      // A third tap starts a new line: gloves miss, and the line is only two points.
      return { ...draft, points: draft.points.length >= 2 ? [point] : [...draft.points, point] };
    case 'search':
      return { ...draft, points: [...draft.points, point], areaZoneId: null };
    default:
      return draft;
  }
}

/** What the map should ask for next, or null when the draft needs no more taps. */
export function draftMapHint(draft: PatternDraft, targetName: string): string | null {
  switch (draft.kind) {
    case 'push':
      return draft.safeBearingDeg === null && draft.safeZoneId === null
        ? `Tap where the ${targetName} should go`
        : null;
    case 'zigzag':
      return draft.points.length < 2
        ? `Tap ${draft.points.length === 0 ? 'one end' : 'the other end'} of the line to sweep`
        : null;
    case 'search':
      return draft.areaZoneId === null
        ? `Tap each corner of the area to search (${draft.points.length} so far)`
        : null;
    default:
      return null;
  }
}

/** The settings the draft makes, or words saying what is missing or wrong. */
export function draftSettings(
  draft: PatternDraft,
  zonePolygon: (zoneId: number) => LatLon[] | null,
  envelope?: Pick<EnvelopeLimits, 'floorAglM' | 'ceilingAglM'>,
): { settings: PatternSettings } | { error: string } {
  const numbers: Record<string, number> = {};
  for (const field of PATTERN_FIELDS[draft.kind]) {
    const text = draft.fields[field.key] ?? '';
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value)) {
      return { error: `Enter ${field.label.toLowerCase()} (${field.unit})` };
    }
    const range = fieldRange(draft.kind, field.key, envelope);
    if (range?.narrowedBy && (value < range.min || value > range.max)) {
      return {
        error:
          `${field.label} ${value} ${field.unit} is outside ${range.min}-${range.max} ` +
          `${field.unit} (${range.narrowedBy})`,
      };
    }
    numbers[field.key] = value;
  }
  let value: Record<string, unknown>;
  switch (draft.kind) {
    case 'push':
      if (draft.safeBearingDeg === null && draft.safeZoneId === null) {
        return { error: 'Tap the map where the bear should go, or pick a safe area' };
      }
      value = {
        kind: 'push',
        ...numbers,
        safeBearingDeg: draft.safeBearingDeg ?? 0,
        safeZoneId: draft.safeZoneId,
        onSuccess: draft.onSuccess,
      };
      break;
    case 'orbit':
      value = { kind: 'orbit', ...numbers, clockwise: draft.clockwise };
      break;
    case 'zigzag':
      if (draft.points.length < 2) return { error: 'Tap both ends of the line on the map' };
      value = { kind: 'zigzag', ...numbers, line: [draft.points[0], draft.points[1]] };
      break;
    case 'search': {
      const polygon =
        draft.areaZoneId !== null ? zonePolygon(draft.areaZoneId) : draft.points.slice();
      if (!polygon || polygon.length < 3) {
        return { error: 'Tap at least 3 corners of the area, or pick a zone' };
      }
      value = { kind: 'search', ...numbers, polygon };
      break;
    }
    case 'shadow':
      value = { kind: 'shadow', ...numbers };
      break;
  }
  try {
    return { settings: checkPatternSettings(value, 'The pattern') };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

function m(value: number): string {
  return `${Math.round(value)} m`;
}

function direction(bearing: number): string {
  const deg = Math.round(((bearing % 360) + 360) % 360) % 360;
  return `${compassName(deg)} (${deg} deg)`;
}

/** Area of a small polygon on the ground, in square metres (flat-earth, like the zones). */
export function polygonAreaM2(polygon: readonly LatLon[]): number {
  if (polygon.length < 3) return 0;
  const origin = polygon[0];
  const points = polygon.map((corner) => northEastOf(origin, corner));
  let twiceArea = 0;
  points.forEach((point, index) => {
    const next = points[(index + 1) % points.length];
    twiceArea += point.eastM * next.northM - next.eastM * point.northM;
  });
  return Math.abs(twiceArea) / 2;
}

/** The plan in words, shown on the hold-to-start button's card and logged nowhere else. */
export function describePattern(
  settings: PatternSettings,
  targetId: number | null,
  zoneName: (zoneId: number) => string | null,
): string {
  const bear = targetId === null ? 'the bear' : `bear #${targetId}`;
  switch (settings.kind) {
    case 'push': {
      const zone = settings.safeZoneId !== null ? zoneName(settings.safeZoneId) : null;
      const toward =
        settings.safeZoneId !== null
          ? `into the safe area "${zone ?? `#${settings.safeZoneId}`}"`
          : `toward ${direction(settings.safeBearingDeg)}`;
      const then = settings.onSuccess === 'return' ? 'then return home' : 'then hold';
      return (
        `Push ${bear} ${toward} from ${m(settings.standoffM)} behind at ` +
        `${m(settings.altitudeAglM)}; succeeds at ${m(settings.successDistanceM)}, ${then}`
      );
    }
    case 'orbit':
      return (
        `Orbit ${bear} at ${m(settings.radiusM)} radius, ${settings.speedMps} m/s ` +
        `${settings.clockwise ? 'clockwise' : 'counter-clockwise'}, at ${m(settings.altitudeAglM)}`
      );
    case 'zigzag':
      return (
        `Zigzag along a ${m(distanceM(settings.line[0], settings.line[1]))} line, ` +
        `${m(settings.halfWidthM)} each side, legs every ${m(settings.legSpacingM)}, at ` +
        `${m(settings.altitudeAglM)}, ${settings.speedMps} m/s`
      );
    case 'search': {
      const hectares = polygonAreaM2(settings.polygon) / 10_000;
      return (
        `Search ${hectares.toFixed(1)} ha (${settings.polygon.length} corners) at ` +
        `${m(settings.altitudeAglM)}, ${settings.overlapPct}% overlap, ${settings.speedMps} m/s`
      );
    }
    case 'shadow':
      return (
        `Shadow ${bear} from ${m(settings.offsetM)} to its ` +
        `${direction(settings.offsetBearingDeg)} at ${m(settings.altitudeAglM)}`
      );
  }
}
