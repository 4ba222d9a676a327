// How well a link carries: packets per second and the share lost, from the gaps in each
// sender's sequence numbers (every MAVLink frame carries one, counting 0..255 per system and
// component). Counted in one-second buckets over a short window, so the numbers follow the
// radio as it is now, not as it was an hour ago.

/** Seconds of history the rates and the loss are taken over. */
const WINDOW_S = 5;
/**
 * A jump forward larger than this is a reorder, a duplicate or a restarted sender, not that
 * many frames lost in a row.
 */
const MAX_COUNTED_GAP = 128;

export interface LinkCounts {
  packetsPerSecond: number;
  /** Share of frames lost over the window, 0..100; null before anything was heard. */
  lossPct: number | null;
  /** Frames received since the link opened. */
  packetsTotal: number;
  /** Frames missing from sequence gaps since the link opened. */
  lostTotal: number;
}

interface Bucket {
  second: number;
  received: number;
  lost: number;
}

export class LinkHealthMeter {
  private readonly lastSequence = new Map<number, number>();
  private readonly buckets: Bucket[] = [];
  private packetsTotal = 0;
  private lostTotal = 0;
  private readonly startedMs: number;

  constructor(private readonly nowMs: () => number = () => performance.now()) {
    this.startedMs = nowMs();
  }

  /** One frame from (systemId, componentId) with its sequence number. */
  frame(systemId: number, componentId: number, sequence: number): void {
    const key = (systemId << 8) | componentId;
    const previous = this.lastSequence.get(key);
    this.lastSequence.set(key, sequence);
    let lost = 0;
    if (previous !== undefined) {
      const gap = (sequence - previous - 1) & 0xff;
      if (gap <= MAX_COUNTED_GAP) lost = gap;
    }
    const bucket = this.bucket();
    bucket.received++;
    bucket.lost += lost;
    this.packetsTotal++;
    this.lostTotal += lost;
  }

  /**
   * The stream restarted (a reconnect): sequence numbers start afresh, and the time away is
   * an outage, not lost frames.
   */
  restart(): void {
    this.lastSequence.clear();
  }

  get counts(): LinkCounts {
    const nowS = this.second();
    const recent = this.buckets.filter((b) => b.second < nowS && b.second >= nowS - WINDOW_S);
    const received = recent.reduce((sum, b) => sum + b.received, 0);
    const lost = recent.reduce((sum, b) => sum + b.lost, 0);
    // A link younger than the window is averaged over the seconds it has lived.
    const livedS = Math.min(WINDOW_S, Math.max(1, nowS - Math.floor(this.startedMs / 1000)));
    return {
      packetsPerSecond: received / livedS,
      lossPct: received + lost > 0 ? (100 * lost) / (received + lost) : null,
      packetsTotal: this.packetsTotal,
      lostTotal: this.lostTotal,
    };
  }

  private second(): number {
    return Math.floor(this.nowMs() / 1000);
  }

  private bucket(): Bucket {
    const second = this.second();
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.second === second) return last;
    const bucket: Bucket = { second, received: 0, lost: 0 };
    this.buckets.push(bucket);
    while (this.buckets.length > 0 && this.buckets[0].second < second - WINDOW_S) {
      this.buckets.shift();
    }
    return bucket;
  }
}
