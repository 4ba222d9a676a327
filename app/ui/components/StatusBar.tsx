// The strip across the top: what the vehicle is doing, readable at arm's length in the sun.

import type { ReactNode } from 'react';
import type { HazingOperator } from '../../core/hazing-log';
import { useNow, useStaleness, useStation } from './hooks';
import { formatAgeS, toFixedSigned } from './format';

type Tone = 'good' | 'warn' | 'bad' | 'neutral';

function Item(props: {
  testId: string;
  label: string;
  tone: Tone;
  children: ReactNode;
  value?: number | null;
  state?: string;
  /** Last known, not live: drawn grey with a marker, whatever its tone would be. */
  stale?: boolean;
  /** Shown on hover: why the value reads as it does. */
  hint?: string;
}) {
  const tone = props.stale ? 'stale' : props.tone;
  return (
    <div
      className={`status-item tone-${tone}`}
      data-testid={props.testId}
      data-value={props.value ?? undefined}
      data-state={props.state}
      data-stale={props.stale ? 'true' : undefined}
      title={props.stale ? 'Last known value: not live' : props.hint}
    >
      <span className="status-label">
        {props.label}
        {props.stale ? <span className="stale-mark"> · stale</span> : null}
      </span>
      <span className="status-value">{props.children}</span>
    </div>
  );
}

export interface StatusBarProps {
  hazingOperator: HazingOperator | null;
  /** Opens the operator form; absent where the screen cannot command. */
  onHazingOperator?(): void;
}

export function StatusBar(props: StatusBarProps) {
  const vehicle = useStation((state) => state.vehicle);
  const video = useStation((state) => state.video);
  const connection = useStation((state) => state.connection);
  const { stationDown, vehicleStale } = useStaleness();
  const nowMs = useNow(1000);

  const link = vehicle?.link ?? 'connecting';
  const linkText = link === 'connected' ? 'OK' : link === 'lost' ? 'LOST' : 'WAITING';
  const heartbeatAgeMs = vehicle?.lastHeartbeatMs != null ? nowMs - vehicle.lastHeartbeatMs : null;

  const altitudeM = vehicle?.position?.altitudeRelM ?? null;
  const battery = vehicle?.battery ?? null;
  const batteryPct = battery?.remainingPct ?? null;
  const batteryTone: Tone =
    batteryPct === null ? 'neutral' : batteryPct < 15 ? 'bad' : batteryPct < 30 ? 'warn' : 'good';
  const gps = vehicle?.gps ?? null;
  const gpsTone: Tone = !gps ? 'neutral' : gps.fixType >= 3 ? 'good' : 'bad';
  // Without the station nobody knows what the vehicle link is doing.
  const vehicleKnown = vehicle !== null && !vehicleStale;

  return (
    <header className="status-bar" data-testid="status-bar">
      <div className="brand" aria-label="Ursa ground station">
        URSA
      </div>
      <Item
        testId="status-station"
        label="Station"
        tone={connection === 'open' ? 'good' : 'bad'}
        state={connection}
      >
        {connection === 'open' ? 'OK' : connection === 'connecting' ? 'CONNECTING' : 'OFFLINE'}
      </Item>
      {stationDown ? (
        <Item testId="status-link" label="Link" tone="neutral" state="unknown" stale>
          ?
        </Item>
      ) : (
        <Item
          testId="status-link"
          label="Link"
          tone={link === 'connected' ? 'good' : link === 'lost' ? 'bad' : 'warn'}
          state={link}
        >
          {linkText}
          {link === 'lost' && heartbeatAgeMs !== null ? ` ${formatAgeS(heartbeatAgeMs)}` : ''}
        </Item>
      )}
      <Item
        testId="status-mode"
        label="Mode"
        tone="neutral"
        state={vehicle?.modeName}
        stale={vehicle !== null && !vehicleKnown}
      >
        {vehicle?.modeName ?? '—'}
      </Item>
      <Item
        testId="status-armed"
        label="Motors"
        tone={vehicle?.armed ? 'warn' : 'neutral'}
        state={vehicle ? (vehicle.armed ? 'armed' : 'disarmed') : undefined}
        stale={vehicle !== null && !vehicleKnown}
      >
        {vehicle ? (vehicle.armed ? 'ARMED' : 'DISARMED') : '—'}
      </Item>
      <Item
        testId="status-altitude"
        label="Alt (home)"
        tone="neutral"
        value={altitudeM}
        stale={altitudeM !== null && !vehicleKnown}
      >
        {altitudeM === null ? '—' : `${toFixedSigned(altitudeM, 1)} m`}
      </Item>
      <Item
        testId="status-battery"
        label="Battery"
        tone={batteryTone}
        value={batteryPct}
        stale={battery !== null && !vehicleKnown}
      >
        {battery?.voltageV != null ? `${battery.voltageV.toFixed(1)} V` : '—'}
        {batteryPct !== null ? ` ${Math.round(batteryPct)}%` : ''}
      </Item>
      <Item
        testId="status-gps"
        label="GPS"
        tone={gpsTone}
        value={gps?.satellites ?? null}
        stale={gps !== null && !vehicleKnown}
      >
        {gps ? `${gps.fixName} · ${gps.satellites ?? '?'} sat` : '—'}
      </Item>
      {stationDown && video ? (
        <Item testId="status-video" label="Video" tone="neutral" state="unknown" stale>
          ?
        </Item>
      ) : (
        <Item
          testId="status-video"
          label="Video"
          tone={!video ? 'neutral' : video.state === 'running' ? 'good' : 'warn'}
          value={video?.framesPerSecond ?? null}
          state={video?.state}
          hint={video?.state === 'reconnecting' ? (video.error ?? undefined) : undefined}
        >
          {/* A dropped stream's rate reads 0 until it is back: not a number to show. */}
          {!video
            ? '—'
            : video.state === 'reconnecting'
              ? 'Reconnecting…'
              : `${video.framesPerSecond.toFixed(1)} fps`}
        </Item>
      )}
      <HazingOperatorItem {...props} />
    </header>
  );
}

/** Who hazes under which authority: the record every pattern is logged under. */
function HazingOperatorItem(props: StatusBarProps) {
  const operator = props.hazingOperator;
  // A replay shows the record as it was; there is nobody to set an operator for.
  const replaying = useStation((state) => state.replay !== null);
  const text = operator
    ? `Hazing as ${operator.operatorName}, ${operator.agencyOrPermitId}`
    : replaying
      ? 'No hazing operator at this time'
      : 'Hazing operator not set';
  const content = (
    <>
      <span className="status-label">Hazing</span>
      <span className="status-value">{text}</span>
    </>
  );
  const tone = operator || replaying ? 'neutral' : 'warn';
  const className = `status-item hazing-operator tone-${tone}`;
  return props.onHazingOperator ? (
    <button
      type="button"
      className={className}
      data-testid="status-hazing-operator"
      data-set={operator ? 'true' : 'false'}
      title="Change who is hazing"
      onClick={props.onHazingOperator}
    >
      {content}
    </button>
  ) : (
    <div
      className={className}
      data-testid="status-hazing-operator"
      data-set={operator ? 'true' : 'false'}
    >
      {content}
    </div>
  );
}
