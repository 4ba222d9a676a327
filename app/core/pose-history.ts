// Recent vehicle poses with the time each arrived, so a video frame is georeferenced with the
// pose the drone had when the frame was taken, not with the newest telemetry. At 5 m/s and a
// 300 ms video delay the newest pose is 1.5 m off; a turning gimbal makes it far worse.

import { normalizeDeg, offsetNorthEast, northEastOf } from './geodesy';
import type { AttitudeDeg, GimbalState, GlobalPosition } from './types';

export interface PoseSample {
  /** When the pose was true (ms since epoch): telemetry arrival time in the station. */
  timeMs: number;
  position: GlobalPosition;
  attitude: AttitudeDeg;
  /** Null when the vehicle reports no gimbal. */
  gimbal: GimbalState | null;
}

export interface PoseHistoryOptions {
  /** Most samples kept; the oldest go first. */
  capacity?: number;
  /** Samples older than this, counted back from the newest, are dropped. */
  maxAgeMs?: number;
  /**
   * How far a frame may lie outside the buffer and still take the nearest pose: telemetry
   * comes a few times a second, so the newest pose is often a little older than a frame.
   */
  clampToleranceMs?: number;
  /** Two bracketing samples further apart than this say telemetry stalled: no pose. */
  maxGapMs?: number;
}

export type PoseAt =
  | {
      ok: true;
      sample: PoseSample;
      /** How the pose was found: interpolated, or held from the nearest sample. */
      method: 'interpolated' | 'exact' | 'held-newest' | 'held-oldest' | 'held-nearest';
      /** Milliseconds between the frame and the nearest sample used. */
      offsetMs: number;
    }
  | { ok: false; reason: string };

const DEFAULTS: Required<PoseHistoryOptions> = {
  capacity: 2000,
  maxAgeMs: 60_000,
  clampToleranceMs: 500,
  maxGapMs: 3000,
};

/** Shortest way round the circle: from 359 to 1 is +2, not -358. */
export function interpolateAngleDeg(fromDeg: number, toDeg: number, fraction: number): number {
  const deltaDeg = ((((toDeg - fromDeg) % 360) + 540) % 360) - 180;
  return fromDeg + deltaDeg * fraction;
}

const lerp = (a: number, b: number, fraction: number): number => a + (b - a) * fraction;

function checkSample(sample: PoseSample): void {
  const values: Record<string, number> = {
    timeMs: sample.timeMs,
    latDeg: sample.position.latDeg,
    lonDeg: sample.position.lonDeg,
    altitudeMslM: sample.position.altitudeMslM,
    altitudeRelM: sample.position.altitudeRelM,
    'attitude rollDeg': sample.attitude.rollDeg,
    'attitude pitchDeg': sample.attitude.pitchDeg,
    'attitude yawDeg': sample.attitude.yawDeg,
  };
  if (sample.gimbal) {
    values['gimbal pitchDeg'] = sample.gimbal.pitchDeg;
    values['gimbal rollDeg'] = sample.gimbal.rollDeg;
    values['gimbal yawDeg'] = sample.gimbal.yawDeg;
  }
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`pose sample: ${name} is not a finite number (${String(value)})`);
    }
  }
  if (Math.abs(sample.position.latDeg) > 90 || Math.abs(sample.position.lonDeg) > 180) {
    throw new Error(
      `pose sample: position ${sample.position.latDeg},${sample.position.lonDeg} is not on Earth`,
    );
  }
}

function interpolateGimbal(
  a: GimbalState | null,
  b: GimbalState | null,
  fraction: number,
): GimbalState | null {
  // A gimbal that appears, disappears or changes yaw frame cannot be blended: take the nearer.
  if (!a || !b || a.yawFrame !== b.yawFrame) return fraction < 0.5 ? a : b;
  return {
    pitchDeg: interpolateAngleDeg(a.pitchDeg, b.pitchDeg, fraction),
    rollDeg: interpolateAngleDeg(a.rollDeg, b.rollDeg, fraction),
    yawDeg: normalizeAngle(interpolateAngleDeg(a.yawDeg, b.yawDeg, fraction), a.yawDeg),
    yawFrame: a.yawFrame,
  };
}

/** Keeps the convention of the input: headings in 0..360, signed mount angles stay signed. */
function normalizeAngle(valueDeg: number, likeDeg: number): number {
  if (likeDeg >= 0 && likeDeg <= 360) return normalizeDeg(valueDeg);
  return ((((valueDeg + 180) % 360) + 360) % 360) - 180;
}

export function interpolatePose(a: PoseSample, b: PoseSample, timeMs: number): PoseSample {
  const spanMs = b.timeMs - a.timeMs;
  const fraction = spanMs <= 0 ? 0 : Math.min(1, Math.max(0, (timeMs - a.timeMs) / spanMs));
  // Positions blend in metres on the local plane; a few metres between samples is flat.
  const { northM, eastM } = northEastOf(a.position, b.position);
  const point = offsetNorthEast(a.position, northM * fraction, eastM * fraction);
  return {
    timeMs,
    position: {
      latDeg: point.latDeg,
      lonDeg: point.lonDeg,
      altitudeMslM: lerp(a.position.altitudeMslM, b.position.altitudeMslM, fraction),
      altitudeRelM: lerp(a.position.altitudeRelM, b.position.altitudeRelM, fraction),
    },
    attitude: {
      rollDeg: interpolateAngleDeg(a.attitude.rollDeg, b.attitude.rollDeg, fraction),
      pitchDeg: interpolateAngleDeg(a.attitude.pitchDeg, b.attitude.pitchDeg, fraction),
      yawDeg: normalizeDeg(interpolateAngleDeg(a.attitude.yawDeg, b.attitude.yawDeg, fraction)),
    },
    gimbal: interpolateGimbal(a.gimbal, b.gimbal, fraction),
  };
}

/** A bounded, time-ordered buffer of poses. */
export class PoseHistory {
  private readonly samples: PoseSample[] = [];
  private readonly options: Required<PoseHistoryOptions>;

  constructor(options: PoseHistoryOptions = {}) {
    this.options = { ...DEFAULTS, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (!(Number.isFinite(value) && value > 0)) {
        throw new Error(`pose history: ${name} must be a positive number, not ${value}`);
      }
    }
  }

  get size(): number {
    return this.samples.length;
  }

  get newest(): PoseSample | null {
    return this.samples[this.samples.length - 1] ?? null;
  }

  get oldest(): PoseSample | null {
    return this.samples[0] ?? null;
  }

  clear(): void {
    this.samples.length = 0;
  }

  /**
   * Adds a pose. Out-of-order samples are placed by time; one at the same time as an existing
   * sample replaces it. Throws on non-finite numbers.
   */
  push(sample: PoseSample): void {
    checkSample(sample);
    const copy = copySample(sample);
    let index = this.samples.length;
    while (index > 0 && this.samples[index - 1].timeMs > copy.timeMs) index -= 1;
    if (index > 0 && this.samples[index - 1].timeMs === copy.timeMs) {
      this.samples[index - 1] = copy;
    } else {
      this.samples.splice(index, 0, copy);
    }
    const newestMs = this.samples[this.samples.length - 1].timeMs;
    while (
      this.samples.length > this.options.capacity ||
      (this.samples.length > 1 && newestMs - this.samples[0].timeMs > this.options.maxAgeMs)
    ) {
      this.samples.shift();
    }
  }

  /** The pose at `timeMs`, interpolated between the samples either side of it. */
  at(timeMs: number): PoseAt {
    if (!Number.isFinite(timeMs)) return { ok: false, reason: `frame time ${timeMs} is invalid` };
    const oldest = this.oldest;
    const newest = this.newest;
    if (!oldest || !newest) return { ok: false, reason: 'no vehicle position yet' };
    const { clampToleranceMs, maxGapMs } = this.options;
    if (timeMs > newest.timeMs) {
      const aheadMs = timeMs - newest.timeMs;
      if (aheadMs > clampToleranceMs) {
        return {
          ok: false,
          reason:
            `frame is ${Math.round(aheadMs)} ms newer than the newest vehicle pose ` +
            `(more than ${clampToleranceMs} ms): telemetry is late or stopped`,
        };
      }
      return { ok: true, sample: { ...newest, timeMs }, method: 'held-newest', offsetMs: aheadMs };
    }
    if (timeMs < oldest.timeMs) {
      const behindMs = oldest.timeMs - timeMs;
      if (behindMs > clampToleranceMs) {
        return {
          ok: false,
          reason:
            `frame is ${Math.round(behindMs)} ms older than the oldest vehicle pose kept ` +
            `(the history holds ${Math.round((newest.timeMs - oldest.timeMs) / 1000)} s)`,
        };
      }
      return { ok: true, sample: { ...oldest, timeMs }, method: 'held-oldest', offsetMs: behindMs };
    }
    let high = this.samples.findIndex((s) => s.timeMs >= timeMs);
    if (high < 0) high = this.samples.length - 1;
    const after = this.samples[high];
    if (after.timeMs === timeMs) return { ok: true, sample: after, method: 'exact', offsetMs: 0 };
    const before = this.samples[high - 1];
    const gapMs = after.timeMs - before.timeMs;
    const offsetMs = Math.min(timeMs - before.timeMs, after.timeMs - timeMs);
    if (gapMs > maxGapMs) {
      if (offsetMs <= clampToleranceMs) {
        const nearest = timeMs - before.timeMs <= after.timeMs - timeMs ? before : after;
        return { ok: true, sample: { ...nearest, timeMs }, method: 'held-nearest', offsetMs };
      }
      return {
        ok: false,
        reason:
          `frame falls in a ${Math.round(gapMs)} ms gap in telemetry ` +
          `(more than ${maxGapMs} ms): the pose then is unknown`,
      };
    }
    return {
      ok: true,
      sample: interpolatePose(before, after, timeMs),
      method: 'interpolated',
      offsetMs,
    };
  }
}

function copySample(sample: PoseSample): PoseSample {
  return {
    timeMs: sample.timeMs,
    position: { ...sample.position },
    attitude: { ...sample.attitude },
    gimbal: sample.gimbal ? { ...sample.gimbal } : null,
  };
}
