// How a screen folds the station's messages into what it shows: the live client and a
// replay's journal both use these, so a replay shows exactly what was on screen.

import type { HazingEvent } from './hazing-log';
import type { ZoneAlert } from './zones';

/** Station log entries kept on screen, newest last. */
export const LOG_LIMIT = 300;

/** Hazing log entries kept on screen; the station keeps them all. */
export const HAZING_EVENTS_KEPT = 50;

/** Replaces an entry with its newer state, or adds it; oldest first, at most HAZING_EVENTS_KEPT. */
export function mergeHazingEvent(events: HazingEvent[], event: HazingEvent): HazingEvent[] {
  const index = events.findIndex((known) => known.id === event.id);
  if (index >= 0) return events.map((known, i) => (i === index ? event : known));
  return [...events, event].slice(-HAZING_EVENTS_KEPT);
}

/** Acknowledged alerts kept for the record on screen; open ones are always kept. */
const ACKNOWLEDGED_ALERTS_KEPT = 20;

export function mergeAlert(alerts: ZoneAlert[], alert: ZoneAlert): ZoneAlert[] {
  const next = alerts.filter((known) => known.id !== alert.id);
  next.push(alert);
  next.sort((a, b) => a.id - b.id);
  const acknowledged = next.filter((known) => known.acknowledgedMs !== null);
  const drop = new Set(
    acknowledged.slice(0, Math.max(0, acknowledged.length - ACKNOWLEDGED_ALERTS_KEPT)),
  );
  return next.filter((known) => !drop.has(known));
}
