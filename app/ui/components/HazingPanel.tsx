// The pattern under way: what it does, how far the bear moved, why it holds; the nudges while
// it flies; the speaker while the drone is up; and, after an ABORT, home or land here.

import { useEffect, useRef } from 'react';
import type { EnvelopeLimits, Violation } from '../../core/envelope';
import { PATTERN_RANGES, patternDistanceM, type PatternNudge } from '../../core/patterns';
import type { ActionStatus } from '../../core/protocol';
import { compassName, formatAgeS, formatDeg, formatM } from './format';
import { useNow } from './hooks';
import { PATTERN_NAMES } from './patternDraft';

const PHASE_NAMES: Record<ActionStatus['phase'], string> = {
  starting: 'Starting',
  flying: 'Flying',
  holding: 'HOLDING',
  succeeded: 'Succeeded',
  finished: 'Finished',
  aborted: 'Aborted',
  failed: 'Failed',
  returning: 'Returning home',
};

const NUDGE_BEARING_DEG = 15;
const NUDGE_DISTANCE_M = 5;

export function actionLive(action: ActionStatus | null): boolean {
  return action !== null && ['starting', 'flying', 'holding'].includes(action.phase);
}

/** "keep 30 m": the limit the broken rule sets, where it is a number the operator knows. */
export function violationLimit(violation: Violation, envelope: EnvelopeLimits): string | null {
  switch (violation.rule) {
    case 'person':
      return `keep ${formatM(envelope.personRadiusM)}`;
    case 'bear-standoff':
      return `keep ${formatM(envelope.bearStandoffM)}`;
    case 'altitude-floor':
      return `floor ${formatM(envelope.floorAglM)}`;
    case 'altitude-ceiling':
      return `ceiling ${formatM(envelope.ceilingAglM)}`;
    case 'battery':
      return `reserve ${envelope.batteryReservePct}%`;
    default:
      return null;
  }
}

/** Each rule in the operator's words, in place of the core's rule id. */
export const RULE_WORDS: Record<Violation['rule'], string> = {
  position: 'Position',
  link: 'Link',
  'altitude-floor': 'Too low',
  'altitude-ceiling': 'Too high',
  geofence: 'Geofence',
  'no-fly-zone': 'No-fly zone',
  person: 'Person',
  'bear-standoff': 'Bear standoff',
  battery: 'Battery',
};

/**
 * "Too low: 20 m above ground is under the 30 m floor": the core's text starts with the
 * rule's id ("altitude-floor: ...", "person 12 m ...", "no-fly-zone 2: ..."); the operator
 * reads the rule's words instead, and the zone's number where there is one.
 */
export function violationWords(violation: Violation): string {
  const words = RULE_WORDS[violation.rule] ?? violation.rule;
  const text = violation.text.trim();
  const id = violation.rule.replace(/[-]/g, '[- ]');
  const numbered = new RegExp(`^${id}\\s+(\\d+):\\s*`, 'i').exec(text);
  if (numbered) return `${words} ${numbered[1]}: ${text.slice(numbered[0].length)}`;
  const prefixed = new RegExp(`^${id}:\\s*`, 'i').exec(text);
  if (prefixed) return `${words}: ${text.slice(prefixed[0].length)}`;
  // "person 12 m from the path", "battery 40% left": the id is the sentence's subject.
  const subject = new RegExp(`^${id}\\s+`, 'i').exec(text);
  if (subject && violation.rule !== 'position') {
    return `${words}: ${text.slice(subject[0].length)}`;
  }
  return `${words}: ${text}`;
}

export function holdingText(violation: Violation | null, envelope: EnvelopeLimits): string {
  if (!violation) return 'HOLDING';
  const said = violationWords(violation);
  // The core's words often name the limit already ("...; keep 30 m"): say it once. Only the
  // words after the rule's name count: "altitude-ceiling" names no number.
  const body = said.slice(said.indexOf(':') + 1);
  const limit = /keep|floor|ceiling|reserve/i.test(body)
    ? null
    : violationLimit(violation, envelope);
  return `HOLDING · ${said}${limit ? `; ${limit}` : ''}`;
}

/** Loud, over the map: the drone is not doing what the operator started, and why. */
export function HoldingBanner(props: { action: ActionStatus | null; envelope: EnvelopeLimits }) {
  const { action } = props;
  if (!action || action.phase !== 'holding') return null;
  return (
    <div
      className="holding-banner"
      data-testid="holding-banner"
      data-rule={action.violation?.rule ?? ''}
      role="alert"
    >
      {action.violation
        ? holdingText(action.violation, props.envelope)
        : // No broken rule (the bear is lost): the station's own words say why it holds.
          `HOLDING · ${action.text}`}
    </div>
  );
}

function subject(action: ActionStatus): string {
  const name = PATTERN_NAMES[action.kind];
  return action.targetId === null ? name : `${name} bear #${action.targetId}`;
}

function goalM(action: ActionStatus): number | null {
  return action.settings.kind === 'push' ? action.settings.successDistanceM : null;
}

function settingsLine(action: ActionStatus): string {
  const s = action.settings;
  switch (s.kind) {
    case 'push':
      return (
        `toward ${formatDeg(s.safeBearingDeg)} (${compassName(s.safeBearingDeg)}) · ` +
        `standoff ${formatM(s.standoffM)} · ${formatM(s.altitudeAglM)} up`
      );
    case 'orbit':
      return `radius ${formatM(s.radiusM)} · ${s.speedMps} m/s · ${formatM(s.altitudeAglM)} up`;
    case 'shadow':
      return (
        `${formatM(s.offsetM)} to the ${compassName(s.offsetBearingDeg)} ` +
        `(${formatDeg(s.offsetBearingDeg)}) · ${formatM(s.altitudeAglM)} up`
      );
    case 'zigzag':
      return (
        `±${formatM(s.halfWidthM)} · legs ${formatM(s.legSpacingM)} · ` +
        `${formatM(s.altitudeAglM)} up`
      );
    case 'search':
      return (
        `${s.polygon.length} corners · ${s.overlapPct}% overlap · ` +
        `${formatM(s.altitudeAglM)} up`
      );
  }
}

interface NudgeButton {
  label: string;
  testId: string;
  nudge: PatternNudge;
  /** Why the station would refuse it now, or null where it would take it. */
  refusal?: string | null;
}

/** The setting a stretch nudge changes, and the range the core allows it. */
const STRETCH_FIELDS: Partial<Record<ActionStatus['kind'], 'standoffM' | 'radiusM' | 'offsetM'>> = {
  push: 'standoffM',
  orbit: 'radiusM',
  shadow: 'offsetM',
};

/**
 * Why the station would refuse a stretch by deltaM: inside the envelope's bear standoff, or
 * outside the range the pattern allows. Null where it would take it.
 */
export function stretchRefusal(
  action: ActionStatus,
  deltaM: number,
  envelope: EnvelopeLimits,
): string | null {
  const distanceM = patternDistanceM(action.settings);
  const field = STRETCH_FIELDS[action.kind];
  if (distanceM === null || !field) return null;
  const nextM = distanceM + deltaM;
  if (nextM < envelope.bearStandoffM) {
    return `${formatM(nextM)} is inside the ${formatM(envelope.bearStandoffM)} bear standoff`;
  }
  const ranges: Record<string, { min: number; max: number } | undefined> =
    PATTERN_RANGES[action.kind];
  const range = ranges[field];
  if (range && nextM < range.min)
    return `${formatM(nextM)} is under the ${formatM(range.min)} least`;
  if (range && nextM > range.max) return `${formatM(nextM)} is over the ${formatM(range.max)} most`;
  return null;
}

function nudgeButtons(action: ActionStatus, envelope: EnvelopeLimits): NudgeButton[] {
  const turn = (what: string): NudgeButton[] => [
    {
      label: `${what} ↺ ${NUDGE_BEARING_DEG}°`,
      testId: 'nudge-left',
      nudge: { bearingDeltaDeg: -NUDGE_BEARING_DEG },
    },
    {
      label: `${what} ↻ ${NUDGE_BEARING_DEG}°`,
      testId: 'nudge-right',
      nudge: { bearingDeltaDeg: NUDGE_BEARING_DEG },
    },
  ];
  const stretch = (what: string): NudgeButton[] => [
    {
      label: `${what} −${NUDGE_DISTANCE_M} m`,
      testId: 'nudge-closer',
      nudge: { distanceDeltaM: -NUDGE_DISTANCE_M },
      refusal: stretchRefusal(action, -NUDGE_DISTANCE_M, envelope),
    },
    {
      label: `${what} +${NUDGE_DISTANCE_M} m`,
      testId: 'nudge-farther',
      nudge: { distanceDeltaM: NUDGE_DISTANCE_M },
      refusal: stretchRefusal(action, NUDGE_DISTANCE_M, envelope),
    },
  ];
  switch (action.kind) {
    case 'push':
      return [...turn('Turn'), ...stretch('Standoff')];
    case 'orbit':
      return stretch('Radius');
    case 'shadow':
      return [...turn('Side'), ...stretch('Offset')];
    default:
      return [];
  }
}

export interface HazingPanelProps {
  action: ActionStatus | null;
  envelope: EnvelopeLimits;
  canCommand: boolean;
  busy: boolean;
  onNudge(nudge: PatternNudge): void;
  /** Closes the card of a pattern that has ended; absent while one flies. */
  onClose?(): void;
}

export function HazingPanel(props: HazingPanelProps) {
  const nowMs = useNow(1000);
  const { action } = props;
  // A pattern just started from a card further down: bring its status into sight.
  const panelRef = useRef<HTMLElement>(null);
  const eventId = action?.eventId ?? null;
  useEffect(() => {
    if (eventId !== null) panelRef.current?.scrollIntoView({ block: 'nearest' });
  }, [eventId]);
  // An ended pattern's clock stops where it ended, not where the screen is now.
  const endedRef = useRef<{ eventId: string; endedMs: number } | null>(null);
  if (action && !actionLive(action) && action.phase !== 'returning') {
    if (endedRef.current?.eventId !== action.eventId) {
      endedRef.current = { eventId: action.eventId, endedMs: nowMs };
    }
  } else {
    endedRef.current = null;
  }
  if (!action) return null;
  const live = actionLive(action);
  const goal = goalM(action);
  const elapsedMs = (endedRef.current?.endedMs ?? nowMs) - action.startedMs;
  return (
    <section
      ref={panelRef}
      className={`panel action-panel phase-${action.phase}`}
      data-testid="action-status"
      data-phase={action.phase}
      data-kind={action.kind}
      data-target-id={action.targetId ?? ''}
      aria-live="polite"
    >
      <div className="panel-title">
        <span>{subject(action)}</span>
        <span className="phase-chip" data-testid="action-phase">
          {PHASE_NAMES[action.phase]}
        </span>
      </div>
      <p className="action-text" data-testid="action-text">
        {action.text}
      </p>
      {action.phase === 'holding' ? (
        <p className="hint error" data-testid="action-violation">
          {holdingText(action.violation, props.envelope)}
        </p>
      ) : null}
      <dl className="facts">
        {action.bearTowardM !== undefined && action.bearTowardM !== null ? (
          <>
            {/* A push toward a bearing succeeds on the distance along it, not in all. */}
            <dt>Bear pushed</dt>
            <dd data-testid="action-bear-toward" data-value={action.bearTowardM}>
              {formatM(action.bearTowardM)}
              {goal !== null ? ` of ${formatM(goal)}` : ''}
              {action.bearMovedM !== null ? ` (${formatM(action.bearMovedM)} moved)` : ''}
            </dd>
          </>
        ) : action.bearMovedM !== null ? (
          <>
            <dt>Bear moved</dt>
            <dd data-testid="action-bear-moved" data-value={action.bearMovedM}>
              {formatM(action.bearMovedM)}
              {goal !== null ? ` of ${formatM(goal)}` : ''}
            </dd>
          </>
        ) : null}
        <dt>Time</dt>
        <dd data-testid="action-elapsed">{formatAgeS(elapsedMs)}</dd>
      </dl>
      <p className="hint">{settingsLine(action)}</p>
      {live && props.canCommand ? (
        <div className="nudges" data-testid="nudges">
          {nudgeButtons(action, props.envelope).map((button) => (
            <button
              key={button.testId}
              type="button"
              className="big-button nudge"
              data-testid={button.testId}
              disabled={props.busy || Boolean(button.refusal)}
              title={button.refusal ?? undefined}
              data-refusal={button.refusal ?? undefined}
              onClick={() => props.onNudge(button.nudge)}
            >
              {button.label}
            </button>
          ))}
        </div>
      ) : null}
      {!live && props.onClose ? (
        <button
          type="button"
          className="big-button secondary"
          data-testid="action-close"
          onClick={props.onClose}
        >
          Close
        </button>
      ) : null}
    </section>
  );
}

/**
 * The speaker, whenever the drone is up: it must be possible to silence it after ABORT or
 * Return home, when the pattern's card has gone.
 */
export function SpeakerControl(props: { speakerOn: boolean; onSpeaker(on: boolean): void }) {
  return (
    <button
      type="button"
      className={`big-button speaker${props.speakerOn ? ' on' : ''}`}
      data-testid="speaker-toggle"
      data-on={props.speakerOn}
      aria-pressed={props.speakerOn}
      onClick={() => props.onSpeaker(!props.speakerOn)}
    >
      Speaker {props.speakerOn ? 'ON: tap to stop' : 'off: tap to play'}
    </button>
  );
}

/** After ABORT the drone holds: the operator chooses, with a big target either way. */
export function AbortChoice(props: { busy: boolean; onReturnHome(): void; onLand(): void }) {
  return (
    <section className="panel abort-choice" data-testid="abort-choice" role="alert">
      <div className="panel-title">Holding. What now?</div>
      <div className="choice-row">
        <button
          type="button"
          className="big-button choice home"
          data-testid="choice-return-home"
          disabled={props.busy}
          onClick={props.onReturnHome}
        >
          Return home
        </button>
        <button
          type="button"
          className="big-button choice land"
          data-testid="choice-land"
          disabled={props.busy}
          onClick={props.onLand}
        >
          Land here
        </button>
      </div>
    </section>
  );
}
