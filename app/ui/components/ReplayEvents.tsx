// The replay's markers as a list in the side panel: what happened, when. The one at or just
// before the playhead is highlighted and kept in sight; a click moves the playhead there. The
// timeline's breaks are rows of their own at their place, so that a clock that jumps an hour
// on, or back, between two rows is explained where it happens.

import { useEffect, useRef } from 'react';
import type { ReplayBreak, ReplayMarker } from '../../core/replay';
import { breakLabel, formatClock, markerKindLabel } from './ReplayBar';

export interface ReplayEventsProps {
  markers: readonly ReplayMarker[];
  /** The timeline's gaps and jumps back; absent or empty where the log has none. */
  breaks?: readonly ReplayBreak[];
  positionAxisMs: number;
  /** Absent where the screen cannot move the replay (an observer's). */
  onSeek?(axisMs: number): void;
}

/** One row of the list: a marker, or a break in the log's clock. */
export type ReplayEventRow =
  | { kind: 'marker'; axisMs: number; marker: ReplayMarker }
  | { kind: 'break'; axisMs: number; brk: ReplayBreak };

/**
 * Markers and breaks in axis order. A break sits at its start, after the markers there (the
 * record before a break is at its start); the click on it seeks to its end.
 */
export function replayEventRows(
  markers: readonly ReplayMarker[],
  breaks: readonly ReplayBreak[],
): ReplayEventRow[] {
  const rows: ReplayEventRow[] = [];
  let breakIndex = 0;
  for (const marker of markers) {
    while (breakIndex < breaks.length && breaks[breakIndex].axisStartMs < marker.axisMs) {
      const brk = breaks[breakIndex++];
      rows.push({ kind: 'break', axisMs: brk.axisStartMs, brk });
    }
    rows.push({ kind: 'marker', axisMs: marker.axisMs, marker });
  }
  for (const brk of breaks.slice(breakIndex)) {
    rows.push({ kind: 'break', axisMs: brk.axisStartMs, brk });
  }
  return rows;
}

/** Where a click on the row puts the playhead: a marker's place, or the end of a break. */
export function rowSeekAxisMs(row: ReplayEventRow): number {
  return row.kind === 'marker' ? row.marker.axisMs : row.brk.axisEndMs;
}

/** The last row the playhead has reached, or -1 before the first. */
export function rowIndexAt(rows: readonly ReplayEventRow[], axisMs: number): number {
  // Rows are in axis order: the first one past the playhead ends the search.
  let found = -1;
  for (let index = 0; index < rows.length && rows[index].axisMs <= axisMs; index++) found = index;
  return found;
}

/**
 * What a break's row says: "gap 56 min: nothing recorded until 16:13:17", "log jumps back
 * 8 min: another session (clock back to 15:22:05)".
 */
export function breakRowText(brk: ReplayBreak): string {
  return brk.kind === 'gap'
    ? `${breakLabel(brk)}: nothing recorded until ${formatClock(brk.toMs)}`
    : `${breakLabel(brk)}: another session (clock back to ${formatClock(brk.toMs)})`;
}

export function ReplayEvents(props: ReplayEventsProps) {
  const listRef = useRef<HTMLOListElement | null>(null);
  const rows = replayEventRows(props.markers, props.breaks ?? []);
  const currentIndex = rowIndexAt(rows, props.positionAxisMs);

  // Scrolls the list alone, never the side panel around it.
  useEffect(() => {
    const list = listRef.current;
    const item = list?.querySelector<HTMLElement>('[data-current="true"]');
    if (!list || !item) return;
    // The list is positioned (replay.css), so offsets are from its top.
    const top = item.offsetTop;
    if (top < list.scrollTop) list.scrollTop = top;
    else if (top + item.offsetHeight > list.scrollTop + list.clientHeight) {
      list.scrollTop = top + item.offsetHeight - list.clientHeight;
    }
  }, [currentIndex]);

  return (
    <section className="panel replay-events" data-testid="replay-events" aria-label="Events">
      <h2>
        Events <span className="replay-events-count">{props.markers.length}</span>
      </h2>
      {rows.length === 0 ? (
        <p className="hint">No events in this record.</p>
      ) : (
        <ol ref={listRef} className="replay-event-list">
          {rows.map((row, index) => {
            const current = index === currentIndex;
            const seekAxisMs = rowSeekAxisMs(row);
            return (
              <li key={`${row.kind}-${index}-${row.axisMs}`}>
                {row.kind === 'marker' ? (
                  <button
                    type="button"
                    className={`replay-event kind-${row.marker.kind}${current ? ' current' : ''}`}
                    data-testid="replay-event"
                    data-kind={row.marker.kind}
                    data-axis-ms={row.marker.axisMs}
                    data-current={current ? 'true' : undefined}
                    aria-current={current ? 'true' : undefined}
                    disabled={!props.onSeek}
                    onClick={() => props.onSeek?.(seekAxisMs)}
                  >
                    <span className="replay-event-time">{formatClock(row.marker.timeMs)}</span>
                    <span className={`replay-event-kind kind-${row.marker.kind}`}>
                      {markerKindLabel(row.marker.kind)}
                    </span>
                    <span className="replay-event-label">{row.marker.label}</span>
                  </button>
                ) : (
                  <button
                    type="button"
                    className={`replay-event replay-event-break kind-${row.brk.kind}${
                      current ? ' current' : ''
                    }`}
                    data-testid="replay-event-break"
                    data-kind={row.brk.kind}
                    data-axis-ms={row.brk.axisStartMs}
                    data-seek-axis-ms={seekAxisMs}
                    data-current={current ? 'true' : undefined}
                    aria-current={current ? 'true' : undefined}
                    title={`${formatClock(row.brk.fromMs)} → ${formatClock(row.brk.toMs)}`}
                    disabled={!props.onSeek}
                    onClick={() => props.onSeek?.(seekAxisMs)}
                  >
                    <span className="replay-event-time">{formatClock(row.brk.fromMs)}</span>
                    <span className={`replay-event-kind kind-${row.brk.kind}`}>
                      {row.brk.kind === 'gap' ? 'Gap' : 'Jump back'}
                    </span>
                    <span className="replay-event-label">{breakRowText(row.brk)}</span>
                  </button>
                )}
              </li>
            );
          })}
        </ol>
      )}
    </section>
  );
}
