// Protected zones: the list for everyone, and for the operator drawing new ones on the map
// (tap each corner, then save) and deleting old ones (tap twice: gloves slip).

import { useEffect, useState } from 'react';
import type { LatLon } from '../../core/types';
import {
  checkZoneInput,
  type ProtectedZone,
  type ZoneAlert,
  type ZoneInput,
} from '../../core/zones';
import { formatM } from './format';
import './zones.css';

export type ZoneKind = NonNullable<ZoneInput['kind']>;

/** What each kind does, in the operator's words, in the order the select lists them. */
export const ZONE_KINDS: Array<{ kind: ZoneKind; name: string; hint: string }> = [
  { kind: 'protected', name: 'Protected', hint: 'a bear near it raises an alert' },
  { kind: 'no-fly', name: 'No-fly', hint: 'the drone never enters or crosses it' },
  { kind: 'fence', name: 'Geofence', hint: 'the drone stays inside it' },
  { kind: 'safe', name: 'Safe area', hint: 'where a push drives the bear' },
];

export function zoneKindName(kind: ZoneKind | undefined): string {
  return ZONE_KINDS.find((entry) => entry.kind === (kind ?? 'protected'))?.name ?? 'Protected';
}

export interface ZoneDraft {
  kind: ZoneKind;
  name: string;
  alertDistanceText: string;
  corners: LatLon[];
}

export const DEFAULT_ALERT_DISTANCE_M = 50;
/** A delete not confirmed within this long is called off. */
const DELETE_CONFIRM_MS = 4_000;

export function newZoneDraft(): ZoneDraft {
  return {
    kind: 'protected',
    name: '',
    alertDistanceText: String(DEFAULT_ALERT_DISTANCE_M),
    corners: [],
  };
}

/** The zone a draft makes, or why it cannot be saved yet. */
export function draftZone(draft: ZoneDraft): { zone: ZoneInput } | { error: string } {
  if (draft.corners.length < 3) {
    return { error: `Tap the map at each corner: ${draft.corners.length} of at least 3` };
  }
  if (draft.name.trim() === '') return { error: 'Give the zone a name' };
  const alertDistanceM = Number(draft.alertDistanceText);
  if (draft.alertDistanceText.trim() === '' || !Number.isFinite(alertDistanceM)) {
    return { error: 'Enter the alert distance in metres' };
  }
  try {
    return {
      zone: checkZoneInput(
        { kind: draft.kind, name: draft.name, alertDistanceM, polygon: draft.corners },
        'The zone',
      ),
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

export interface ZonePanelProps {
  zones: ProtectedZone[];
  /** Open alerts: their zones are marked in the list. */
  alerts: ZoneAlert[];
  canCommand: boolean;
  draft: ZoneDraft | null;
  busy: boolean;
  onStartDraw(): void;
  onChange(draft: ZoneDraft): void;
  onCancel(): void;
  onSave(zone: ZoneInput): void;
  onDelete(zoneId: number): void;
}

export function ZonePanel(props: ZonePanelProps) {
  const { zones, draft } = props;
  const [confirmDeleteId, setConfirmDeleteId] = useState<number | null>(null);
  useEffect(() => {
    if (confirmDeleteId === null) return undefined;
    const timer = setTimeout(() => setConfirmDeleteId(null), DELETE_CONFIRM_MS);
    return () => clearTimeout(timer);
  }, [confirmDeleteId]);
  const alerting = new Set(
    props.alerts.filter((a) => a.acknowledgedMs === null).map((a) => a.zoneId),
  );
  const checked = draft ? draftZone(draft) : null;

  return (
    <section className="panel zone-panel" data-testid="zone-panel" aria-label="Zones">
      <div className="panel-title">
        <span>Zones</span>
        <span className="zone-count" data-testid="zone-count">
          {zones.length}
        </span>
      </div>
      {zones.length === 0 && !draft ? (
        <p className="hint" data-testid="zones-empty">
          No zones yet.{props.canCommand ? ' Draw the farm yard, silo or school grounds.' : ''}
        </p>
      ) : null}
      <ul className="zone-list">
        {zones.map((zone) => (
          <li
            key={zone.id}
            className={`zone-item kind-${zone.kind ?? 'protected'}${
              alerting.has(zone.id) ? ' alerting' : ''
            }`}
            data-testid="zone-item"
            data-zone-id={zone.id}
            data-zone-name={zone.name}
            data-kind={zone.kind ?? 'protected'}
          >
            <div className="zone-item-text">
              <strong>
                <span className="zone-kind-swatch" aria-hidden="true" />
                {zone.name}
              </strong>
              <span className="zone-item-meta">
                {zoneKindName(zone.kind)} · alert within {formatM(zone.alertDistanceM)} ·{' '}
                {zone.polygon.length} corners
              </span>
            </div>
            {props.canCommand ? (
              <button
                type="button"
                className={`zone-delete${confirmDeleteId === zone.id ? ' confirm' : ''}`}
                data-testid="zone-delete"
                disabled={props.busy}
                onClick={() => {
                  if (confirmDeleteId === zone.id) {
                    setConfirmDeleteId(null);
                    props.onDelete(zone.id);
                  } else {
                    setConfirmDeleteId(zone.id);
                  }
                }}
              >
                {confirmDeleteId === zone.id ? 'Tap again to delete' : 'Delete'}
              </button>
            ) : null}
          </li>
        ))}
      </ul>
      {!props.canCommand ? null : !draft ? (
        <button
          type="button"
          className="big-button"
          data-testid="zone-draw"
          disabled={props.busy}
          onClick={props.onStartDraw}
        >
          Draw a zone…
        </button>
      ) : (
        <div className="zone-draft" data-testid="zone-draft" data-corners={draft.corners.length}>
          <p className="hint pick" data-testid="zone-draw-hint">
            Tap the map at each corner ({draft.corners.length} so far).
          </p>
          <button
            type="button"
            className="big-button secondary"
            data-testid="zone-undo"
            disabled={draft.corners.length === 0}
            onClick={() => props.onChange({ ...draft, corners: draft.corners.slice(0, -1) })}
          >
            Undo last corner
          </button>
          <label className="field">
            <span>Kind</span>
            <select
              data-testid="zone-kind"
              value={draft.kind}
              onChange={(event) =>
                props.onChange({ ...draft, kind: event.target.value as ZoneKind })
              }
            >
              {ZONE_KINDS.map((entry) => (
                <option key={entry.kind} value={entry.kind}>
                  {entry.name}: {entry.hint}
                </option>
              ))}
            </select>
          </label>
          <div className="field-row">
            <label className="field">
              <span>Name</span>
              <input
                type="text"
                data-testid="zone-name"
                maxLength={60}
                value={draft.name}
                placeholder="Farm yard"
                onChange={(event) => props.onChange({ ...draft, name: event.target.value })}
              />
            </label>
            <label className="field">
              <span>Alert within (m)</span>
              <input
                type="number"
                inputMode="decimal"
                min={0}
                data-testid="zone-alert-distance"
                value={draft.alertDistanceText}
                onChange={(event) =>
                  props.onChange({ ...draft, alertDistanceText: event.target.value })
                }
              />
            </label>
          </div>
          {checked && 'error' in checked ? (
            <p className="hint warn" data-testid="zone-draft-error">
              {checked.error}
            </p>
          ) : null}
          <button
            type="button"
            className="big-button go"
            data-testid="zone-save"
            disabled={!checked || 'error' in checked || props.busy}
            onClick={() => {
              if (checked && 'zone' in checked) props.onSave(checked.zone);
            }}
          >
            Save zone
          </button>
          <button
            type="button"
            className="big-button secondary"
            data-testid="zone-cancel"
            onClick={props.onCancel}
          >
            Cancel
          </button>
        </div>
      )}
    </section>
  );
}
