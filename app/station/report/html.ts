// The report for people: one self-contained HTML file (inline CSS, SVG and data: images, and
// a CSP that forbids fetching anything), readable on screen and printed on A4.

import type { HazingEvent } from '../../core/hazing-log';
import type { PatternSettings } from '../../core/patterns';
import { describeSettings } from '../hazing/runner';
import type { GeoDetection } from '../../core/types';
import { ZONE_KIND_VALUES } from '../../core/zones';
import {
  distanceText,
  durationText,
  escapeMarkup as esc,
  latLonText,
  localText,
  utcText,
} from './format';
import type { PlacedEvent } from './geojson';
import { PATH_RAMP, trackColour, ZONE_STYLES, type MapSvg, type MapTrack } from './map-svg';
import type { ReportSummary } from './span';

export interface HtmlKeyFrame {
  timeMs: number;
  frameId: number;
  jpeg: Buffer;
  widthPx: number;
  heightPx: number;
  detections: GeoDetection[];
  caption: string;
}

export interface HtmlSourceFile {
  role: string;
  path: string;
  bytes: number;
  sha256: string | null;
  /** Why there is no checksum, when there is none. */
  problem: string | null;
}

export interface HtmlReportInput {
  title: string;
  sourceFile: string;
  fromMs: number;
  toMs: number;
  generatedMs: number;
  summary: ReportSummary;
  map: MapSvg | null;
  tracks: MapTrack[];
  events: PlacedEvent[];
  keyFrames: HtmlKeyFrame[];
  hazingEvents: HazingEvent[];
  files: HtmlSourceFile[];
  /** The other files of the report folder, for the reader who has only the HTML. */
  companionFiles: string[];
}

const STYLE = `
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 14px/1.45 Helvetica, Arial, sans-serif; color: #1b1b1b; background: #fff;
  margin: 0 auto; padding: 24px; max-width: 1060px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 2px solid #333; padding-bottom: 2px; }
h3 { font-size: 15px; margin: 16px 0 6px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { border: 1px solid #bbb; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eee; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code, .hash { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px;
  word-break: break-all; }
.meta th { width: 28%; }
.summary { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr));
  gap: 8px; margin: 8px 0; }
.summary div { border: 1px solid #ccc; border-radius: 4px; padding: 6px 8px; }
.summary b { display: block; font-size: 18px; }
.report-map { display: block; width: 100%; height: auto; border: 1px solid #999; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 6px 0; font-size: 12px; }
.legend span.swatch { display: inline-block; width: 22px; height: 12px; vertical-align: -1px;
  margin-right: 4px; border: 1px solid #555; }
.ramp { display: inline-block; width: 120px; height: 10px; vertical-align: -1px;
  background: linear-gradient(to right, ${PATH_RAMP.join(', ')}); }
.frames { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
  gap: 12px; }
figure { margin: 0; break-inside: avoid; }
.frame { position: relative; border: 1px solid #999; }
.frame img { display: block; width: 100%; height: auto; }
.frame svg { position: absolute; left: 0; top: 0; width: 100%; height: 100%; }
figcaption { font-size: 12px; margin-top: 3px; }
.hazing-event { border: 1px solid #bbb; border-radius: 4px; padding: 4px 10px 8px;
  margin: 10px 0; break-inside: avoid; }
.outcome { font-weight: bold; }
.kind { white-space: nowrap; }
td.coords, td.coords code { white-space: nowrap; word-break: normal; }
.muted { color: #666; }
footer { margin-top: 32px; font-size: 12px; color: #555; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { padding: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  thead { display: table-header-group; }
  tr, figure, .map-block { break-inside: avoid; }
  .report-map { max-height: 180mm; }
  .frames { grid-template-columns: repeat(2, 1fr); }
}
`;

/**
 * The time and T+ cells. Both from whole seconds truncated, as the time is shown: rows that
 * read the same second read the same T+, and a frame's caption reads the same second too.
 */
export function timeCell(timeMs: number, fromMs: number): string {
  const sinceS = Math.floor(timeMs / 1000) - Math.floor(fromMs / 1000);
  const sign = sinceS < 0 ? '-' : '+';
  const minutes = Math.floor(Math.abs(sinceS) / 60);
  const seconds = String(Math.abs(sinceS) % 60).padStart(2, '0');
  return (
    `<td class="kind">${esc(utcText(timeMs).slice(11))}</td>` +
    `<td class="kind num">T${sign}${minutes}:${seconds}</td>`
  );
}

function countsText(counts: Record<string, number>, plural = (name: string) => name): string {
  return Object.entries(counts)
    .map(([name, count]) => `${count} ${count === 1 ? name : plural(name)}`)
    .join(', ');
}

/** Class names (the detector's COCO names) whose plural is not the name with an s. */
const IRREGULAR_PLURALS: Record<string, string> = {
  person: 'people',
  sheep: 'sheep',
  mouse: 'mice',
  knife: 'knives',
  skis: 'skis',
  scissors: 'scissors',
  broccoli: 'broccoli',
};

/** "people", "dogs", "buses", "wine glasses", "teddy bears": the last word made plural. */
export function classPlural(className: string): string {
  const irregular = IRREGULAR_PLURALS[className];
  if (irregular) return irregular;
  const words = className.split(' ');
  const last = words.pop() ?? '';
  let plural: string;
  if (IRREGULAR_PLURALS[last]) plural = IRREGULAR_PLURALS[last];
  else if (/(s|x|z|ch|sh)$/.test(last)) plural = `${last}es`;
  else if (/[^aeiou]y$/.test(last)) plural = `${last.slice(0, -1)}ies`;
  else plural = `${last}s`;
  return [...words, plural].join(' ');
}

function summaryBlock(summary: ReportSummary): string {
  const altitude =
    summary.maxAltitudeRelM === null
      ? 'no position'
      : `${summary.maxAltitudeRelM.toFixed(0)} m above home`;
  const altitudeMsl =
    summary.maxAltitudeMslM === null ? '' : `${summary.maxAltitudeMslM.toFixed(0)} m MSL`;
  const others = countsText(summary.otherTracks, classPlural);
  const outcomes = countsText(summary.hazingOutcomes);
  const cell = (name: string, value: string, note = ''): string =>
    `<div><span class="muted">${esc(name)}</span><b>${esc(value)}</b>` +
    `${note ? `<span class="muted">${esc(note)}</span>` : ''}</div>`;
  return (
    `<div class="summary" data-testid="summary">` +
    cell(
      'Flight time in span',
      durationText(summary.flightMs),
      `of ${durationText(summary.spanMs)}`,
    ) +
    cell('Distance flown', distanceText(summary.distanceFlownM), 'horizontal, along the path') +
    cell('Max altitude', altitude, altitudeMsl) +
    cell('Bears seen', String(summary.bearTracks), others ? `also ${others}` : '') +
    cell('Hazing events', String(summary.hazingEvents), outcomes) +
    `</div>`
  );
}

function mapLegend(map: MapSvg, fromMs: number, toMs: number): string {
  const zones = ZONE_KIND_VALUES.map((kind) => {
    const style = ZONE_STYLES[kind];
    const fill = kind === 'no-fly' ? style.stroke : style.fill;
    const swatch = `<span class="swatch" style="background:${fill};opacity:0.6"></span>`;
    return `<span>${swatch}${esc(style.label)}</span>`;
  });
  const tiles = map.tiles
    ? `Map tiles at zoom ${map.tiles.zoom}` +
      (map.tiles.attribution ? `: ${esc(map.tiles.attribution)}` : '')
    : 'No map tiles: positions drawn on a plain background.';
  return (
    `<div class="legend"><span>Drone path ${esc(utcText(fromMs).slice(11, 19))} ` +
    `<span class="ramp"></span> ${esc(utcText(toMs).slice(11))}; white dots are UTC time ` +
    `ticks; S start, E end</span>` +
    `<span><span class="swatch" style="background:${trackColour('bear')}"></span>Bear track ` +
    `(dot: last position)</span>` +
    `<span><span class="swatch" style="background:${trackColour('person')}"></span>Person</span>` +
    `${zones.join('')}</div>` +
    `<p class="muted">North up; local metric projection; scale bar ${esc(
      distanceText(map.scaleBarM),
    )}. ${tiles}</p>`
  );
}

function tracksTable(tracks: readonly MapTrack[]): string {
  if (tracks.length === 0) return '<p>No tracks in this span.</p>';
  const rows = tracks.map((track) => {
    const first = track.points[0];
    const last = track.points[track.points.length - 1];
    return (
      `<tr><td class="num">${track.trackId}</td><td>${esc(track.className)}</td>` +
      `<td>${esc(utcText(first.timeMs))}</td><td>${esc(utcText(last.timeMs))}</td>` +
      `<td><code>${esc(latLonText(last))}</code></td>` +
      `<td class="num">${track.points.length}</td></tr>`
    );
  });
  return (
    `<table class="tracks-table"><thead><tr><th>Track</th><th>Class</th>` +
    `<th>First seen in span</th><th>Last seen in span</th>` +
    `<th>Last position (lat, lon)</th><th>Points</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function eventsTable(events: readonly PlacedEvent[], fromMs: number): string {
  if (events.length === 0) return '<p>No events in this span.</p>';
  const rows = events.map(
    (event) =>
      `<tr data-kind="${esc(event.kind)}">${timeCell(event.timeMs, fromMs)}` +
      `<td class="kind">${esc(event.kind)}</td><td>${esc(event.label)}</td>` +
      `<td class="coords">` +
      `${event.position ? `<code>${esc(latLonText(event.position))}</code>` : ''}</td></tr>`,
  );
  return (
    `<table class="events"><thead><tr><th>Time (UTC)</th><th>Since start</th><th>Kind</th>` +
    `<th>What</th><th>Drone at (lat, lon)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function detectionLabel(detection: GeoDetection): string {
  const track =
    detection.trackId === undefined || detection.trackId === null ? '' : ` #${detection.trackId}`;
  return `${detection.className} ${Math.round(detection.score * 100)}%${track}`;
}

function keyFrameFigure(frame: HtmlKeyFrame): string {
  const { widthPx, heightPx } = frame;
  const boxes = frame.detections.map((detection) => {
    const scaleX = detection.imageWidth > 0 ? widthPx / detection.imageWidth : 1;
    const scaleY = detection.imageHeight > 0 ? heightPx / detection.imageHeight : 1;
    const [left, top, width, height] = detection.box;
    const x = left * scaleX;
    const y = top * scaleY;
    const colour = detection.className === 'bear' ? '#ff8c00' : '#00d0ff';
    const labelY = y > 24 ? y - 6 : y + 18;
    const stroke = Math.max(2, widthPx / 200);
    return (
      `<g class="detection" data-class="${esc(detection.className)}">` +
      `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(width * scaleX).toFixed(1)}"` +
      ` height="${(height * scaleY).toFixed(1)}" fill="none" stroke="#000"` +
      ` stroke-width="${(stroke * 2).toFixed(1)}" stroke-opacity="0.6"/>` +
      `<rect class="box" x="${x.toFixed(1)}" y="${y.toFixed(1)}"` +
      ` width="${(width * scaleX).toFixed(1)}" height="${(height * scaleY).toFixed(1)}"` +
      ` fill="none" stroke="${colour}" stroke-width="${stroke.toFixed(1)}"/>` +
      `<text x="${(x + 2).toFixed(1)}" y="${labelY.toFixed(1)}"` +
      ` font-size="${Math.max(14, widthPx / 30).toFixed(0)}" font-family="Helvetica, Arial"` +
      ` font-weight="bold" fill="${colour}" stroke="#000" stroke-width="3"` +
      ` paint-order="stroke">${esc(detectionLabel(detection))}</text></g>`
    );
  });
  const caption = frame.caption ? ` — ${esc(frame.caption)}` : '';
  return (
    `<figure class="key-frame" data-frame-id="${frame.frameId}">` +
    `<div class="frame"><img class="frame-image" width="${widthPx}" height="${heightPx}"` +
    ` alt="${esc(`Video frame ${frame.frameId}`)}"` +
    ` src="data:image/jpeg;base64,${frame.jpeg.toString('base64')}">` +
    `<svg class="frame-boxes" viewBox="0 0 ${widthPx} ${heightPx}"` +
    ` preserveAspectRatio="none">${boxes.join('')}</svg></div>` +
    `<figcaption><b>${esc(utcText(frame.timeMs))}</b>, frame ${frame.frameId}, ` +
    `${frame.detections.length} detection${frame.detections.length === 1 ? '' : 's'}` +
    `${caption}</figcaption></figure>`
  );
}

/** Whole units, or tenths below 10 (a speed of 4.5 m/s): what a person reads. */
function roundForPeople(value: number): number {
  return Math.abs(value) < 10 ? Math.round(value * 10) / 10 : Math.round(value);
}

/** The pattern in the words the station logs it with, its numbers rounded for people. */
export function patternText(pattern: PatternSettings): string {
  const rounded = Object.fromEntries(
    Object.entries(pattern).map(([name, value]) => [
      name,
      typeof value === 'number' ? roundForPeople(value) : value,
    ]),
  ) as PatternSettings;
  return describeSettings(rounded);
}

/**
 * A hold's detail is "rule: text", and most rules' text starts with the rule's name already
 * ("person: person 29.1 m from the path"): said once.
 */
export function actionDetailText(detail: string): string {
  const ruled = /^([A-Za-z][\w-]*): (.+)$/s.exec(detail);
  if (!ruled) return detail;
  const [, rule, text] = ruled;
  const repeats = text.startsWith(rule) && !/[\w-]/.test(text.charAt(rule.length));
  return repeats ? text : detail;
}

function hazingBlock(event: HazingEvent, fromMs: number): string {
  const rows: Array<[string, string]> = [
    ['Operator', event.operator.operatorName],
    ['Agency or permit', event.operator.agencyOrPermitId],
    ['Bear track', event.trackId === null ? 'none (search)' : `#${event.trackId}`],
    ['Pattern', patternText(event.pattern)],
    ['Started', utcText(event.startedMs)],
    ['Ended', event.endedMs === null ? 'not ended in the record' : utcText(event.endedMs)],
    ['Duration', event.durationS === null ? 'not known' : durationText(event.durationS * 1000)],
    ['Bear moved', event.bearMovedM === null ? 'not known' : distanceText(event.bearMovedM)],
    [
      'Bear start → end',
      [event.bearStart, event.bearEnd].map((p) => (p ? latLonText(p) : '?')).join(' → '),
    ],
    ['Outcome', event.outcome ?? 'in progress'],
  ];
  const actions = event.actions.map(
    (action) =>
      `<tr>${timeCell(action.timeMs, fromMs)}<td class="kind">${esc(action.action)}</td>` +
      `<td>${esc(actionDetailText(action.detail))}</td></tr>`,
  );
  return (
    `<div class="hazing-event" data-hazing-id="${esc(event.id)}">` +
    `<h3>Hazing ${esc(event.id)}: ` +
    `<span class="outcome">${esc(event.outcome ?? 'in progress')}</span></h3>` +
    `<table class="meta"><tbody>${rows
      .map(([name, value]) => `<tr><th>${esc(name)}</th><td>${esc(value)}</td></tr>`)
      .join('')}</tbody></table>` +
    (actions.length === 0
      ? '<p>No operator actions recorded.</p>'
      : `<table class="actions"><thead><tr><th>Time (UTC)</th><th>Since start</th>` +
        `<th>Action</th><th>Detail</th></tr></thead><tbody>${actions.join('')}</tbody></table>`) +
    `</div>`
  );
}

function filesTable(files: readonly HtmlSourceFile[]): string {
  if (files.length === 0) return '<p>No source files listed.</p>';
  const rows = files.map(
    (file) =>
      `<tr><td>${esc(file.role)}</td><td><code>${esc(file.path)}</code></td>` +
      `<td class="num">${file.bytes.toLocaleString('en-US')}</td>` +
      `<td class="hash">${
        file.sha256 ? esc(file.sha256) : `<span class="muted">${esc(file.problem ?? 'none')}</span>`
      }</td></tr>`,
  );
  return (
    `<table class="files"><thead><tr><th>Role</th><th>Path</th><th>Bytes</th>` +
    `<th>SHA-256</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

export function renderReportHtml(input: HtmlReportInput): string {
  const { fromMs, toMs } = input;
  const map = input.map
    ? `<div class="map-block">${input.map.svg}${mapLegend(input.map, fromMs, toMs)}</div>`
    : '<p>No positions in this span: there is no map.</p>';
  const frames =
    input.keyFrames.length === 0
      ? '<p>No key video frames in this span.</p>'
      : `<div class="frames">${input.keyFrames.map(keyFrameFigure).join('')}</div>`;
  const hazing =
    input.hazingEvents.length === 0
      ? '<p>No hazing in this span.</p>'
      : input.hazingEvents.map((event) => hazingBlock(event, fromMs)).join('');
  const meta: Array<[string, string]> = [
    ['Source', input.sourceFile],
    ['From', `${utcText(fromMs)} — local ${localText(fromMs, true)}`],
    ['To', `${utcText(toMs)} — local ${localText(toMs, true)}`],
    ['Span', durationText(toMs - fromMs)],
    ['Made', `${utcText(input.generatedMs)} — local ${localText(input.generatedMs, true)}`],
  ];
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy"` +
    ` content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<title>${esc(input.title)}</title><style>${STYLE}</style></head>\n<body>` +
    `<header><h1>${esc(input.title)}</h1><p class="muted">Ursa incident report</p>` +
    `<table class="meta"><tbody>${meta
      .map(([name, value]) => `<tr><th>${esc(name)}</th><td>${esc(value)}</td></tr>`)
      .join('')}</tbody></table></header>\n` +
    `<section><h2>Summary</h2>${summaryBlock(input.summary)}</section>\n` +
    `<section><h2>Map</h2>${map}</section>\n` +
    `<section><h2>Tracks</h2>${tracksTable(input.tracks)}</section>\n` +
    `<section><h2>Events</h2>${eventsTable(input.events, fromMs)}</section>\n` +
    `<section><h2>Key video frames</h2>${frames}</section>\n` +
    `<section><h2>Hazing log</h2>${hazing}</section>\n` +
    `<section><h2>Files and checksums</h2>${filesTable(input.files)}` +
    `<p class="muted">The same checksums are in <code>sources.sha256</code>; the report's own ` +
    `files (${input.companionFiles.map(esc).join(', ')}) are in <code>SHA256SUMS</code>: ` +
    `check them with <code>sha256sum -c</code>.</p></section>\n` +
    `<footer>Made by Ursa. Times are UTC unless marked local.</footer>\n</body></html>\n`
  );
}
