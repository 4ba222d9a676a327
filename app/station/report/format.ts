// Text helpers shared by the report's formats: escaping, times, CSV cells and checksum lines.

import { csvField } from '../../core/hazing-log';
import { escapeMarkup } from '../../core/markup';
import type { LatLon } from '../../core/types';

export { escapeMarkup };

// XML 1.0 forbids most control characters even as references; a label holding one must still
// leave a file that parses.
const XML_FORBIDDEN = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;

export function escapeXml(text: string): string {
  return escapeMarkup(text.replace(XML_FORBIDDEN, '\ufffd'));
}

export function isoTime(timeMs: number): string {
  return new Date(timeMs).toISOString();
}

/** "2026-12-04 21:58:03 UTC". */
export function utcText(timeMs: number): string {
  return `${new Date(timeMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** The station's local time with its offset at that moment: "14:58:03 (UTC-07:00)". */
export function localText(timeMs: number, withDate = false): string {
  const offsetMin = -new Date(timeMs).getTimezoneOffset();
  const local = new Date(timeMs + offsetMin * 60_000).toISOString();
  const sign = offsetMin < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offsetMin) / 60)).padStart(2, '0');
  const minutes = String(Math.abs(offsetMin) % 60).padStart(2, '0');
  const clock = withDate ? local.slice(0, 19).replace('T', ' ') : local.slice(11, 19);
  return `${clock} (UTC${sign}${hours}:${minutes})`;
}

/** "1 h 02 min 03 s", "4 min 05 s", "12.3 s". */
export function durationText(durationMs: number): string {
  const totalS = Math.max(0, durationMs) / 1000;
  if (totalS < 60) return `${totalS.toFixed(1)} s`;
  const rounded = Math.round(totalS);
  const hours = Math.floor(rounded / 3600);
  const minutes = Math.floor((rounded % 3600) / 60);
  const seconds = String(rounded % 60).padStart(2, '0');
  if (hours === 0) return `${minutes} min ${seconds} s`;
  return `${hours} h ${String(minutes).padStart(2, '0')} min ${seconds} s`;
}

export function distanceText(distanceM: number): string {
  return distanceM >= 1000 ? `${(distanceM / 1000).toFixed(2)} km` : `${distanceM.toFixed(0)} m`;
}

export function latLonText(point: LatLon): string {
  return `${point.latDeg.toFixed(6)}, ${point.lonDeg.toFixed(6)}`;
}

/** Rows joined with CRLF, as RFC 4180 has them, ending in one. */
export function csvDocument(rows: readonly string[][]): string {
  return rows.map((row) => row.map(csvField).join(',')).join('\r\n') + '\r\n';
}

/**
 * One line as `sha256sum` writes it (text mode): a name holding a backslash or a line break
 * is escaped and the line starts with a backslash, so `sha256sum -c` reads it back.
 */
export function sha256Line(sha256: string, name: string): string {
  if (!/[\\\n]/.test(name)) return `${sha256}  ${name}\n`;
  const escaped = name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  return `\\${sha256}  ${escaped}\n`;
}
