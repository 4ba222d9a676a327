// The replay's timeline across the bottom of the screen: play, speed, frame steps, a typed
// time, and a full-width track with the log's breaks, its markers, the report span and a
// playhead to drag. The station owns the playhead; this bar asks it to move and shows where
// it is. Its styles are in replay.css, imported by App so that tests can import these helpers.

import { useEffect, useRef, useState, type PointerEvent as ReactPointerEvent } from 'react';
import {
  REPLAY_SPEEDS,
  type LastKnown,
  type ReplayBreak,
  type ReplayControl,
  type ReplayMarker,
  type ReplayMarkerKind,
  type ReplayStatus,
  type ReplayView,
  type TrackLastKnown,
} from '../../core/replay';
import type { CommandOutcome } from '../../core/types';
import { formatAgeS } from './format';

/** Warnings shown in full on the bar; the rest fold away under a count. */
const WARNINGS_SHOWN = 2;
/** A refusal of a control or a typed time stays this long, then goes. */
export const NOTICE_SHOW_MS = 6_000;
/** Seeks sent while the playhead is dragged: about ten a second, as the station can answer. */
export const DRAG_SEEK_PERIOD_MS = 100;

/** Marker kinds in the legend's order, with the words the investigator reads. */
export const MARKER_KINDS: ReadonlyArray<{ kind: ReplayMarkerKind; label: string }> = [
  { kind: 'detection', label: 'Detection' },
  { kind: 'alert', label: 'Alert' },
  { kind: 'mode', label: 'Mode change' },
  { kind: 'link-lost', label: 'Link lost' },
  { kind: 'link-back', label: 'Link back' },
  { kind: 'hazing-start', label: 'Hazing start' },
  { kind: 'hazing-end', label: 'Hazing end' },
  { kind: 'abort', label: 'ABORT' },
  { kind: 'command', label: 'Command' },
];

export function markerKindLabel(kind: ReplayMarkerKind): string {
  return MARKER_KINDS.find((entry) => entry.kind === kind)?.label ?? kind;
}

/**
 * A tick's tooltip: "15:20:05 Mode change: Mode AUTO -> RTL". A label that already opens with
 * the kind's words ("Link lost: no heartbeat") is not prefixed with them again.
 */
export function markerTitle(marker: ReplayMarker): string {
  const kindLabel = markerKindLabel(marker.kind);
  const label = marker.label.trim();
  const opensWithKind =
    label.toLowerCase().startsWith(kindLabel.toLowerCase()) &&
    !/[\p{L}\p{N}]/u.test(label.charAt(kindLabel.length));
  return `${formatClock(marker.timeMs)} ${opensWithKind ? label : `${kindLabel}: ${label}`}`;
}

const pad2 = (value: number): string => String(value).padStart(2, '0');

/** Local wall-clock time of day, HH:MM:SS. */
export function formatClock(timeMs: number): string {
  const date = new Date(timeMs);
  return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** Local wall-clock time of day to the tenth, HH:MM:SS.s: a frame step shows in it. */
export function formatClockTenths(timeMs: number): string {
  const tenths = Math.floor(new Date(timeMs).getMilliseconds() / 100);
  return `${formatClock(timeMs)}.${tenths}`;
}

/** The time field: tenths while paused, where a step is a tenth or two; whole seconds in play. */
export function timeFieldText(timeMs: number, playing: boolean): string {
  return playing ? formatClock(timeMs) : formatClockTenths(timeMs);
}

/** Local date, YYYY-MM-DD. */
export function formatDate(timeMs: number): string {
  const date = new Date(timeMs);
  return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`;
}

/** A length of time in the fewest words: "12 s", "8 min", "1 h 5 min", "3 days". */
export function formatSpan(spanMs: number): string {
  const totalS = Math.round(Math.abs(spanMs) / 1000);
  if (totalS < 60) return `${totalS} s`;
  const totalMin = Math.round(totalS / 60);
  if (totalMin < 60) return `${totalMin} min`;
  const hours = Math.floor(totalMin / 60);
  if (hours < 48) return totalMin % 60 === 0 ? `${hours} h` : `${hours} h ${totalMin % 60} min`;
  return `${Math.round(hours / 24)} days`;
}

/** "gap 56 min", "log jumps back 8 min": what a break on the track says. */
export function breakLabel(brk: ReplayBreak): string {
  return brk.kind === 'gap'
    ? `gap ${formatSpan(brk.toMs - brk.fromMs)}`
    : `log jumps back ${formatSpan(brk.fromMs - brk.toMs)}`;
}

/**
 * The wall-clock time at an axis position, from the breaks alone: runs of records follow
 * the axis one to one, a gap maps linearly across, a jump back holds its start.
 */
export function axisToTimeMs(
  axisMs: number,
  startMs: number,
  breaks: readonly ReplayBreak[],
): { timeMs: number; inBreak: ReplayBreak | null } {
  let runAxisMs = 0;
  let runTimeMs = startMs;
  for (const brk of breaks) {
    if (axisMs < brk.axisStartMs) break;
    if (axisMs < brk.axisEndMs) {
      const lengthMs = brk.axisEndMs - brk.axisStartMs;
      const fraction = lengthMs > 0 ? (axisMs - brk.axisStartMs) / lengthMs : 0;
      const timeMs =
        brk.kind === 'gap' ? brk.fromMs + fraction * (brk.toMs - brk.fromMs) : brk.fromMs;
      return { timeMs, inBreak: brk };
    }
    runAxisMs = brk.axisEndMs;
    runTimeMs = brk.toMs;
  }
  return { timeMs: runTimeMs + (axisMs - runAxisMs), inBreak: null };
}

/** Share of the track, 0..1, at an axis position. */
export function axisFraction(axisMs: number, axisEndMs: number): number {
  if (!(axisEndMs > 0)) return 0;
  return Math.min(1, Math.max(0, axisMs / axisEndMs));
}

/**
 * How much a marker matters when ticks crowd: ABORT > alert > hazing > link > mode > command >
 * detection. Ticks are drawn in this order, the most important on top, and a click among
 * crowded ticks takes the most important, so a burst of detections never hides an ABORT.
 */
const MARKER_IMPORTANCE: Readonly<Record<ReplayMarkerKind, number>> = {
  detection: 0,
  command: 1,
  mode: 2,
  'link-lost': 3,
  'link-back': 3,
  'hazing-start': 4,
  'hazing-end': 4,
  alert: 5,
  abort: 6,
};

export function markerImportance(kind: ReplayMarkerKind): number {
  return MARKER_IMPORTANCE[kind] ?? -1;
}

/** The markers in the order their ticks are drawn: least important first, in axis order. */
export function markersInDrawOrder(markers: readonly ReplayMarker[]): ReplayMarker[] {
  // Array.prototype.sort is stable: equals keep their axis order.
  return [...markers].sort((a, b) => markerImportance(a.kind) - markerImportance(b.kind));
}

/** How near the pointer, in pixels either side, a tick counts as clicked: its hit width. */
export const TICK_HIT_PX = 6;

/**
 * The marker a click on the track at `pointerAxisMs` means: the most important one within
 * `hitAxisMs` of it (the nearest among equals), or null where there is none.
 */
export function pickMarker(
  markers: readonly ReplayMarker[],
  pointerAxisMs: number,
  hitAxisMs: number,
): ReplayMarker | null {
  let best: ReplayMarker | null = null;
  for (const marker of markers) {
    const distanceMs = Math.abs(marker.axisMs - pointerAxisMs);
    if (!(distanceMs <= hitAxisMs)) continue;
    if (best === null) {
      best = marker;
      continue;
    }
    const moreImportant = markerImportance(marker.kind) - markerImportance(best.kind);
    if (
      moreImportant > 0 ||
      (moreImportant === 0 && distanceMs < Math.abs(best.axisMs - pointerAxisMs))
    ) {
      best = marker;
    }
  }
  return best;
}

/** The index of the last marker at or before the playhead (markers in axis order), or -1. */
export function markerIndexAt(markers: readonly ReplayMarker[], axisMs: number): number {
  let low = 0;
  let high = markers.length - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (markers[middle].axisMs <= axisMs) {
      found = middle;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}

const CLOCK_PATTERN = /^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/;

/**
 * A typed time as ms since the epoch. HH:MM[:SS[.mmm]] is local time on the log's own day (the
 * day of the playhead, or of the log's start or end when the log runs past midnight); anything
 * with a date is read as an ISO time. Throws an Error that quotes what was typed.
 */
export function parseTypedTime(
  text: string,
  log: { startMs: number | null; endMs: number | null; atMs: number | null },
): number {
  const typed = text.trim();
  if (typed === '') throw new Error('Type a time such as 15:20:05.4 or 2021-12-08T15:20:05');
  const clock = CLOCK_PATTERN.exec(typed);
  if (clock) {
    const [hours, minutes, seconds] = [clock[1], clock[2], clock[3] ?? '0'].map(Number);
    const millis = Number((clock[4] ?? '0').padEnd(3, '0'));
    if (hours > 23 || minutes > 59 || seconds > 59) {
      throw new Error(`"${typed}" is not a time of day (HH:MM:SS, 24-hour clock)`);
    }
    const days = [log.atMs, log.startMs, log.endMs].filter((t): t is number => t !== null);
    if (days.length === 0) throw new Error('The log has no times yet: wait for the index');
    const candidates = days.map((dayMs) => {
      const date = new Date(dayMs);
      date.setHours(hours, minutes, seconds, millis);
      return date.getTime();
    });
    const { startMs, endMs } = log;
    const inside = candidates.find(
      (timeMs) => startMs !== null && endMs !== null && timeMs >= startMs && timeMs <= endMs,
    );
    return inside ?? candidates[0];
  }
  if (!/^\d{4}-\d{2}-\d{2}/.test(typed)) {
    throw new Error(`"${typed}" is not a time: type HH:MM:SS or an ISO time (2021-12-08T15:20)`);
  }
  const timeMs = Date.parse(typed);
  if (!Number.isFinite(timeMs)) throw new Error(`"${typed}" is not a valid ISO time`);
  return timeMs;
}

/** A sighting older than this, at the playhead, is drawn on the map as a last known position. */
export const LAST_KNOWN_AFTER_MS = 3_000;

/** "last seen 15:20:05 (2 min 4 s before)", relative to the time at the playhead. */
export function lastSeenText(seenMs: number, atMs: number): string {
  return `last seen ${formatClock(seenMs)} (${formatAgeS(atMs - seenMs)} before)`;
}

/** The last known positions worth drawing: those not seen for LAST_KNOWN_AFTER_MS. */
export function staleSightings(lastKnown: {
  vehicle: LastKnown | null;
  tracks: TrackLastKnown[];
  timeMs: number;
}): { vehicle: LastKnown | null; tracks: TrackLastKnown[] } {
  const old = (seen: LastKnown) => lastKnown.timeMs - seen.timeMs > LAST_KNOWN_AFTER_MS;
  return {
    vehicle: lastKnown.vehicle && old(lastKnown.vehicle) ? lastKnown.vehicle : null,
    tracks: lastKnown.tracks.filter(old),
  };
}

/** The URL path of a report named in an export's outcome text, or null when it names none. */
export function reportLink(text: string): string | null {
  const url = /https?:\/\/127\.0\.0\.1(?::\d+)?(\/\S*)/.exec(text);
  if (url) return trimPunctuation(url[1]);
  const html = /(?:^|\s)(\/[^\s"'<>]*\.html)/.exec(text);
  if (html) return trimPunctuation(html[1]);
  const reports = /(?:^|\s)(\/reports?\/[^\s"'<>]*)/.exec(text);
  return reports ? trimPunctuation(reports[1]) : null;
}

function trimPunctuation(path: string): string {
  return path.replace(/[.,;:)]+$/, '');
}

export interface ThrottleOptions<T> {
  periodMs: number;
  send(value: T): void;
  /** Injectable for tests; the wall clock and the page's timers by default. */
  nowMs?(): number;
  setTimer?(run: () => void, delayMs: number): unknown;
  clearTimer?(timer: unknown): void;
}

/**
 * Sends the newest of a stream of values at most once a period: the first at once, the
 * newest of the rest when the period is up. Owns its timer: dispose() (or flush) ends it.
 */
export class Throttle<T> {
  private lastSentMs = Number.NEGATIVE_INFINITY;
  private pending: { value: T } | null = null;
  private timer: unknown = null;
  private readonly nowMs: () => number;
  private readonly setTimer: (run: () => void, delayMs: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(private readonly options: ThrottleOptions<T>) {
    this.nowMs = options.nowMs ?? (() => Date.now());
    this.setTimer = options.setTimer ?? ((run, delayMs) => setTimeout(run, delayMs));
    this.clearTimer =
      options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  }

  push(value: T): void {
    const waitMs = this.lastSentMs + this.options.periodMs - this.nowMs();
    if (waitMs <= 0 && this.timer === null) {
      this.emit(value);
      return;
    }
    this.pending = { value };
    if (this.timer === null) {
      this.timer = this.setTimer(
        () => {
          this.timer = null;
          const next = this.pending;
          this.pending = null;
          if (next) this.emit(next.value);
        },
        Math.max(0, waitMs),
      );
    }
  }

  /** Drops whatever waits and sends `value` now: the final position of a drag. */
  flush(value: T): void {
    this.cancel();
    this.emit(value);
  }

  cancel(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.pending = null;
  }

  dispose(): void {
    this.cancel();
  }

  private emit(value: T): void {
    this.lastSentMs = this.nowMs();
    this.options.send(value);
  }
}

/** What the time field holds while it does not show the playhead's time. */
export interface TypedTime {
  text: string;
  /** Enter was pressed and the time refused: the text no longer holds the field. */
  refused: boolean;
}

export type TimeFieldEvent =
  | { kind: 'edit'; text: string }
  | { kind: 'refused' | 'accepted' | 'blur' | 'escape' | 'playhead-moved' | 'notice-gone' };

/**
 * The typed text after an event, or null where the field shows the playhead's time again.
 * Text being typed stays while the playhead moves (in play); a refused time gives the field
 * back as soon as the playhead moves, its message goes, or the field is left.
 */
export function nextTypedTime(typed: TypedTime | null, event: TimeFieldEvent): TypedTime | null {
  switch (event.kind) {
    case 'edit':
      return { text: event.text, refused: false };
    case 'refused':
      return typed && { ...typed, refused: true };
    case 'playhead-moved':
    case 'notice-gone':
      return typed?.refused ? null : typed;
    default:
      return null;
  }
}

export interface ReplayBarProps {
  status: ReplayStatus;
  view: ReplayView | null;
  /** Observers watch the replay; only the operator's screen moves it. */
  canControl: boolean;
  onControl(control: ReplayControl): Promise<CommandOutcome>;
}

interface Notice {
  tone: 'info' | 'error';
  text: string;
  link?: string | null;
  /** Goes after NOTICE_SHOW_MS: the answer to a moment's action, not the report's outcome. */
  fades?: boolean;
}

/** Keys typed into a field are the field's, not the player's. */
function typingInto(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  return target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName);
}

export function ReplayBar(props: ReplayBarProps) {
  const { status, view, canControl } = props;
  const trackRef = useRef<HTMLDivElement | null>(null);
  const [dragAxisMs, setDragAxisMs] = useState<number | null>(null);
  const [hoverAxisMs, setHoverAxisMs] = useState<number | null>(null);
  const [typed, setTyped] = useState<TypedTime | null>(null);
  const typedEvent = (event: TimeFieldEvent): void => setTyped((now) => nextTypedTime(now, event));
  const [markInMs, setMarkInMs] = useState<number | null>(null);
  const [markOutMs, setMarkOutMs] = useState<number | null>(null);
  const [notice, setNotice] = useState<Notice | null>(null);
  const [exporting, setExporting] = useState(false);

  const controlRef = useRef(props.onControl);
  controlRef.current = props.onControl;
  /** Sends a control; a refusal is said on the bar, a success says nothing. */
  const sendRef = useRef(async (control: ReplayControl): Promise<CommandOutcome> => {
    const outcome = await controlRef.current(control);
    if (!outcome.ok) setNotice({ tone: 'error', text: outcome.text, fades: true });
    return outcome;
  });
  const send = (control: ReplayControl): void => void sendRef.current(control);

  const throttleRef = useRef<Throttle<number> | null>(null);
  useEffect(() => {
    const throttle = new Throttle<number>({
      periodMs: DRAG_SEEK_PERIOD_MS,
      send: (axisMs) => void sendRef.current({ action: 'seek', axisMs }),
    });
    throttleRef.current = throttle;
    return () => {
      throttle.dispose();
      throttleRef.current = null;
    };
  }, []);

  // The notice's timer belongs to the notice: a new one, or none, ends it.
  useEffect(() => {
    if (!notice?.fades) return;
    const timer = setTimeout(() => {
      setNotice((now) => (now === notice ? null : now));
      setTyped((now) => nextTypedTime(now, { kind: 'notice-gone' }));
    }, NOTICE_SHOW_MS);
    return () => clearTimeout(timer);
  }, [notice]);

  const ready = status.indexing.done && status.error === null;
  const usable = ready && canControl;
  const axisEndMs = status.axisEndMs;
  const positionAxisMs = dragAxisMs ?? view?.positionAxisMs ?? status.positionAxisMs;
  const playing = status.playing;
  useEffect(() => typedEvent({ kind: 'playhead-moved' }), [positionAxisMs]);
  const unit = status.videoFrames > 0 ? 'frame' : 'record';

  // Space plays and pauses, comma and full stop step: the keys of video players.
  const keysRef = useRef({ usable, playing });
  keysRef.current = { usable, playing };
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.ctrlKey || event.metaKey || event.altKey || typingInto(event.target)) return;
      const isSpace = event.key === ' ' || event.code === 'Space';
      if (!isSpace && event.key !== ',' && event.key !== '.') return;
      // Also on keyup: a focused button would otherwise take the space as a click.
      event.preventDefault();
      if (event.type !== 'keydown' || event.repeat || !keysRef.current.usable) return;
      if (isSpace) {
        void sendRef.current({ action: keysRef.current.playing ? 'pause' : 'play' });
      } else {
        void sendRef.current({ action: 'step', frames: event.key === ',' ? -1 : 1 });
      }
    };
    window.addEventListener('keydown', onKey);
    window.addEventListener('keyup', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      window.removeEventListener('keyup', onKey);
    };
  }, []);

  /** A click on a tick: the most important marker within a tick's hit width of the pointer. */
  const seekToMarkerAt = (clientX: number | null, clicked: ReplayMarker): void => {
    const track = trackRef.current;
    // Ticks sit in the track's padding box: measure inside its border.
    const widthPx = track?.clientWidth ?? 0;
    const picked =
      track && clientX !== null && widthPx > 0 && axisEndMs > 0
        ? pickMarker(
            status.markers,
            ((clientX - track.getBoundingClientRect().left - track.clientLeft) / widthPx) *
              axisEndMs,
            (TICK_HIT_PX / widthPx) * axisEndMs,
          )
        : null;
    send({ action: 'seek', axisMs: (picked ?? clicked).axisMs });
  };

  const axisAtPointer = (clientX: number): number => {
    const track = trackRef.current;
    if (!track) return 0;
    const box = track.getBoundingClientRect();
    const fraction = box.width > 0 ? (clientX - box.left) / box.width : 0;
    return Math.round(Math.min(1, Math.max(0, fraction)) * axisEndMs);
  };

  const onPointerDown = (event: ReactPointerEvent<HTMLDivElement>): void => {
    if (!usable || event.button !== 0) return;
    event.currentTarget.setPointerCapture(event.pointerId);
    setDragAxisMs(axisAtPointer(event.clientX));
  };
  const onPointerMove = (event: ReactPointerEvent<HTMLDivElement>): void => {
    const axisMs = axisAtPointer(event.clientX);
    setHoverAxisMs(axisMs);
    if (dragAxisMs === null) return;
    setDragAxisMs(axisMs);
    throttleRef.current?.push(axisMs);
  };
  const endDrag = (event: ReactPointerEvent<HTMLDivElement>, commit: boolean): void => {
    if (dragAxisMs === null) return;
    const axisMs = axisAtPointer(event.clientX);
    if (commit) throttleRef.current?.flush(axisMs);
    else throttleRef.current?.cancel();
    setDragAxisMs(null);
  };

  const jumpToTyped = (): void => {
    if (typed === null) return;
    try {
      const timeMs = parseTypedTime(typed.text, {
        startMs: status.startMs,
        endMs: status.endMs,
        atMs: view?.timeMs ?? status.startMs,
      });
      const { startMs, endMs } = status;
      if (startMs !== null && endMs !== null && (timeMs < startMs || timeMs > endMs)) {
        setNotice({
          tone: 'error',
          text:
            `${formatDate(timeMs)} ${formatClock(timeMs)} is outside the log ` +
            `(${formatDate(startMs)} ${formatClock(startMs)} to ${formatClock(endMs)})`,
          fades: true,
        });
        typedEvent({ kind: 'refused' });
        return;
      }
      setNotice(null);
      typedEvent({ kind: 'accepted' });
      send({ action: 'seek-time', timeMs });
    } catch (error) {
      setNotice({ tone: 'error', text: (error as Error).message, fades: true });
      typedEvent({ kind: 'refused' });
    }
  };

  const spanFromMs = markInMs ?? 0;
  const spanToMs = markOutMs ?? axisEndMs;
  const spanOk = spanToMs > spanFromMs;
  const exportReport = async (): Promise<void> => {
    setExporting(true);
    setNotice({ tone: 'info', text: 'Writing the incident report…' });
    try {
      const outcome = await controlRef.current({
        action: 'export-report',
        fromAxisMs: spanFromMs,
        toAxisMs: spanToMs,
      });
      setNotice({
        tone: outcome.ok ? 'info' : 'error',
        text: outcome.text,
        link: outcome.ok ? reportLink(outcome.text) : null,
      });
    } finally {
      setExporting(false);
    }
  };

  const timeAt = (axisMs: number) =>
    status.startMs === null ? null : axisToTimeMs(axisMs, status.startMs, status.breaks);
  const shownTimeMs = dragAxisMs !== null ? timeAt(dragAxisMs)?.timeMs : view?.timeMs;
  const hover = hoverAxisMs !== null ? timeAt(hoverAxisMs) : null;
  const pct = (axisMs: number): string => `${(axisFraction(axisMs, axisEndMs) * 100).toFixed(3)}%`;
  const spanText = (axisMs: number): string => {
    const at = timeAt(axisMs);
    return at ? formatClock(at.timeMs) : `${Math.round(axisMs / 1000)} s`;
  };
  const kindsPresent = new Set(status.markers.map((marker) => marker.kind));

  return (
    <section
      className={`replay-bar${ready ? '' : ' not-ready'}`}
      data-testid="replay-bar"
      data-position-axis-ms={Math.round(positionAxisMs)}
      data-playing={playing ? 'true' : 'false'}
      data-speed={status.speed}
      aria-label="Replay timeline"
    >
      <div className="replay-controls">
        <button
          type="button"
          className="replay-play"
          data-testid="replay-play"
          disabled={!usable}
          aria-label={playing ? 'Pause (Space)' : 'Play (Space)'}
          onClick={() => send({ action: playing ? 'pause' : 'play' })}
        >
          {playing ? '❚❚ Pause' : '▶ Play'}
        </button>
        <button
          type="button"
          data-testid="replay-step-back"
          disabled={!usable}
          title={`One ${unit} back (,)`}
          onClick={() => send({ action: 'step', frames: -1 })}
        >
          ◀ {unit}
        </button>
        <button
          type="button"
          data-testid="replay-step-forward"
          disabled={!usable}
          title={`One ${unit} forward (.)`}
          onClick={() => send({ action: 'step', frames: 1 })}
        >
          {unit} ▶
        </button>
        <label className="replay-speed">
          <span>Speed</span>
          <select
            data-testid="replay-speed"
            value={String(status.speed)}
            disabled={!usable}
            onChange={(event) => send({ action: 'speed', speed: Number(event.target.value) })}
          >
            {(REPLAY_SPEEDS as readonly number[]).includes(status.speed) ? null : (
              <option value={String(status.speed)}>{status.speed}×</option>
            )}
            {REPLAY_SPEEDS.map((speed) => (
              <option key={speed} value={String(speed)}>
                {speed}×
              </option>
            ))}
          </select>
        </label>
        <form
          className="replay-time"
          onSubmit={(event) => {
            event.preventDefault();
            jumpToTyped();
          }}
        >
          <input
            data-testid="replay-time"
            aria-label="Time at the playhead: type a time and press Enter to jump"
            value={typed?.text ?? (shownTimeMs != null ? timeFieldText(shownTimeMs, playing) : '')}
            placeholder="HH:MM:SS"
            disabled={!usable}
            spellCheck={false}
            onChange={(event) => typedEvent({ kind: 'edit', text: event.target.value })}
            onBlur={() => typedEvent({ kind: 'blur' })}
            onKeyDown={(event) => {
              if (event.key !== 'Escape') return;
              typedEvent({ kind: 'escape' });
              setNotice(null);
            }}
          />
          <span className="replay-date" data-testid="replay-date">
            {shownTimeMs != null ? formatDate(shownTimeMs) : ''}
          </span>
        </form>
        <div className="replay-span" role="group" aria-label="Report span">
          <button
            type="button"
            data-testid="replay-mark-start"
            disabled={!ready}
            onClick={() => setMarkInMs(positionAxisMs)}
          >
            Mark start
          </button>
          <button
            type="button"
            data-testid="replay-mark-end"
            disabled={!ready}
            onClick={() => setMarkOutMs(positionAxisMs)}
          >
            Mark end
          </button>
          <button
            type="button"
            className="replay-export"
            data-testid="replay-export"
            disabled={!usable || !spanOk || exporting}
            title={`Report from ${spanText(spanFromMs)} to ${spanText(spanToMs)}`}
            onClick={() => void exportReport()}
          >
            {exporting ? 'Exporting…' : 'Export report'}
          </button>
        </div>
      </div>

      {status.indexing.done ? null : (
        <div className="replay-indexing" data-testid="replay-indexing">
          <span>Indexing {status.indexing.what}…</span>
          <progress max={100} value={status.indexing.progressPct} />
          <span>{Math.round(status.indexing.progressPct)}%</span>
        </div>
      )}

      {status.error ? (
        <div className="replay-fatal" data-testid="replay-error" role="alert">
          {status.error}
        </div>
      ) : null}

      <div className="replay-break-labels" aria-hidden="true">
        {status.breaks.map((brk) => (
          <span
            key={`${brk.axisStartMs}-label`}
            className={`replay-break-label kind-${brk.kind}`}
            style={{ left: pct((brk.axisStartMs + brk.axisEndMs) / 2) }}
          >
            {breakLabel(brk)}
          </span>
        ))}
      </div>
      <div
        ref={trackRef}
        className={`replay-track${dragAxisMs !== null ? ' dragging' : ''}`}
        data-testid="replay-track"
        data-axis-end-ms={axisEndMs}
        role="slider"
        aria-label="Playhead"
        aria-valuemin={0}
        aria-valuemax={axisEndMs}
        aria-valuenow={Math.round(positionAxisMs)}
        aria-valuetext={shownTimeMs != null ? formatClock(shownTimeMs) : undefined}
        onPointerDown={onPointerDown}
        onPointerMove={onPointerMove}
        onPointerUp={(event) => endDrag(event, true)}
        onPointerCancel={(event) => endDrag(event, false)}
        onPointerLeave={() => setHoverAxisMs(null)}
      >
        {markInMs !== null || markOutMs !== null ? (
          <div
            className="replay-span-band"
            data-testid="replay-span"
            data-from-axis-ms={spanFromMs}
            data-to-axis-ms={spanToMs}
            style={{ left: pct(spanFromMs), width: pct(Math.max(0, spanToMs - spanFromMs)) }}
          />
        ) : null}
        {status.breaks.map((brk) => (
          <div
            key={brk.axisStartMs}
            className={`replay-break kind-${brk.kind}`}
            data-testid="replay-break"
            data-kind={brk.kind}
            data-axis-start-ms={brk.axisStartMs}
            data-axis-end-ms={brk.axisEndMs}
            title={`${breakLabel(brk)}: ${formatClock(brk.fromMs)} to ${formatClock(brk.toMs)}`}
            style={{ left: pct(brk.axisStartMs), width: pct(brk.axisEndMs - brk.axisStartMs) }}
          />
        ))}
        {markersInDrawOrder(status.markers).map((marker, index) => (
          <button
            key={`${index}-${marker.kind}-${marker.axisMs}`}
            type="button"
            tabIndex={-1}
            className={`replay-tick kind-${marker.kind}`}
            data-testid="replay-marker"
            data-kind={marker.kind}
            data-axis-ms={marker.axisMs}
            title={markerTitle(marker)}
            style={{ left: pct(marker.axisMs) }}
            disabled={!usable}
            onPointerDown={(event) => event.stopPropagation()}
            // A click from the keyboard has no pointer: it means the tick itself.
            onClick={(event) => seekToMarkerAt(event.detail > 0 ? event.clientX : null, marker)}
          />
        ))}
        {markInMs !== null ? (
          <div
            className="replay-mark in"
            data-testid="replay-mark-in"
            style={{ left: pct(markInMs) }}
          >
            start
          </div>
        ) : null}
        {markOutMs !== null ? (
          <div
            className="replay-mark out"
            data-testid="replay-mark-out"
            style={{ left: pct(markOutMs) }}
          >
            end
          </div>
        ) : null}
        <div
          className="replay-playhead"
          data-testid="replay-playhead"
          data-axis-ms={Math.round(positionAxisMs)}
          style={{ left: pct(positionAxisMs) }}
        />
        {hover && hoverAxisMs !== null ? (
          <div
            className="replay-hover"
            data-testid="replay-hover"
            style={{ left: pct(hoverAxisMs) }}
          >
            {hover.inBreak
              ? `${breakLabel(hover.inBreak)} · ${formatClock(hover.timeMs)}`
              : formatClock(hover.timeMs)}
          </div>
        ) : null}
      </div>

      <div className="replay-footer">
        <ul className="replay-legend" aria-label="Marker colours">
          {MARKER_KINDS.map(({ kind, label }) => (
            <li key={kind} className={kindsPresent.has(kind) ? '' : 'absent'}>
              <span className={`replay-swatch kind-${kind}`} />
              {label}
            </li>
          ))}
        </ul>
        <div className="replay-messages">
          {canControl ? null : (
            <span className="replay-note">View only: the operator's screen moves the replay.</span>
          )}
          {markInMs !== null || markOutMs !== null ? (
            <span className="replay-note" data-testid="replay-span-text">
              Report span {spanText(spanFromMs)} to {spanText(spanToMs)}
              {spanOk ? '' : ': the end must come after the start'}
            </span>
          ) : null}
          {notice ? (
            <span
              className={notice.tone === 'error' ? 'replay-error' : 'replay-note'}
              data-testid="replay-notice"
              data-tone={notice.tone}
            >
              {notice.text}
              {notice.link ? (
                <>
                  {' '}
                  <a href={notice.link} target="_blank" rel="noreferrer" data-testid="report-link">
                    Open the report
                  </a>
                </>
              ) : null}
            </span>
          ) : null}
          {status.warnings.slice(0, WARNINGS_SHOWN).map((warning, index) => (
            <span key={index} className="replay-warning" data-testid="replay-warning">
              {warning}
            </span>
          ))}
          {status.warnings.length > WARNINGS_SHOWN ? (
            <details className="replay-warnings" data-testid="replay-warnings">
              <summary>{status.warnings.length - WARNINGS_SHOWN} more warnings</summary>
              <ul>
                {status.warnings.slice(WARNINGS_SHOWN).map((warning, index) => (
                  <li key={index}>{warning}</li>
                ))}
              </ul>
            </details>
          ) : null}
        </div>
      </div>
    </section>
  );
}
