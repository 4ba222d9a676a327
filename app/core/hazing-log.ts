// The hazing log: a legal record. Using aircraft to harass wildlife is a crime in the US except
// for agency staff and permit holders, so every hazing event says who, under what authority,
// which bear, what was flown, what happened, and every operator action with its time. Pure:
// no Node or DOM.

import type { PatternSettings } from './patterns';
import type { LatLon } from './types';

export interface HazingOperator {
  operatorName: string;
  /** The agency, or the permit number the hazing is done under. */
  agencyOrPermitId: string;
}

export type HazingOutcome =
  | 'success'
  | 'finished'
  | 'aborted'
  | 'failed'
  | 'battery'
  | 'link-lost'
  | 'mode-changed'
  | 'lost-bear';

export interface HazingAction {
  timeMs: number;
  /** e.g. start, nudge, abort, return-home, land, speaker-on, hold (a rule stopped it). */
  action: string;
  detail: string;
}

export interface HazingEvent {
  /** Unique within the flight record, e.g. "2026-12-04T21-58-00Z-1". */
  id: string;
  operator: HazingOperator;
  /** The bear's track id; null for a search. */
  trackId: number | null;
  pattern: PatternSettings;
  startedMs: number;
  /** Null while it flies. */
  endedMs: number | null;
  bearStart: LatLon | null;
  bearEnd: LatLon | null;
  droneStart: LatLon | null;
  droneEnd: LatLon | null;
  /** Straight-line distance between bearStart and bearEnd. */
  bearMovedM: number | null;
  durationS: number | null;
  /** Null while it flies. */
  outcome: HazingOutcome | null;
  actions: HazingAction[];
}
