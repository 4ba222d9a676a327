// The replay's timeline axis, built from the record times of a flight record in file order.
// Pure: no Node or DOM.
//
// Axis time is 0 at the first record and never decreases. Inside a run of records it follows the
// records' clock one to one. A forward gap of more than GAP_THRESHOLD_US is a 'gap' break that
// takes min(gap, GAP_MAX_AXIS_US) of axis, with time linear across it; a step back of more than
// JUMP_BACK_THRESHOLD_US (another session written into the same file) is a 'jump-back' break of
// JUMP_BACK_AXIS_US. Smaller steps back are clamped: the record takes the axis of the one before,
// and a new run starts there so that axis and time stay one to one within each run.

import type { ReplayBreak } from './replay';

export const GAP_THRESHOLD_US = 5_000_000;
export const GAP_MAX_AXIS_US = 60_000_000;
export const JUMP_BACK_THRESHOLD_US = 1_000_000;
export const JUMP_BACK_AXIS_US = 2_000_000;

export interface TimelineBreakUs {
  kind: 'gap' | 'jump-back';
  axisStartUs: number;
  axisEndUs: number;
  /** Record times either side. */
  fromUs: number;
  toUs: number;
}

/** Records whose axis and time move together one to one. */
interface Run {
  axisStartUs: number;
  axisEndUs: number;
  timeStartUs: number;
}

/** A run or a break, in axis order. */
type Piece = { run: Run; gap: null } | { run: null; gap: TimelineBreakUs };

/**
 * The axis of a record, from the record before it. The builder uses it, and so can a reader
 * that resumes from a known record in the middle of a file.
 */
export function nextAxisUs(previousTimeUs: number, previousAxisUs: number, timeUs: number): number {
  const stepUs = timeUs - previousTimeUs;
  if (stepUs > GAP_THRESHOLD_US) return previousAxisUs + Math.min(stepUs, GAP_MAX_AXIS_US);
  if (stepUs < -JUMP_BACK_THRESHOLD_US) return previousAxisUs + JUMP_BACK_AXIS_US;
  return previousAxisUs + Math.max(0, stepUs);
}

function checkFinite(name: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new Error(`${name} must be a finite number, got ${String(value)}`);
  }
}

export class TimelineBuilder {
  private readonly pieces: Piece[] = [];
  private readonly breaks: TimelineBreakUs[] = [];
  private run: Run | null = null;
  private firstUs = 0;
  private lastUs = 0;
  private minUs = Infinity;
  private maxUs = -Infinity;

  /** Adds the next record in file order; returns its axis position. */
  add(timeUs: number): number {
    checkFinite('TimelineBuilder.add: timeUs', timeUs);
    if (timeUs < this.minUs) this.minUs = timeUs;
    if (timeUs > this.maxUs) this.maxUs = timeUs;
    const run = this.run;
    if (!run) {
      this.firstUs = timeUs;
      this.lastUs = timeUs;
      this.startRun(0, timeUs);
      return 0;
    }
    const previousUs = this.lastUs;
    const previousAxisUs = run.axisEndUs;
    const axisUs = nextAxisUs(previousUs, previousAxisUs, timeUs);
    this.lastUs = timeUs;
    const stepUs = timeUs - previousUs;
    if (stepUs > GAP_THRESHOLD_US || stepUs < -JUMP_BACK_THRESHOLD_US) {
      const gap: TimelineBreakUs = {
        kind: stepUs > 0 ? 'gap' : 'jump-back',
        axisStartUs: previousAxisUs,
        axisEndUs: axisUs,
        fromUs: previousUs,
        toUs: timeUs,
      };
      this.breaks.push(gap);
      this.pieces.push({ run: null, gap });
      this.startRun(axisUs, timeUs);
    } else if (stepUs < 0) {
      // Clamped: the axis stands still while the clock steps back, so a new run begins.
      this.startRun(axisUs, timeUs);
    } else {
      run.axisEndUs = axisUs;
    }
    return axisUs;
  }

  /** Throws when no record was added: an axis needs at least one. */
  build(): TimelineAxis {
    if (!this.run) throw new Error('a timeline needs at least one record');
    return new TimelineAxis(
      this.pieces.map((piece) => (piece.run ? { run: { ...piece.run }, gap: null } : piece)),
      [...this.breaks],
      { startUs: this.firstUs, endUs: this.lastUs, minUs: this.minUs, maxUs: this.maxUs },
    );
  }

  private startRun(axisUs: number, timeUs: number): void {
    const run: Run = { axisStartUs: axisUs, axisEndUs: axisUs, timeStartUs: timeUs };
    this.run = run;
    this.pieces.push({ run, gap: null });
  }
}

export class TimelineAxis {
  /** Time of the first and the last record in file order. */
  readonly startUs: number;
  readonly endUs: number;
  readonly axisEndUs: number;
  readonly breaks: readonly TimelineBreakUs[];
  /** The earliest and the latest record time: after a jump back, not the first and last. */
  readonly minUs: number;
  readonly maxUs: number;
  private readonly pieces: readonly Piece[];

  /** Made by TimelineBuilder.build. */
  constructor(
    pieces: Piece[],
    breaks: TimelineBreakUs[],
    times: { startUs: number; endUs: number; minUs: number; maxUs: number },
  ) {
    this.pieces = pieces;
    this.breaks = breaks;
    this.startUs = times.startUs;
    this.endUs = times.endUs;
    this.minUs = times.minUs;
    this.maxUs = times.maxUs;
    const last = pieces[pieces.length - 1];
    this.axisEndUs = last.run ? last.run.axisEndUs : last.gap.axisEndUs;
  }

  /**
   * The axis position of a record time: in the first run (in file order) that holds it, or
   * linearly inside a gap. Earlier than every record: 0; later than every record: the end. A
   * time no run holds (skipped over by a jump back) goes to the next recorded moment after it.
   */
  timeToAxisUs(timeUs: number): number {
    checkFinite('timeToAxisUs: timeUs', timeUs);
    if (timeUs < this.minUs) return 0;
    if (timeUs > this.maxUs) return this.axisEndUs;
    for (const { run, gap } of this.pieces) {
      if (run) {
        const timeEndUs = run.timeStartUs + (run.axisEndUs - run.axisStartUs);
        if (timeUs >= run.timeStartUs && timeUs <= timeEndUs) {
          return run.axisStartUs + (timeUs - run.timeStartUs);
        }
      } else if (gap.kind === 'gap' && timeUs > gap.fromUs && timeUs < gap.toUs) {
        const fraction = (timeUs - gap.fromUs) / (gap.toUs - gap.fromUs);
        return gap.axisStartUs + fraction * (gap.axisEndUs - gap.axisStartUs);
      }
    }
    for (const { run } of this.pieces) {
      if (run && run.timeStartUs > timeUs) return run.axisStartUs;
    }
    return this.axisEndUs;
  }

  /**
   * The record time at an axis position. Runs own their ends, breaks only their insides: at a
   * break's start the time is the record before it, at its end the record after. Where runs
   * meet (a clamped step back) the later run answers, as the last record at that axis.
   * Inside a gap time is linear; inside a jump back it stays at the record before it.
   */
  axisToTimeUs(axisUs: number): { timeUs: number; inBreak: TimelineBreakUs | null } {
    checkFinite('axisToTimeUs: axisUs', axisUs);
    if (axisUs < 0) return { timeUs: this.startUs, inBreak: null };
    if (axisUs > this.axisEndUs) return { timeUs: this.endUs, inBreak: null };
    const pieces = this.pieces;
    // The last piece that starts at or before axisUs.
    let low = 0;
    let high = pieces.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (pieceStartUs(pieces[middle]) <= axisUs) low = middle;
      else high = middle - 1;
    }
    let piece = pieces[low];
    if (piece.gap && piece.gap.axisStartUs === axisUs && low > 0) piece = pieces[low - 1];
    if (piece.run) {
      return { timeUs: piece.run.timeStartUs + (axisUs - piece.run.axisStartUs), inBreak: null };
    }
    const gap = piece.gap;
    if (gap.kind === 'jump-back') return { timeUs: gap.fromUs, inBreak: gap };
    const fraction = (axisUs - gap.axisStartUs) / (gap.axisEndUs - gap.axisStartUs);
    return { timeUs: gap.fromUs + fraction * (gap.toUs - gap.fromUs), inBreak: gap };
  }

  /**
   * The earliest and the latest record time in an axis span (runs clipped to it), or null
   * when no record lies in it. After a jump back these are not the times at the span's ends.
   */
  timeRangeUs(fromAxisUs: number, toAxisUs: number): { minUs: number; maxUs: number } | null {
    checkFinite('timeRangeUs: fromAxisUs', fromAxisUs);
    checkFinite('timeRangeUs: toAxisUs', toAxisUs);
    let minUs = Infinity;
    let maxUs = -Infinity;
    for (const { run } of this.pieces) {
      if (!run || run.axisEndUs < fromAxisUs || run.axisStartUs > toAxisUs) continue;
      const startUs = run.timeStartUs + (Math.max(fromAxisUs, run.axisStartUs) - run.axisStartUs);
      const endUs = run.timeStartUs + (Math.min(toAxisUs, run.axisEndUs) - run.axisStartUs);
      if (startUs < minUs) minUs = startUs;
      if (endUs > maxUs) maxUs = endUs;
    }
    return minUs <= maxUs ? { minUs, maxUs } : null;
  }

  /** The breaks as the protocol carries them, in milliseconds. */
  replayBreaks(): ReplayBreak[] {
    return this.breaks.map((gap) => ({
      kind: gap.kind,
      axisStartMs: gap.axisStartUs / 1000,
      axisEndMs: gap.axisEndUs / 1000,
      fromMs: gap.fromUs / 1000,
      toMs: gap.toUs / 1000,
    }));
  }
}

function pieceStartUs(piece: Piece): number {
  return piece.run ? piece.run.axisStartUs : piece.gap.axisStartUs;
}
