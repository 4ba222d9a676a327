// Zone alerts: a banner that stays, and a loud alarm that repeats, until acknowledged. The
// operator acknowledges for everyone; an observer can only silence their own screen.

import type { ZoneAlert } from '../../core/zones';
import { formatAgeS, formatM, titleCase } from './format';
import { useAlarm, useNow } from './hooks';
import './zones.css';

/** Rows shown at once; more are counted, never hidden without a word. */
const SHOWN_ALERTS = 3;

export interface AlertBannerProps {
  /** Alerts still open for this screen, oldest first. */
  alerts: ZoneAlert[];
  canCommand: boolean;
  busy: boolean;
  onAcknowledge(alertIds: number[]): void;
}

function describe(alert: ZoneAlert): string {
  const where = alert.inside
    ? `inside ${alert.zoneName}`
    : `${formatM(alert.distanceM)} from ${alert.zoneName}`;
  return `${titleCase(alert.className)} #${alert.trackId} ${where}`;
}

export function AlertBanner(props: AlertBannerProps) {
  const { alerts } = props;
  const sound = useAlarm(alerts.length > 0);
  const nowMs = useNow(1000);
  if (alerts.length === 0) return null;
  const newestFirst = [...alerts].reverse();
  const hidden = newestFirst.length - SHOWN_ALERTS;
  return (
    <div
      className="zone-alert-banner"
      data-testid="alert-banner"
      data-count={alerts.length}
      data-sound={sound}
      role="alert"
    >
      <div className="zone-alert-rows">
        {newestFirst.slice(0, SHOWN_ALERTS).map((alert) => (
          <div
            key={alert.id}
            className="zone-alert-row"
            data-testid="alert-row"
            data-alert-id={alert.id}
            data-track-id={alert.trackId}
            data-zone-id={alert.zoneId}
          >
            <strong>{describe(alert)}</strong>
            <span className="zone-alert-age"> · {formatAgeS(nowMs - alert.raisedMs)} ago</span>
          </div>
        ))}
        {hidden > 0 ? <div className="zone-alert-more">and {hidden} more</div> : null}
        {sound === 'blocked' ? (
          <div className="zone-alert-sound" data-testid="alert-sound-blocked">
            Tap anywhere to let the alarm sound
          </div>
        ) : null}
      </div>
      <button
        type="button"
        className="zone-alert-ack"
        data-testid="alert-ack"
        disabled={props.busy}
        onClick={() => props.onAcknowledge(alerts.map((alert) => alert.id))}
      >
        {props.canCommand ? 'Acknowledge' : 'Silence here'}
      </button>
    </div>
  );
}
