// What the station is doing on the operator's behalf right now.

import type { ActionStatus } from '../../core/protocol';
import { compassName, formatDeg, formatM } from './format';

const PHASE_NAMES: Record<ActionStatus['phase'], string> = {
  starting: 'Starting',
  flying: 'Flying',
  holding: 'Holding',
  aborted: 'Aborted',
  failed: 'Failed',
};

export function ActionPanel(props: { action: ActionStatus | null }) {
  const { action } = props;
  if (!action) return null;
  const { safeBearingDeg, standoffM, altitudeM } = action.plan;
  return (
    <section
      className={`panel action-panel phase-${action.phase}`}
      data-testid="action-status"
      data-phase={action.phase}
      data-target-id={action.targetId}
      aria-live="polite"
    >
      <div className="panel-title">
        <span>Push target #{action.targetId}</span>
        <span className="phase-chip" data-testid="action-phase">
          {PHASE_NAMES[action.phase]}
        </span>
      </div>
      <p className="action-text" data-testid="action-text">
        {action.text}
      </p>
      <p className="hint">
        Toward {formatDeg(safeBearingDeg)} ({compassName(safeBearingDeg)}) · standoff{' '}
        {formatM(standoffM)} · {formatM(altitudeM)} up
      </p>
    </section>
  );
}
