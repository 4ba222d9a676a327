// People the envelope keeps clear of: those the detector saw and those the operator marked
// (right-click or long-press the map). Either can be removed: the detector sometimes calls the
// bear a person, and that false person blocks a push.

import { distanceM } from '../../core/geodesy';
import type { KnownPerson } from '../../core/protocol';
import type { LatLon } from '../../core/types';
import { formatAgeS, formatM } from './format';
import { useNow } from './hooks';

export interface PeoplePanelProps {
  people: KnownPerson[];
  drone: LatLon | null;
  personRadiusM: number;
  canCommand: boolean;
  busy: boolean;
  onRemove(personId: string): void;
}

export function PeoplePanel(props: PeoplePanelProps) {
  const nowMs = useNow(1000);
  return (
    <section className="panel people-panel" data-testid="people-panel" aria-label="People">
      <div className="panel-title">
        <span>People</span>
        <span className="zone-count" data-testid="people-count">
          {props.people.length}
        </span>
      </div>
      <p className="hint">
        The drone keeps {formatM(props.personRadiusM)} from each.
        {props.canCommand ? ' Right-click or long-press the map to mark one.' : ''}
      </p>
      <ul className="zone-list">
        {props.people.map((person) => (
          <li
            key={person.id}
            className={`zone-item person-${person.source}`}
            data-testid="person-item"
            data-person-id={person.id}
            data-source={person.source}
          >
            <div className="zone-item-text">
              <strong>{person.source === 'marked' ? 'Marked person' : 'Detected person'}</strong>
              <span className="zone-item-meta">
                {person.source === 'marked' ? 'marked' : 'seen'}{' '}
                {formatAgeS(nowMs - person.lastSeenMs)} ago
                {props.drone ? ` · ${formatM(distanceM(props.drone, person.position))} away` : ''}
              </span>
            </div>
            {props.canCommand ? (
              <button
                type="button"
                className="zone-delete"
                data-testid="person-remove"
                disabled={props.busy}
                onClick={() => props.onRemove(person.id)}
              >
                {person.source === 'marked' ? 'Remove' : 'Not a person: remove'}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
