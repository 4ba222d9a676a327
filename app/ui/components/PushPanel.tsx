// A selected map target and the push-away flow: pick the safe direction on the map, check the
// plan on the map, then hold to confirm.

import { useEffect, useRef } from 'react';
import type { PushPlan } from '../../core/hazing';
import { distanceM } from '../../core/geodesy';
import { STANDING_BELOW_MPS } from '../../core/targets';
import type { LatLon, MapTarget } from '../../core/types';
import { HoldButton } from './HoldButton';
import { compassName, formatAgeS, formatDeg, formatM, formatPct, titleCase } from './format';
import { useNow } from './hooks';

export interface PushDraft {
  targetId: number;
  /** Null while the operator is still to tap the safe direction on the map. */
  safeBearingDeg: number | null;
  standoffText: string;
  altitudeText: string;
}

export interface PushPanelProps {
  target: MapTarget | null;
  targetId: number;
  canCommand: boolean;
  draft: PushDraft | null;
  plan: PushPlan | { error: string } | null;
  drone: LatLon | null;
  busy: boolean;
  onStart(): void;
  onChange(draft: PushDraft): void;
  onCancel(): void;
  onConfirm(plan: PushPlan): void;
  onClose(): void;
  /** Points the camera at this target; absent where the screen cannot command. */
  onLookAt?(): void;
}

/** A card for a target that left the map stays this long, then closes itself. */
export const GONE_TARGET_CLOSE_MS = 5_000;

export function PushPanel(props: PushPanelProps) {
  const nowMs = useNow(1000);
  const { target, draft, plan } = props;
  const closeRef = useRef(props.onClose);
  closeRef.current = props.onClose;

  // Once the operator has chosen a direction, the confirm button must be in sight: the
  // sidebar may have grown below the fold (a finished action's card, the camera panel).
  const confirmRef = useRef<HTMLDivElement>(null);
  const planReady = plan !== null && !('error' in plan);
  useEffect(() => {
    if (planReady) confirmRef.current?.scrollIntoView({ block: 'nearest' });
  }, [planReady]);

  const gone = target === null;
  useEffect(() => {
    if (!gone) return undefined;
    const timer = setTimeout(() => closeRef.current(), GONE_TARGET_CLOSE_MS);
    return () => clearTimeout(timer);
  }, [gone, props.targetId]);

  if (!target) {
    return (
      <section
        className="panel target-panel gone"
        data-testid="target-panel"
        data-target-id={props.targetId}
        data-gone="true"
      >
        <div className="panel-title">
          <span>Target #{props.targetId}</span>
          <CloseButton onClick={props.onClose} />
        </div>
        <p className="hint warn" data-testid="target-gone">
          This target is no longer on the map. Closing in a few seconds.
        </p>
      </section>
    );
  }

  const validPlan = plan && !('error' in plan) ? plan : null;
  return (
    <section
      className="panel target-panel"
      data-testid="target-panel"
      data-target-id={target.id}
      aria-label="Selected target"
    >
      <div className="panel-title">
        <span>
          {titleCase(target.className)} #{target.id}
        </span>
        <CloseButton onClick={props.onClose} />
      </div>
      <dl className="facts">
        <dt>Score</dt>
        <dd>{formatPct(target.score)}</dd>
        <dt>Last seen</dt>
        <dd>{formatAgeS(nowMs - target.lastSeenMs)} ago</dd>
        <dt>Distance from drone</dt>
        <dd>{props.drone ? formatM(distanceM(props.drone, target.position)) : '—'}</dd>
        <dt>Moving</dt>
        <dd data-testid="target-motion">{motion(target)}</dd>
        <dt>Position within</dt>
        <dd data-testid="target-uncertainty">
          {target.uncertainty
            ? `${formatM(target.uncertainty.alongRangeM)} × ` +
              `${formatM(target.uncertainty.crossRangeM)}`
            : '—'}
        </dd>
      </dl>

      {props.canCommand && props.onLookAt ? (
        <button
          type="button"
          className="big-button look-at"
          data-testid="look-at"
          onClick={props.onLookAt}
          disabled={props.busy}
        >
          Look at this {target.className}
        </button>
      ) : null}
      {!props.canCommand ? null : target.className !== 'bear' ? (
        <p className="hint" data-testid="push-not-bear">
          Only bears are pushed: the drone is never sent at a {target.className}.
        </p>
      ) : !draft ? (
        <button
          type="button"
          className="big-button push"
          data-testid="push-start"
          onClick={props.onStart}
          disabled={props.busy}
        >
          Push away…
        </button>
      ) : (
        <div className="push-flow" data-testid="push-flow">
          {draft.safeBearingDeg === null ? (
            <p className="hint pick" data-testid="push-pick-hint">
              Tap the map where the {target.className} should go.
            </p>
          ) : (
            <p className="hint" data-testid="push-bearing" data-value={draft.safeBearingDeg}>
              Safe direction {formatDeg(draft.safeBearingDeg)} ({compassName(draft.safeBearingDeg)}
              ). Tap the map again to change it.
            </p>
          )}
          <div className="field-row">
            <label className="field">
              <span>Standoff (m)</span>
              <input
                type="number"
                inputMode="decimal"
                data-testid="push-standoff"
                value={draft.standoffText}
                onChange={(event) => props.onChange({ ...draft, standoffText: event.target.value })}
              />
            </label>
            <label className="field">
              <span>Altitude above home (m)</span>
              <input
                type="number"
                inputMode="decimal"
                data-testid="push-altitude"
                value={draft.altitudeText}
                onChange={(event) => props.onChange({ ...draft, altitudeText: event.target.value })}
              />
            </label>
          </div>
          {plan && 'error' in plan ? (
            <p className="hint error" data-testid="push-error">
              {plan.error}
            </p>
          ) : null}
          {validPlan ? (
            <p className="hint" data-testid="push-summary">
              Drone flies to {formatM(validPlan.standoffM)} from the {target.className}, on the far
              side, at {formatM(validPlan.altitudeM)} above home
              {props.drone
                ? ` (${formatM(distanceM(props.drone, validPlan.droneTarget))} away)`
                : ''}
              .
            </p>
          ) : null}
          <div ref={confirmRef}>
            <HoldButton
              label="Hold to push away"
              testId="push-confirm"
              disabled={!validPlan || props.busy}
              onConfirm={() => {
                if (validPlan) props.onConfirm(validPlan);
              }}
            />
          </div>
          <button
            type="button"
            className="big-button secondary"
            data-testid="push-cancel"
            onClick={props.onCancel}
          >
            Cancel
          </button>
        </div>
      )}
    </section>
  );
}

function motion(target: MapTarget): string {
  if (target.speedMps === null || target.speedMps === undefined) return 'not known yet';
  if (
    target.courseDeg === null ||
    target.courseDeg === undefined ||
    target.speedMps < STANDING_BELOW_MPS
  ) {
    return 'standing';
  }
  return (
    `${target.speedMps.toFixed(1)} m/s toward ${formatDeg(target.courseDeg)} ` +
    `(${compassName(target.courseDeg)})`
  );
}

function CloseButton(props: { onClick(): void }) {
  return (
    <button
      type="button"
      className="icon-button"
      aria-label="Close"
      data-testid="target-close"
      onClick={props.onClick}
    >
      ×
    </button>
  );
}
