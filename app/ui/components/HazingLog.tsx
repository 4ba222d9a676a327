// This session's hazing log as the station keeps it (a legal record), with the exports, and the
// safety envelope every setpoint is checked against.

import type { EnvelopeLimits } from '../../core/envelope';
import type { HazingEvent, HazingOutcome } from '../../core/hazing-log';
import { formatClockHm, formatM, plural } from './format';
import { PATTERN_NAMES } from './patternDraft';

const OUTCOME_NAMES: Record<HazingOutcome, string> = {
  success: 'Success',
  finished: 'Finished',
  aborted: 'Aborted',
  failed: 'Failed',
  battery: 'Battery low',
  'link-lost': 'Link lost',
  'mode-changed': 'Pilot took over',
  'lost-bear': 'Lost the bear',
};

export function HazingLog(props: { events: HazingEvent[] }) {
  const events = [...props.events].reverse();
  return (
    <section className="panel hazing-log" data-testid="hazing-log" aria-label="Hazing log">
      <div className="panel-title">
        <span>Hazing log</span>
        <span className="zone-count" data-testid="hazing-log-count">
          {props.events.length}
        </span>
      </div>
      {events.length === 0 ? (
        <p className="hint">No hazing in this session yet.</p>
      ) : (
        <ul className="hazing-list">
          {events.map((event) => (
            <li
              key={event.id}
              className={`hazing-item outcome-${event.outcome ?? 'flying'}`}
              data-testid="hazing-event"
              data-event-id={event.id}
              data-outcome={event.outcome ?? ''}
            >
              <strong>
                {formatClockHm(event.startedMs)} {PATTERN_NAMES[event.pattern.kind]}
                {event.trackId !== null ? ` bear #${event.trackId}` : ''}
              </strong>
              <span className="hazing-outcome">
                {event.outcome ? OUTCOME_NAMES[event.outcome] : 'Flying…'}
                {event.bearMovedM !== null ? ` · moved ${formatM(event.bearMovedM)}` : ''}
                {event.durationS !== null ? ` · ${Math.round(event.durationS)} s` : ''}
              </span>
              <span className="hazing-by">
                {event.operator.operatorName}, {event.operator.agencyOrPermitId} ·{' '}
                {plural(event.actions.length, 'action')}
              </span>
            </li>
          ))}
        </ul>
      )}
      <div className="download-row">
        <a className="big-button link" href="/hazing-log.csv" download data-testid="hazing-log-csv">
          Download CSV
        </a>
        <a
          className="big-button link"
          href="/hazing-log.json"
          download
          data-testid="hazing-log-json"
        >
          Download JSON
        </a>
      </div>
    </section>
  );
}

export function EnvelopeSummary(props: { envelope: EnvelopeLimits }) {
  const e = props.envelope;
  return (
    <section className="panel envelope" data-testid="envelope-summary" aria-label="Safety envelope">
      <div className="panel-title">Safety envelope</div>
      <dl className="facts">
        <dt>Height above ground</dt>
        <dd data-testid="envelope-band">
          {formatM(e.floorAglM)} to {formatM(e.ceilingAglM)}
        </dd>
        <dt>From any bear</dt>
        <dd data-testid="envelope-bear">at least {formatM(e.bearStandoffM)}</dd>
        <dt>From any person</dt>
        <dd data-testid="envelope-person">at least {formatM(e.personRadiusM)}</dd>
        <dt>Battery on landing</dt>
        <dd data-testid="envelope-reserve">at least {e.batteryReservePct}%</dd>
      </dl>
    </section>
  );
}
