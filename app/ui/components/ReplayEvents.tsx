// The replay's markers as a list in the side panel: what happened, when. The one at or just
// before the playhead is highlighted and kept in sight; a click moves the playhead there.

import { useEffect, useRef } from 'react';
import type { ReplayMarker } from '../../core/replay';
import { formatClock, markerIndexAt, markerKindLabel } from './ReplayBar';

export interface ReplayEventsProps {
  markers: readonly ReplayMarker[];
  positionAxisMs: number;
  /** Absent where the screen cannot move the replay (an observer's). */
  onSeek?(axisMs: number): void;
}

export function ReplayEvents(props: ReplayEventsProps) {
  const listRef = useRef<HTMLOListElement | null>(null);
  const currentIndex = markerIndexAt(props.markers, props.positionAxisMs);

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
      {props.markers.length === 0 ? (
        <p className="hint">No events in this record.</p>
      ) : (
        <ol ref={listRef} className="replay-event-list">
          {props.markers.map((marker, index) => (
            <li key={`${index}-${marker.axisMs}`}>
              <button
                type="button"
                className={`replay-event kind-${marker.kind}${
                  index === currentIndex ? ' current' : ''
                }`}
                data-testid="replay-event"
                data-kind={marker.kind}
                data-axis-ms={marker.axisMs}
                data-current={index === currentIndex ? 'true' : undefined}
                aria-current={index === currentIndex ? 'true' : undefined}
                disabled={!props.onSeek}
                onClick={() => props.onSeek?.(marker.axisMs)}
              >
                <span className="replay-event-time">{formatClock(marker.timeMs)}</span>
                <span className={`replay-event-kind kind-${marker.kind}`}>
                  {markerKindLabel(marker.kind)}
                </span>
                <span className="replay-event-label">{marker.label}</span>
              </button>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
