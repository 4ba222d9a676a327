// A selected map target and the hazing patterns that follow it (push, orbit, shadow), and the
// form shared by every pattern: settings with units, the plan in words, then hold to start.

import { useEffect, useRef } from 'react';
import type { EnvelopeLimits } from '../../core/envelope';
import { distanceM } from '../../core/geodesy';
import type { GroundResolution, PatternKind, PatternSettings } from '../../core/patterns';
import { STANDING_BELOW_MPS } from '../../core/targets';
import type { LatLon, MapTarget } from '../../core/types';
import type { ProtectedZone } from '../../core/zones';
import { HoldButton } from './HoldButton';
import { compassName, formatAgeS, formatDeg, formatM, formatPct, titleCase } from './format';
import { useNow } from './hooks';
import { fieldRange, PATTERN_FIELDS, PATTERN_NAMES, type PatternDraft } from './patternDraft';

/** A card for a target that left the map stays this long, then closes itself. */
export const GONE_TARGET_CLOSE_MS = 5_000;

/** The patterns that follow one bear, in the order their buttons show. */
const BEAR_PATTERNS: PatternKind[] = ['push', 'orbit', 'shadow'];

export interface TargetPanelProps {
  target: MapTarget | null;
  targetId: number;
  canCommand: boolean;
  /** The draft for this target, if the operator is preparing one. */
  draft: PatternDraft | null;
  drone: LatLon | null;
  busy: boolean;
  onChoose(kind: PatternKind): void;
  onClose(): void;
  /** Points the camera at this target; absent where the screen cannot command. */
  onLookAt?(): void;
  /** The pattern form, rendered inside the card while a draft is open. */
  form: React.ReactNode;
}

export function TargetPanel(props: TargetPanelProps) {
  const nowMs = useNow(1000);
  const { target, draft } = props;
  const closeRef = useRef(props.onClose);
  closeRef.current = props.onClose;

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

      {props.canCommand && props.onLookAt && !draft ? (
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
          Only bears are hazed: the drone is never sent at a {target.className}.
        </p>
      ) : !draft ? (
        <div className="pattern-choice" role="group" aria-label="Haze this bear">
          {BEAR_PATTERNS.map((kind) => (
            <button
              key={kind}
              type="button"
              className={`big-button pattern-${kind}`}
              data-testid={`${kind}-start`}
              onClick={() => props.onChoose(kind)}
              disabled={props.busy}
            >
              {PATTERN_NAMES[kind]}…
            </button>
          ))}
        </div>
      ) : (
        props.form
      )}
    </section>
  );
}

export interface PatternFormProps {
  draft: PatternDraft;
  /** What the bear (or the area) is called in the hints. */
  targetName: string;
  checked: { settings: PatternSettings } | { error: string };
  /** The plan in words, when the settings are complete. */
  planText: string | null;
  zones: ProtectedZone[];
  /** The station's envelope: heights outside its floor and ceiling are not offered. */
  envelope?: Pick<EnvelopeLimits, 'floorAglM' | 'ceilingAglM'>;
  /** Search: what the camera sees at the chosen height; null for other patterns. */
  resolution: GroundResolution | null;
  /** Where the camera model for the resolution comes from, in words. */
  cameraSource: string;
  busy: boolean;
  onChange(draft: PatternDraft): void;
  onCancel(): void;
  onConfirm(settings: PatternSettings): void;
}

export function PatternForm(props: PatternFormProps) {
  const { draft, checked } = props;
  const settings = 'settings' in checked ? checked.settings : null;
  // Once the plan is complete, the start button must be in sight below the fold.
  const confirmRef = useRef<HTMLDivElement>(null);
  const ready = settings !== null;
  useEffect(() => {
    if (ready) confirmRef.current?.scrollIntoView({ block: 'nearest' });
  }, [ready]);
  const safeZones = props.zones.filter((zone) => zone.kind === 'safe');
  const setField = (key: string, text: string) =>
    props.onChange({ ...draft, fields: { ...draft.fields, [key]: text } });

  return (
    <div className="pattern-flow" data-testid="pattern-flow" data-kind={draft.kind}>
      <div className="pattern-flow-title">{PATTERN_NAMES[draft.kind]}</div>
      {draft.kind === 'push' ? (
        draft.safeZoneId === null && draft.safeBearingDeg === null ? (
          <p className="hint pick" data-testid="push-pick-hint">
            Tap the map where the {props.targetName} should go.
          </p>
        ) : draft.safeBearingDeg !== null && draft.safeZoneId === null ? (
          <p className="hint" data-testid="push-bearing" data-value={draft.safeBearingDeg}>
            Safe direction {formatDeg(draft.safeBearingDeg)} ({compassName(draft.safeBearingDeg)}
            ). Tap the map again to change it.
          </p>
        ) : null
      ) : null}
      {draft.kind === 'push' && safeZones.length > 0 ? (
        <label className="field">
          <span>Or drive it into a safe area</span>
          <select
            data-testid="push-safe-zone"
            value={draft.safeZoneId ?? ''}
            onChange={(event) =>
              props.onChange({
                ...draft,
                safeZoneId: event.target.value === '' ? null : Number(event.target.value),
              })
            }
          >
            <option value="">Direction tapped on the map</option>
            {safeZones.map((zone) => (
              <option key={zone.id} value={zone.id}>
                {zone.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      {draft.kind === 'zigzag' ? (
        <p className="hint pick" data-testid="zigzag-hint" data-points={draft.points.length}>
          {draft.points.length < 2
            ? `Tap the map at ${draft.points.length === 0 ? 'one end' : 'the other end'} of the ` +
              'line to sweep across.'
            : 'Line set. Tap again to start a new line.'}
        </p>
      ) : null}
      {draft.kind === 'search' ? (
        <SearchArea draft={draft} zones={props.zones} onChange={props.onChange} />
      ) : null}
      <div className="field-grid">
        {PATTERN_FIELDS[draft.kind].map((field) => {
          const range = fieldRange(draft.kind, field.key, props.envelope);
          return (
            <label className="field" key={field.key}>
              <span>
                {field.label} ({field.unit})
              </span>
              <input
                type="number"
                inputMode="decimal"
                data-testid={`pattern-${field.key}`}
                min={range?.min}
                max={range?.max}
                value={draft.fields[field.key] ?? ''}
                onChange={(event) => setField(field.key, event.target.value)}
              />
              {range ? (
                <small
                  className="field-range"
                  data-testid={`pattern-${field.key}-range`}
                  data-min={range.min}
                  data-max={range.max}
                >
                  {range.min}–{range.max} {field.unit}
                  {range.narrowedBy ? ` (${range.narrowedBy})` : ''}
                </small>
              ) : null}
            </label>
          );
        })}
      </div>
      {draft.kind === 'push' ? (
        <Toggle
          testId="push-on-success"
          options={[
            ['hold', 'Then hold'],
            ['return', 'Then return home'],
          ]}
          value={draft.onSuccess}
          onChange={(value) => props.onChange({ ...draft, onSuccess: value })}
        />
      ) : null}
      {draft.kind === 'orbit' ? (
        <Toggle
          testId="orbit-direction"
          options={[
            ['cw', 'Clockwise'],
            ['ccw', 'Counter-clockwise'],
          ]}
          value={draft.clockwise ? 'cw' : 'ccw'}
          onChange={(value) => props.onChange({ ...draft, clockwise: value === 'cw' })}
        />
      ) : null}
      {props.resolution ? (
        <dl className="facts resolution" data-testid="ground-resolution">
          <dt>Ground resolution</dt>
          <dd data-testid="resolution-cm-per-px">
            {(props.resolution.metresPerPixel * 100).toFixed(1)} cm/pixel
          </dd>
          <dt>Pixels on a bear</dt>
          <dd data-testid="resolution-bear-px">{props.resolution.bearLengthPx.toFixed(0)} px</dd>
          <dt>Leg spacing</dt>
          <dd data-testid="resolution-leg-spacing">{formatM(props.resolution.legSpacingM)}</dd>
          <dt>Camera</dt>
          <dd className="camera-source">{props.cameraSource}</dd>
        </dl>
      ) : null}
      {'error' in checked ? (
        <p className="hint error" data-testid="pattern-error">
          {checked.error}
        </p>
      ) : null}
      {/* Sticks to the sidebar's bottom: the plan and its start stay in sight on small screens
          while the settings above scroll. */}
      <div ref={confirmRef} className="pattern-confirm-bar">
        {props.planText ? (
          <p className="plan-words" data-testid="pattern-plan">
            {props.planText}
          </p>
        ) : null}
        <HoldButton
          label={`Hold to start ${PATTERN_NAMES[draft.kind].toLowerCase()}`}
          testId="pattern-confirm"
          disabled={!settings || props.busy}
          onConfirm={() => {
            if (settings) props.onConfirm(settings);
          }}
        />
      </div>
      <button
        type="button"
        className="big-button secondary"
        data-testid="pattern-cancel"
        onClick={props.onCancel}
      >
        Cancel
      </button>
    </div>
  );
}

function SearchArea(props: {
  draft: PatternDraft;
  zones: ProtectedZone[];
  onChange(draft: PatternDraft): void;
}) {
  const { draft } = props;
  return (
    <>
      {draft.areaZoneId === null ? (
        <p className="hint pick" data-testid="search-hint" data-points={draft.points.length}>
          Tap each corner of the area on the map ({draft.points.length} so far).
        </p>
      ) : null}
      {draft.points.length > 0 && draft.areaZoneId === null ? (
        <button
          type="button"
          className="big-button secondary"
          data-testid="search-undo"
          onClick={() => props.onChange({ ...draft, points: draft.points.slice(0, -1) })}
        >
          Undo last corner
        </button>
      ) : null}
      {props.zones.length > 0 ? (
        <label className="field">
          <span>Or search a drawn zone</span>
          <select
            data-testid="search-zone"
            value={draft.areaZoneId ?? ''}
            onChange={(event) =>
              props.onChange({
                ...draft,
                areaZoneId: event.target.value === '' ? null : Number(event.target.value),
                points: [],
              })
            }
          >
            <option value="">Corners tapped on the map</option>
            {props.zones.map((zone) => (
              <option key={zone.id} value={zone.id}>
                {zone.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
    </>
  );
}

function Toggle<T extends string>(props: {
  testId: string;
  options: Array<[T, string]>;
  value: T;
  onChange(value: T): void;
}) {
  return (
    <div className="toggle" role="radiogroup" data-testid={props.testId} data-value={props.value}>
      {props.options.map(([value, label]) => (
        <button
          key={value}
          type="button"
          role="radio"
          aria-checked={props.value === value}
          className={props.value === value ? 'on' : ''}
          onClick={() => props.onChange(value)}
        >
          {label}
        </button>
      ))}
    </div>
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
