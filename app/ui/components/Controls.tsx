// Flight controls that are safe to press with one click: take-off and return home. ABORT has
// its own always-visible button.

import { useState } from 'react';
import type { StationDefaults } from '../../core/protocol';
import type { VehicleState } from '../../core/types';

export interface ControlsProps {
  defaults: StationDefaults;
  vehicle: VehicleState | null;
  /** Whether the station connection is open: without it nothing can be sent. */
  stationUp: boolean;
  busy: boolean;
  onTakeoff(altitudeM: number): void;
  onReturnHome(): void;
}

export function Controls(props: ControlsProps) {
  const [altitudeText, setAltitudeText] = useState(String(props.defaults.takeoffAltitudeM));
  const altitudeM = Number(altitudeText);
  const altitudeValid = altitudeText.trim() !== '' && altitudeM > 0 && altitudeM <= 120;
  const linkUp = props.stationUp && props.vehicle?.link === 'connected';

  return (
    <section className="panel controls" data-testid="controls" aria-label="Flight controls">
      <div className="takeoff-row">
        <label className="field">
          <span>Take-off alt (m)</span>
          <input
            type="number"
            inputMode="decimal"
            min={1}
            max={120}
            data-testid="takeoff-altitude"
            value={altitudeText}
            aria-invalid={!altitudeValid}
            onChange={(event) => setAltitudeText(event.target.value)}
          />
        </label>
        <button
          type="button"
          className="big-button go"
          data-testid="takeoff-button"
          disabled={!altitudeValid || !linkUp || props.busy}
          onClick={() => props.onTakeoff(altitudeM)}
        >
          Arm + Take off
        </button>
      </div>
      {!altitudeValid ? <p className="hint error">Altitude must be 1-120 m above home.</p> : null}
      <button
        type="button"
        className="big-button secondary"
        data-testid="return-home-button"
        disabled={!linkUp}
        onClick={props.onReturnHome}
      >
        Return home
      </button>
    </section>
  );
}
