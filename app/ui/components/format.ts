// Numbers for people in a hurry: few digits, units always shown, 24-hour clocks; and the
// escaping for the HTML strings Leaflet's icons are built from.

import { escapeMarkup } from '../../core/markup';

export function formatAgeS(ageMs: number): string {
  const ageS = Math.max(0, Math.round(ageMs / 1000));
  if (ageS < 60) return `${ageS} s`;
  const minutes = Math.floor(ageS / 60);
  return `${minutes} min ${ageS % 60} s`;
}

export function formatPct(fraction: number): string {
  return `${Math.round(fraction * 100)}%`;
}

/**
 * toFixed without "-0": a value that rounds to zero reads as zero, whichever side it came from
 * ("-0 m of 200 m" reads as a bear pushed backwards).
 */
export function toFixedSigned(value: number, digits: number): string {
  const text = value.toFixed(digits);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

export function formatM(meters: number): string {
  return Math.abs(meters) >= 1000
    ? `${toFixedSigned(meters / 1000, 2)} km`
    : `${toFixedSigned(meters, 0)} m`;
}

/** A bearing, 0..359°: -10 reads as 350°, 359.6 as 0°. */
export function formatDeg(deg: number): string {
  return `${((Math.round(deg) % 360) + 360) % 360}°`;
}

const pad2 = (value: number): string => String(value).padStart(2, '0');

/** Local time of day on a 24-hour clock, HH:MM, as every other time on the screen. */
export function formatClockHm(timeMs: number): string {
  const date = new Date(timeMs);
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}`;
}

/** Text made safe inside HTML (one escape table for the app: app/core/markup.ts). */
export const escapeHtml = escapeMarkup;

/**
 * A number for an HTML string, to the digits given; empty where the value is no finite number
 * (a record may carry a string where a number belongs: it must neither draw nor inject).
 */
export function htmlNumber(value: unknown, digits: number): string {
  return typeof value === 'number' && Number.isFinite(value) ? toFixedSigned(value, digits) : '';
}

const COMPASS = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'];

export function compassName(deg: number): string {
  return COMPASS[Math.round((((deg % 360) + 360) % 360) / 45) % 8]!;
}

/** "1 action", "2 actions": the plural only where it is needed. */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

export function titleCase(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function commandLabel(kind: string): string {
  switch (kind) {
    case 'arm-takeoff':
      return 'Arm + take off';
    case 'start-pattern':
      return 'Start pattern';
    case 'nudge':
      return 'Nudge';
    case 'land':
      return 'Land here';
    case 'speaker':
      return 'Speaker';
    case 'set-operator':
      return 'Hazing operator';
    case 'mark-person':
      return 'Mark a person';
    case 'remove-person':
      return 'Remove person';
    case 'abort':
      return 'ABORT';
    case 'return-home':
      return 'Return home';
    case 'select-vehicle':
      return 'Make active';
    case 'point-camera':
      return 'Point camera';
    case 'look-at':
      return 'Look at';
    default:
      return kind;
  }
}
