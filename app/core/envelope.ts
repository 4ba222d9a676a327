// The safety envelope: the rules every single setpoint must keep before the station sends it.
// Pure: no Node or DOM. Horizontal geometry works in a local plane around the setpoint (the
// envelope spans at most a few kilometres, where the flat-earth error is far below GPS error).

import type { LatLon } from './types';

export interface EnvelopeLimits {
  /** Lowest height above the ground under the setpoint. */
  floorAglM: number;
  /** Highest height above the ground: 120 m is the US Part 107 limit of 400 ft. */
  ceilingAglM: number;
  /** No setpoint, and no straight path to one, nearer than this to any tracked bear. */
  bearStandoffM: number;
  /** No setpoint, and no straight path to one, over or within this of any person. */
  personRadiusM: number;
  /** Battery that must be left on landing at home after flying back from the setpoint. */
  batteryReservePct: number;
}

export const DEFAULT_ENVELOPE: EnvelopeLimits = {
  floorAglM: 10,
  ceilingAglM: 120,
  bearStandoffM: 20,
  personRadiusM: 30,
  batteryReservePct: 20,
};

/** What the operator or a config may set each limit to. */
export const ENVELOPE_RANGES: Record<keyof EnvelopeLimits, { min: number; max: number }> = {
  floorAglM: { min: 5, max: 60 },
  ceilingAglM: { min: 20, max: 120 },
  bearStandoffM: { min: 10, max: 100 },
  personRadiusM: { min: 10, max: 200 },
  batteryReservePct: { min: 10, max: 60 },
};

/** The rules, in the order they are checked; the first broken one is the one reported. */
export type EnvelopeRule =
  | 'position'
  | 'link'
  | 'altitude-floor'
  | 'altitude-ceiling'
  | 'geofence'
  | 'no-fly-zone'
  | 'person'
  | 'bear-standoff'
  | 'battery';

export interface Violation {
  rule: EnvelopeRule;
  /** Words for the operator: which rule, and by how much, e.g. "person 12 m from the path". */
  text: string;
}

/** Where the station asks the drone to be. */
export interface Setpoint extends LatLon {
  /** Height above the ground under the setpoint (flat ground at home where no terrain). */
  altitudeAglM: number;
}

/**
 * What the battery allows: remainingPct now, the measured (or, before there is a measure, an
 * assumed) drain while flying, and how fast the vehicle flies home and descends.
 */
export interface BatteryBudget {
  remainingPct: number;
  drainPctPerS: number;
  returnSpeedMps: number;
  descentSpeedMps: number;
}

/** Everything the rules look at, as the station knows it at the moment of the setpoint. */
export interface EnvelopeWorld {
  /** The drone now: the straight path from here to the setpoint is checked as well. */
  drone: LatLon & { altitudeAglM: number };
  home: LatLon;
  /** Every tracked bear, not just the one being hazed. */
  bears: LatLon[];
  /** Every person known: detected tracks (remembered a while) and people the operator marked. */
  people: LatLon[];
  /** Inclusion polygons: when any exist, the setpoint and path stay inside one of them. */
  fences: LatLon[][];
  /** Exclusion polygons (school buildings, roads): never entered, never crossed. */
  noFlyZones: LatLon[][];
  /** Null where the vehicle reports no battery: the battery rule then does not apply. */
  battery: BatteryBudget | null;
  linkUp: boolean;
}
