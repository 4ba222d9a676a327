// What the battery allows, for the envelope's battery rule: the drain measured from the
// vehicle's own remaining-percent over the last minute of flight, an assumed drain until there
// is half a minute of it, and how fast the vehicle flies home and comes down.

import type { BatteryBudget } from '../../core/envelope';

/** The drain is measured over this window of flight. */
const WINDOW_MS = 60_000;
/** Less flight than this is too little to measure a drain from 1 % steps. */
const MIN_SPAN_MS = 30_000;
/** Until measured: a small multirotor empties in about 15 minutes of flight. */
export const ASSUMED_DRAIN_PCT_PER_S = 0.1;
/** Without WPNAV_SPEED, ArduCopter's default return speed. */
export const DEFAULT_RETURN_SPEED_MPS = 5;
export const DESCENT_SPEED_MPS = 1.5;

interface Sample {
  timeMs: number;
  remainingPct: number;
}

export class BatteryMeter {
  private samples: Sample[] = [];
  private remainingPct: number | null = null;

  /** One reading; only readings in flight measure the drain (a parked drone uses little). */
  sample(timeMs: number, remainingPct: number | null, flying: boolean): void {
    this.remainingPct =
      remainingPct !== null && Number.isFinite(remainingPct) ? remainingPct : null;
    if (this.remainingPct === null || !flying) {
      // A gap in flight (landed, no reading) starts the measure again.
      this.samples = [];
      return;
    }
    const last = this.samples[this.samples.length - 1];
    if (last && timeMs <= last.timeMs) return;
    this.samples.push({ timeMs, remainingPct: this.remainingPct });
    while (this.samples.length > 2 && timeMs - this.samples[1].timeMs >= WINDOW_MS) {
      this.samples.shift();
    }
  }

  /** Percent per second: measured once there is enough flight, never below the assumed drain. */
  get drainPctPerS(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.timeMs - first.timeMs < MIN_SPAN_MS) {
      return ASSUMED_DRAIN_PCT_PER_S;
    }
    const drain = (first.remainingPct - last.remainingPct) / ((last.timeMs - first.timeMs) / 1000);
    // Never below the assumed drain: a reading that stalls, or rises as voltage sag recovers,
    // must not make the way home look free.
    return Math.max(ASSUMED_DRAIN_PCT_PER_S, drain);
  }

  /** Null where the vehicle reports no remaining percent: the battery rule does not apply. */
  budget(returnSpeedMps: number | null): BatteryBudget | null {
    if (this.remainingPct === null) return null;
    const speed =
      returnSpeedMps !== null && Number.isFinite(returnSpeedMps) && returnSpeedMps > 0
        ? returnSpeedMps
        : DEFAULT_RETURN_SPEED_MPS;
    return {
      remainingPct: this.remainingPct,
      drainPctPerS: this.drainPctPerS,
      returnSpeedMps: speed,
      descentSpeedMps: DESCENT_SPEED_MPS,
    };
  }
}
