// The station's log and command results, newest first.

import type { LogEntry } from '../../core/protocol';

const SHOWN_ENTRIES = 60;

function clock(timeMs: number): string {
  return new Date(timeMs).toLocaleTimeString([], { hour12: false });
}

export function LogPanel(props: { log: LogEntry[] }) {
  const entries = props.log.slice(-SHOWN_ENTRIES).reverse();
  return (
    <section className="panel log-panel" data-testid="log" aria-label="Log">
      <div className="panel-title">
        <span>Log</span>
      </div>
      <ol className="log-list">
        {entries.map((entry, index) => (
          <li key={`${entry.timeMs}-${index}`} className={`log-${entry.level}`}>
            <time>{clock(entry.timeMs)}</time> {entry.text}
          </li>
        ))}
        {entries.length === 0 ? <li className="log-empty">Nothing yet.</li> : null}
      </ol>
    </section>
  );
}
