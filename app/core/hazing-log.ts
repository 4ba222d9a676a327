// The hazing log: a legal record. Using aircraft to harass wildlife is a crime in the US except
// for agency staff and permit holders, so every hazing event says who, under what authority,
// which bear, what was flown, what happened, and every operator action with its time. Pure:
// no Node or DOM.

import type { PatternSettings } from './patterns';
import type { LatLon } from './types';

export interface HazingOperator {
  operatorName: string;
  /** The agency, or the permit number the hazing is done under. */
  agencyOrPermitId: string;
}

export type HazingOutcome =
  | 'success'
  | 'finished'
  | 'aborted'
  | 'failed'
  | 'battery'
  | 'link-lost'
  | 'mode-changed'
  | 'lost-bear';

export interface HazingAction {
  timeMs: number;
  /** e.g. start, nudge, abort, return-home, land, speaker-on, hold (a rule stopped it). */
  action: string;
  detail: string;
}

export interface HazingEvent {
  /** Unique within the flight record, e.g. "2026-12-04T21-58-00Z-1". */
  id: string;
  operator: HazingOperator;
  /** The bear's track id; null for a search. */
  trackId: number | null;
  pattern: PatternSettings;
  startedMs: number;
  /** Null while it flies. */
  endedMs: number | null;
  bearStart: LatLon | null;
  bearEnd: LatLon | null;
  droneStart: LatLon | null;
  droneEnd: LatLon | null;
  /** Straight-line distance between bearStart and bearEnd. */
  bearMovedM: number | null;
  durationS: number | null;
  /** Null while it flies. */
  outcome: HazingOutcome | null;
  actions: HazingAction[];
}

/** What the operator name and the agency or permit id may be, after trimming. */
export const HAZING_OPERATOR_LIMITS = { minLength: 1, maxLength: 80 } as const;

const OPERATOR_FIELDS: Record<keyof HazingOperator, string> = {
  operatorName: 'operator name',
  agencyOrPermitId: 'agency or permit id',
};

// Control characters (tabs, newlines, escapes) would let one field forge columns or lines of
// the legal record, so only printable characters are taken.
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/** Checks who hazes under what authority; throws an Error naming the field that is wrong. */
export function checkHazingOperator(value: unknown): HazingOperator {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error('hazing operator must be an object with operatorName and agencyOrPermitId');
  }
  const record = value as Record<string, unknown>;
  const checked = {} as HazingOperator;
  for (const field of Object.keys(OPERATOR_FIELDS) as Array<keyof HazingOperator>) {
    const words = `${OPERATOR_FIELDS[field]} (${field})`;
    const raw = record[field];
    if (typeof raw !== 'string') throw new Error(`${words} is required and must be text`);
    const trimmed = raw.trim();
    const { minLength, maxLength } = HAZING_OPERATOR_LIMITS;
    if (trimmed.length < minLength) throw new Error(`${words} is required: it is empty`);
    if ([...trimmed].length > maxLength) {
      throw new Error(`${words} is longer than ${maxLength} characters`);
    }
    if (UNPRINTABLE.test(trimmed)) {
      throw new Error(`${words} holds a control character; use printable characters only`);
    }
    checked[field] = trimmed;
  }
  return checked;
}

export const HAZING_CSV_COLUMNS = [
  'id',
  'operator',
  'agency_or_permit',
  'track_id',
  'pattern',
  'settings',
  'start_time',
  'end_time',
  'bear_start_lat',
  'bear_start_lon',
  'bear_end_lat',
  'bear_end_lon',
  'drone_start_lat',
  'drone_start_lon',
  'drone_end_lat',
  'drone_end_lon',
  'bear_moved_m',
  'duration_s',
  'outcome',
  'actions',
] as const;

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/**
 * A text cell that a spreadsheet would run as a formula (=, +, -, @, tab or CR first) starts
 * with an apostrophe instead, as OWASP advises for CSV injection: operator names, ids and
 * details come from people. Numbers never pass through here, so -111.95 stays a number.
 */
export function csvTextCell(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}

function isoTime(timeMs: number | null): string {
  return timeMs === null || !Number.isFinite(timeMs) ? '' : new Date(timeMs).toISOString();
}

function numberText(value: number | null | undefined, decimals?: number): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '';
  return decimals === undefined ? String(value) : value.toFixed(decimals);
}

function latLonTexts(point: LatLon | null): [string, string] {
  return point ? [numberText(point.latDeg), numberText(point.lonDeg)] : ['', ''];
}

/**
 * One row per event under a header row (always there), CRLF line ends as RFC 4180 has them.
 * The actions column is a JSON array of {time, action, detail}: details hold commas and
 * semicolons of their own, so no separator inside one cell could split them back.
 */
export function hazingEventsToCsv(events: readonly HazingEvent[]): string {
  const rows: string[][] = [[...HAZING_CSV_COLUMNS]];
  for (const event of events) {
    const actions = event.actions.map((action) => ({
      time: isoTime(action.timeMs) || null,
      action: action.action,
      detail: action.detail,
    }));
    rows.push([
      csvTextCell(event.id),
      csvTextCell(event.operator.operatorName),
      csvTextCell(event.operator.agencyOrPermitId),
      event.trackId === null ? '' : numberText(event.trackId),
      csvTextCell(event.pattern.kind),
      csvTextCell(JSON.stringify(event.pattern)),
      isoTime(event.startedMs),
      isoTime(event.endedMs),
      ...latLonTexts(event.bearStart),
      ...latLonTexts(event.bearEnd),
      ...latLonTexts(event.droneStart),
      ...latLonTexts(event.droneEnd),
      numberText(event.bearMovedM, 1),
      numberText(event.durationS, 1),
      csvTextCell(event.outcome ?? ''),
      csvTextCell(JSON.stringify(actions)),
    ]);
  }
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}
