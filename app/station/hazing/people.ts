// The people the safety envelope keeps clear of: persons the detector tracked, remembered a
// while after they were last seen (someone behind a tree is still there), and people the
// operator marked by hand (a colleague, the truck), kept until removed.

import type { KnownPerson } from '../../core/protocol';
import type { LatLon, MapTarget } from '../../core/types';

/** A detected person is kept this long after the detector last saw them. */
export const PERSON_MEMORY_MS = 10 * 60_000;
/** At most this many marks: each one is checked against every setpoint. */
const MAX_MARKS = 100;
/** Dismissed track ids kept; tracks far older than the newest are long gone. */
const MAX_DISMISSED = 1000;

export class KnownPeople {
  private readonly detected = new Map<number, KnownPerson>();
  private readonly marked = new Map<string, KnownPerson>();
  /**
   * Detected tracks the operator removed as not a person (the model calls a bear a person
   * now and then): kept out for the track's life, not just until the next map update.
   */
  private readonly dismissed = new Set<number>();
  private nextMark = 1;

  constructor(private readonly memoryMs = PERSON_MEMORY_MS) {}

  /**
   * Folds in the map's targets: every 'person' among them. Returns what changed: 'list' when
   * someone came or went, 'moved' when only positions changed, null when nothing did.
   */
  update(targets: readonly MapTarget[], nowMs: number): 'list' | 'moved' | null {
    let change: 'list' | 'moved' | null = null;
    for (const target of targets) {
      if (target.className !== 'person' || this.dismissed.has(target.id)) continue;
      const before = this.detected.get(target.id);
      if (before && before.lastSeenMs >= target.lastSeenMs) continue;
      this.detected.set(target.id, {
        id: `track-${target.id}`,
        source: 'detected',
        position: { latDeg: target.position.latDeg, lonDeg: target.position.lonDeg },
        lastSeenMs: target.lastSeenMs,
      });
      if (!before) change = 'list';
      else if (
        change === null &&
        (before.position.latDeg !== target.position.latDeg ||
          before.position.lonDeg !== target.position.lonDeg)
      ) {
        change = 'moved';
      }
    }
    for (const [trackId, person] of this.detected) {
      if (nowMs - person.lastSeenMs > this.memoryMs) {
        this.detected.delete(trackId);
        change = 'list';
      }
    }
    return change;
  }

  mark(position: LatLon, nowMs: number): KnownPerson {
    const { latDeg, lonDeg } = position ?? ({} as Partial<LatLon>);
    if (
      typeof latDeg !== 'number' ||
      typeof lonDeg !== 'number' ||
      !Number.isFinite(latDeg) ||
      !Number.isFinite(lonDeg) ||
      Math.abs(latDeg) > 90 ||
      Math.abs(lonDeg) > 180
    ) {
      throw new Error(
        `a marked person needs a position with latDeg -90..90 and lonDeg -180..180, got ` +
          JSON.stringify(position),
      );
    }
    if (this.marked.size >= MAX_MARKS) {
      throw new Error(`at most ${MAX_MARKS} people can be marked; remove one first`);
    }
    const person: KnownPerson = {
      id: `mark-${this.nextMark++}`,
      source: 'marked',
      position: { latDeg, lonDeg },
      lastSeenMs: nowMs,
    };
    this.marked.set(person.id, person);
    return person;
  }

  /** Forgets a mark or a detected person; throws naming an id that is not known. */
  remove(personId: string): KnownPerson {
    const marked = this.marked.get(personId);
    if (marked) {
      this.marked.delete(personId);
      return marked;
    }
    for (const [trackId, person] of this.detected) {
      if (person.id !== personId) continue;
      this.detected.delete(trackId);
      if (this.dismissed.size >= MAX_DISMISSED) this.dismissed.clear();
      this.dismissed.add(trackId);
      return person;
    }
    throw new Error(`no person "${personId}" is known`);
  }

  /** Everyone known now: detected first, then marks, each a copy. */
  list(nowMs: number): KnownPerson[] {
    return [...this.detected.values(), ...this.marked.values()]
      .filter((person) => person.source === 'marked' || nowMs - person.lastSeenMs <= this.memoryMs)
      .map((person) => ({ ...person, position: { ...person.position } }));
  }
}
